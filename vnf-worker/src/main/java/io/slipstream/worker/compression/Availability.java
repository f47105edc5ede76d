package io.slipstream.worker.compression;

import java.util.Objects;

/** The result of a provider's availability probe: available, or not with the reason why. */
public final class Availability {

    private static final Availability AVAILABLE = new Availability(true, "");

    private final boolean available;
    private final String reason;

    private Availability(boolean available, String reason) {
        this.available = available;
        this.reason = reason;
    }

    public static Availability available() {
        return AVAILABLE;
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, Objects.requireNonNull(reason, "reason"));
    }

    /** Unavailable because of {@code cause} (typically a LinkageError from a native library). */
    public static Availability unavailable(String what, Throwable cause) {
        String message = cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return new Availability(false, what + ": " + cause.getClass().getName() + message);
    }

    public boolean isAvailable() {
        return available;
    }

    /** Why the provider is unavailable; empty when available. */
    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return available ? "available" : "unavailable (" + reason + ")";
    }
}
