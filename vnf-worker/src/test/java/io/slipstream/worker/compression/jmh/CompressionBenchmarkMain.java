package io.slipstream.worker.compression.jmh;

/** Entry point for the JMH benchmarks: the same arguments as {@code org.openjdk.jmh.Main}. */
public final class CompressionBenchmarkMain {

    private CompressionBenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        String[] effective = args.length == 0 ? new String[] {CompressionBenchmark.class.getSimpleName()} : args;
        org.openjdk.jmh.Main.main(effective);
    }
}
