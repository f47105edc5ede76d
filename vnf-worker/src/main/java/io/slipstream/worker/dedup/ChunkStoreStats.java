package io.slipstream.worker.dedup;

/**
 * A snapshot of the counters of a {@link ChunkStore} or a {@link SentIndex}: lookups that found a chunk
 * ({@code hits}) or not ({@code misses}), chunks evicted for space and their bytes, and what is held now
 * against the bound.
 */
public record ChunkStoreStats(long hits, long misses, long evictions, long evictedBytes, long chunks, long bytesHeld,
        long maxBytes) {

    /** hits / (hits + misses), or 0 before the first lookup. */
    public double hitRate() {
        long lookups = hits + misses;
        return lookups == 0 ? 0 : (double) hits / lookups;
    }
}
