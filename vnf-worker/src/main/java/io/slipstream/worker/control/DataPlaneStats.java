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

    /** How wanopt application bytes crossed the WAN. */
    public enum WanoptEncoding {
        REFERENCE, DELTA, LITERAL, RAW
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
