package io.slipstream.worker.dedup;

/**
 * Fits the chunk store bound to the heap. A wanopt worker keeps, per peer, two chunk stores of that bound on the
 * heap (the chunks it sent, to answer a NEED, and the chunks it received), so a bound chosen without regard to
 * {@code -Xmx} (the default 256 MiB per store, in a 192 MiB worker JVM) fills the heap with unique traffic and ends
 * in {@code OutOfMemoryError}. Each store gets at most {@link #HEAP_FRACTION_DENOMINATOR 1/8} of the maximum heap:
 * one peer's stores take a quarter, and a few peers still leave room for the flows. Pure.
 */
public final class ChunkStoreBudget {

    /** A store may hold at most maxHeap / this. */
    public static final long HEAP_FRACTION_DENOMINATOR = 8;
    /** The smallest bound a store accepts. */
    public static final long MIN_BYTES = 1L << 20;

    private ChunkStoreBudget() {}

    /**
     * The bound to use for each store: {@code requested}, or less when that does not fit {@code maxHeapBytes}
     * (never below {@link #MIN_BYTES}).
     *
     * @param maxHeapBytes {@code Runtime.maxMemory()}; {@code Long.MAX_VALUE} when the heap is unbounded
     */
    public static long perStore(long requested, long maxHeapBytes) {
        if (requested < MIN_BYTES) {
            throw new IllegalArgumentException("chunk store: " + requested + " bytes (expected: >= 1 MiB)");
        }
        if (maxHeapBytes <= 0) {
            throw new IllegalArgumentException("max heap: " + maxHeapBytes + " bytes (expected: > 0)");
        }
        long fits = Math.max(MIN_BYTES, maxHeapBytes / HEAP_FRACTION_DENOMINATOR);
        return Math.min(requested, fits);
    }
}
