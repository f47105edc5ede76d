package io.slipstream.worker.dedup;

/**
 * A snapshot of the counters of a {@link ChunkStore} or a {@link SentIndex}: lookups that found a chunk
 * ({@code hits}) or not ({@code misses}), chunks evicted for space and their bytes, and what is held now
 * against the bound. A {@link DiskChunkStore} also reports the bytes of its segment files
 * ({@code bytesOnDisk}), the records it found corrupt or truncated and dropped ({@code corruptDropped}), and the
 * chunks it could not write ({@code writeFailures}: disk full, directory unusable); the heap store reports 0.
 */
public record ChunkStoreStats(long hits, long misses, long evictions, long evictedBytes, long chunks, long bytesHeld,
        long maxBytes, long bytesOnDisk, long corruptDropped, long writeFailures) {

    /** The counters of a store on the heap (nothing on disk, nothing corrupt, no write failure). */
    public ChunkStoreStats(long hits, long misses, long evictions, long evictedBytes, long chunks, long bytesHeld,
            long maxBytes) {
        this(hits, misses, evictions, evictedBytes, chunks, bytesHeld, maxBytes, 0, 0, 0);
    }

    /** hits / (hits + misses), or 0 before the first lookup. */
    public double hitRate() {
        long lookups = hits + misses;
        return lookups == 0 ? 0 : (double) hits / lookups;
    }
}
