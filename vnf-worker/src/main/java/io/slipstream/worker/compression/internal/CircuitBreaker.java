package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.Ticker;

/**
 * Keeps a failing hardware provider out: CLOSED until {@code threshold} consecutive failures, then
 * OPEN for a back-off, then HALF_OPEN where one caller probes. A success closes it; a failed probe
 * opens it again with the back-off doubled (up to a maximum). Pure: time comes from a {@link Ticker}.
 */
public final class CircuitBreaker {

    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final long baseBackoffNanos;
    private final long maxBackoffNanos;
    private final Ticker ticker;

    private volatile State state = State.CLOSED;
    private int failures;
    private long backoffNanos;
    private long openUntil;
    private boolean probeInFlight;
    private long trips;
    private String lastReason = "";

    public CircuitBreaker(int threshold, long baseBackoffNanos, long maxBackoffNanos, Ticker ticker) {
        if (threshold < 1) {
            throw new IllegalArgumentException("threshold: " + threshold + " (expected: > 0)");
        }
        this.threshold = threshold;
        this.baseBackoffNanos = baseBackoffNanos;
        this.maxBackoffNanos = Math.max(baseBackoffNanos, maxBackoffNanos);
        this.backoffNanos = baseBackoffNanos;
        this.ticker = ticker;
    }

    /** Whether the caller may use the hardware now. In HALF_OPEN only one caller gets true (the probe). */
    public boolean allow() {
        if (state == State.CLOSED) {
            return true;
        }
        synchronized (this) {
            if (state == State.CLOSED) {
                return true;
            }
            if (state == State.OPEN && ticker.read() - openUntil >= 0) {
                state = State.HALF_OPEN;
                probeInFlight = false;
            }
            if (state == State.HALF_OPEN && !probeInFlight) {
                probeInFlight = true;
                return true;
            }
            return false;
        }
    }

    public void onSuccess() {
        if (state == State.CLOSED && failures == 0) {
            return;
        }
        synchronized (this) {
            failures = 0;
            backoffNanos = baseBackoffNanos;
            probeInFlight = false;
            state = State.CLOSED;
            lastReason = "";
        }
    }

    /** A failure that counts against the hardware; {@code reason} is kept for the provider state. */
    public synchronized void onFailure(String reason) {
        lastReason = reason;
        if (state == State.HALF_OPEN) {
            backoffNanos = Math.min(maxBackoffNanos, backoffNanos * 2);
            open();
            return;
        }
        if (state == State.CLOSED && ++failures >= threshold) {
            open();
        }
    }

    /** A hardware attempt ended neither in success nor failure (e.g. queue full): let another probe. */
    public synchronized void neutral() {
        if (state == State.HALF_OPEN) {
            probeInFlight = false;
        }
    }

    /** The probe could not run (e.g. the provider reports unavailable): stay open for another back-off. */
    public synchronized void probeSkipped(String reason) {
        if (state == State.HALF_OPEN) {
            lastReason = reason;
            open();
        }
    }

    private void open() {
        state = State.OPEN;
        probeInFlight = false;
        openUntil = ticker.read() + backoffNanos;
        trips++;
    }

    public State state() {
        return state;
    }

    public synchronized long trips() {
        return trips;
    }

    /** Why the breaker is not closed; empty when closed. */
    public synchronized String reason() {
        return state == State.CLOSED ? "" : "circuit " + state.name().toLowerCase(java.util.Locale.ROOT) + " after: " + lastReason;
    }
}
