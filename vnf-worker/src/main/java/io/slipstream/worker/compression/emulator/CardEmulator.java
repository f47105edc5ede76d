package io.slipstream.worker.compression.emulator;

import io.slipstream.worker.compression.Availability;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An emulated compression card: a queue of fixed depth served by a few "engine" threads, an optional
 * per-request latency, and faults injected on demand — fail chosen requests, fail every Nth, corrupt
 * every Nth output, fail or corrupt requests with a probability (drawn from the seed and the request
 * number, so a seed replays the same faults), lose the device, pause the engines (so the queue fills).
 * Requests are numbered from 1 in submission order across all engines of the card. Thread-safe; the
 * controls take effect for requests that start after the call.
 */
public final class CardEmulator {

    private final int queueDepth;
    private final int engines;
    private final long latencyNanos;
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final Set<Long> failAt = ConcurrentHashMap.newKeySet();
    private volatile int failEvery;
    private volatile int corruptEvery;
    private volatile double failProbability;
    private volatile double corruptProbability;
    private volatile long seed = 1;
    private volatile boolean deviceLost;
    private volatile long loseDeviceAt = Long.MAX_VALUE;
    private boolean paused;

    private CardEmulator(Builder b) {
        this.queueDepth = b.queueDepth;
        this.engines = b.engines;
        this.latencyNanos = b.latency.toNanos();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int queueDepth() {
        return queueDepth;
    }

    int engines() {
        return engines;
    }

    long latencyNanos() {
        return latencyNanos;
    }

    /** Fails the requests with these numbers (1-based, in submission order) with an engine error. */
    public CardEmulator failRequests(long... numbers) {
        for (long n : numbers) {
            failAt.add(n);
        }
        return this;
    }

    /** Fails every {@code n}th request (0 turns it off). */
    public CardEmulator failEvery(int n) {
        this.failEvery = n;
        return this;
    }

    /** Returns corrupted output (one byte flipped) for every {@code n}th request (0 turns it off). */
    public CardEmulator corruptEvery(int n) {
        this.corruptEvery = n;
        return this;
    }

    /** Fails each request with probability {@code p} (0 turns it off), pseudo-randomly from the {@link #seed}. */
    public CardEmulator failProbability(double p) {
        this.failProbability = checkProbability("failProbability", p);
        return this;
    }

    /** Returns corrupted output for each request with probability {@code p} (0 turns it off). */
    public CardEmulator corruptProbability(double p) {
        this.corruptProbability = checkProbability("corruptProbability", p);
        return this;
    }

    /** Seed of the probability faults (default 1): request n meets the same faults under the same seed. */
    public CardEmulator seed(long seed) {
        this.seed = seed;
        return this;
    }

    private static double checkProbability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + ": " + p + " (expected: 0 <= p <= 1)");
        }
        return p;
    }

    /** The device disappears now: every request fails with DeviceLostException; the provider reports unavailable. */
    public CardEmulator loseDevice() {
        this.deviceLost = true;
        return this;
    }

    /** The device disappears when request {@code n} starts (mid-stream). */
    public CardEmulator loseDeviceAtRequest(long n) {
        this.loseDeviceAt = n;
        return this;
    }

    /** The device is back. */
    public CardEmulator restoreDevice() {
        this.deviceLost = false;
        this.loseDeviceAt = Long.MAX_VALUE;
        return this;
    }

    /** Stops the engines from taking requests: the queue fills and then refuses. */
    public synchronized CardEmulator pause() {
        paused = true;
        return this;
    }

    public synchronized CardEmulator resume() {
        paused = false;
        notifyAll();
        return this;
    }

    /** Clears every injected fault and resumes. */
    public CardEmulator heal() {
        failAt.clear();
        failEvery = 0;
        corruptEvery = 0;
        failProbability = 0;
        corruptProbability = 0;
        restoreDevice();
        return resume();
    }

    public long submitted() {
        return submitted.get();
    }

    public long completed() {
        return completed.get();
    }

    public long failed() {
        return failed.get();
    }

    public boolean deviceLost() {
        return deviceLost;
    }

    Availability availability() {
        return deviceLost ? Availability.unavailable("emulated card: device lost") : Availability.available();
    }

    long nextRequest() {
        return submitted.incrementAndGet();
    }

    synchronized void awaitRunnable() {
        while (paused) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** What happens to request {@code n}: decided as the request starts on an engine. */
    Fault faultFor(long n) {
        if (n >= loseDeviceAt) {
            deviceLost = true;
        }
        if (deviceLost) {
            return Fault.DEVICE_LOST;
        }
        int every = failEvery;
        if (failAt.contains(n) || (every > 0 && n % every == 0) || draw(n, 0x9E3779B97F4A7C15L) < failProbability) {
            return Fault.ERROR;
        }
        int corrupt = corruptEvery;
        if ((corrupt > 0 && n % corrupt == 0) || draw(n, 0xC2B2AE3D27D4EB4FL) < corruptProbability) {
            return Fault.CORRUPT;
        }
        return Fault.NONE;
    }

    /** A uniform draw in [0, 1) for request {@code n}: SplitMix64 of (seed, n, salt), independent of thread timing. */
    private double draw(long n, long salt) {
        long z = seed * 0xBF58476D1CE4E5B9L + n * salt;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    void onDone(boolean ok) {
        (ok ? completed : failed).incrementAndGet();
    }

    enum Fault { NONE, ERROR, CORRUPT, DEVICE_LOST }

    /** Card shape: queue depth 16, 2 engines, no latency. */
    public static final class Builder {
        private int queueDepth = 16;
        private int engines = 2;
        private Duration latency = Duration.ZERO;

        private Builder() {
        }

        public Builder queueDepth(int depth) {
            if (depth < 1) {
                throw new IllegalArgumentException("queueDepth: " + depth + " (expected: > 0)");
            }
            this.queueDepth = depth;
            return this;
        }

        public Builder engines(int engines) {
            if (engines < 1) {
                throw new IllegalArgumentException("engines: " + engines + " (expected: > 0)");
            }
            this.engines = engines;
            return this;
        }

        /** Time each request spends on an engine (busy-parked, not slept by the caller). */
        public Builder latency(Duration latency) {
            if (latency.isNegative()) {
                throw new IllegalArgumentException("latency: " + latency + " (expected: >= 0)");
            }
            this.latency = latency;
            return this;
        }

        public CardEmulator build() {
            return new CardEmulator(this);
        }
    }
}
