package io.slipstream.worker.control;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * Counters the data plane updates and load reports read: bytes in and out, open flows, queued
 * work. Cheap to update from any event loop (striped adders), never reset.
 */
public final class DataPlaneStats {

    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();
    private final LongAdder wanoptAppBytes = new LongAdder();
    private final LongAdder wanoptWanBytes = new LongAdder();
    private final LongAdder[] wanoptEncoded = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
    private final LongAdder wanoptDeltaCandidates = new LongAdder();
    private final LongAdder wanoptDeltaHits = new LongAdder();

    private final java.util.concurrent.ConcurrentMap<java.util.List<String>, WanoptPair> wanoptPairs =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** How wanopt application bytes crossed the WAN. */
    public enum WanoptEncoding {
        REFERENCE, DELTA, LITERAL, RAW
    }

    /**
     * wanopt figures of one peer and flow policy; every update counts in the worker's totals too. Kept for the
     * worker's life (peers and policies come from the configuration: a bounded set).
     */
    public final class WanoptPair {
        private final String peer;
        private final String policy;
        private final LongAdder appBytes = new LongAdder();
        private final LongAdder wanBytes = new LongAdder();
        private final LongAdder[] encoded = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder()};
        private final LongAdder deltaCandidates = new LongAdder();
        private final LongAdder deltaHits = new LongAdder();

        private WanoptPair(String peer, String policy) {
            this.peer = peer;
            this.policy = policy;
        }

        public String peer() {
            return peer;
        }

        /** The flow policy's name; empty when none matched. */
        public String policy() {
            return policy;
        }

        public void addAppBytes(long n) {
            appBytes.add(n);
            addWanoptAppBytes(n);
        }

        public void addWanBytes(long n) {
            wanBytes.add(n);
            addWanoptWanBytes(n);
        }

        public void addEncoded(WanoptEncoding encoding, long n) {
            encoded[encoding.ordinal()].add(n);
            addWanoptEncoded(encoding, n);
        }

        public void deltaCandidate(boolean hit) {
            deltaCandidates.increment();
            if (hit) {
                deltaHits.increment();
            }
            wanoptDeltaCandidate(hit);
        }

        public long appBytes() {
            return appBytes.sum();
        }

        public long wanBytes() {
            return wanBytes.sum();
        }

        public long encoded(WanoptEncoding encoding) {
            return encoded[encoding.ordinal()].sum();
        }

        public long deltaCandidates() {
            return deltaCandidates.sum();
        }

        public long deltaHits() {
            return deltaHits.sum();
        }
    }

    /** The figures of {@code peer} and {@code policy} (empty: no policy matched), created at first use. */
    public WanoptPair wanoptPair(String peer, String policy) {
        return wanoptPairs.computeIfAbsent(java.util.List.of(peer, policy), k -> new WanoptPair(peer, policy));
    }

    /** Every peer and policy seen, by peer then policy. */
    public java.util.List<WanoptPair> wanoptPairs() {
        java.util.List<WanoptPair> pairs = new java.util.ArrayList<>(wanoptPairs.values());
        pairs.sort(java.util.Comparator.comparing(WanoptPair::peer).thenComparing(WanoptPair::policy));
        return pairs;
    }
    private final AtomicInteger activeFlows = new AtomicInteger();
    private volatile IntSupplier queueDepth = () -> 0;

    public void addBytesIn(long n) {
        bytesIn.add(n);
    }

    public void addBytesOut(long n) {
        bytesOut.add(n);
    }

    /** wanopt: application bytes encoded towards a peer (the savings' denominator). */
    public void addWanoptAppBytes(long n) {
        wanoptAppBytes.add(n);
    }

    /** wanopt: bytes of DATA payload those application bytes took on the WAN. */
    public void addWanoptWanBytes(long n) {
        wanoptWanBytes.add(n);
    }

    /** wanopt: {@code n} application bytes sent as {@code encoding}. */
    public void addWanoptEncoded(WanoptEncoding encoding, long n) {
        wanoptEncoded[encoding.ordinal()].add(n);
    }

    /** wanopt: a chunk the peer did not hold, sent as a delta ({@code hit}) or not. */
    public void wanoptDeltaCandidate(boolean hit) {
        wanoptDeltaCandidates.increment();
        if (hit) {
            wanoptDeltaHits.increment();
        }
    }

    public long wanoptEncoded(WanoptEncoding encoding) {
        return wanoptEncoded[encoding.ordinal()].sum();
    }

    public long wanoptDeltaCandidates() {
        return wanoptDeltaCandidates.sum();
    }

    public long wanoptDeltaHits() {
        return wanoptDeltaHits.sum();
    }

    public long wanoptAppBytes() {
        return wanoptAppBytes.sum();
    }

    public long wanoptWanBytes() {
        return wanoptWanBytes.sum();
    }

    public void flowOpened() {
        activeFlows.incrementAndGet();
    }

    public void flowClosed() {
        activeFlows.decrementAndGet();
    }

    /** Where queued work is counted (e.g. the compression submission queue). */
    public void queueDepthFrom(IntSupplier supplier) {
        this.queueDepth = supplier;
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }

    public int activeFlows() {
        return Math.max(0, activeFlows.get());
    }

    public int queueDepth() {
        return Math.max(0, queueDepth.getAsInt());
    }
}
