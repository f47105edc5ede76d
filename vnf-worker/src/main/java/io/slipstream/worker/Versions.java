package io.slipstream.worker;

/** The software version, from the jar manifest when packaged. */
final class Versions {

    private Versions() {}

    static String current() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
