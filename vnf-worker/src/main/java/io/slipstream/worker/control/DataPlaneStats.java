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
