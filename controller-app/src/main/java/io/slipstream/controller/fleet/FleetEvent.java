package io.slipstream.controller.fleet;

import java.time.Instant;

/** Something that happened to the fleet, kept in a short history for operators. */
public final class FleetEvent {

    private final Instant at;
    private final String workerId;
    private final String kind;
    private final String detail;

    public FleetEvent(Instant at, String workerId, String kind, String detail) {
        this.at = at;
        this.workerId = workerId;
        this.kind = kind;
        this.detail = detail;
    }

    public Instant at() {
        return at;
    }

    public String workerId() {
        return workerId;
    }

    /**
     * joined, left, serving, not_serving, down, unregistered, expired, zookeeper, compression_fallback,
     * compression_unavailable, compression_available.
     */
    public String kind() {
        return kind;
    }

    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        return at + " " + kind + " " + workerId + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
