package io.slipstream.worker.dedup;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A {@link ChunkStore} on the Java heap: chunk bytes by {@link ChunkFingerprint}, bounded by the total bytes
 * of the chunks held. For tests and for {@code --chunk-store-memory}; the worker's default is the
 * {@link DiskChunkStore}. Thread-safe.
 *
 * <p>Eviction is Caffeine's W-TinyLFU weighted by chunk length: a chunk that was referenced often survives a
 * burst of chunks seen once (a large one-off transfer does not flush the hot set). Maintenance runs on the
 * calling thread, so when {@link #put} returns (without concurrent writers) {@link ChunkStoreStats#bytesHeld()}
 * is at most {@link #maxBytes()}; under concurrent writes it may exceed the bound by the chunks in flight.
 * Only chunk bytes are counted, not the per-entry overhead (about 100 bytes per chunk, ~1% at 8 KiB chunks).
 *
 *
 * <p>See {@link ChunkStore} for how the store stays in step with the sender's {@link SentIndex}.
 */
final class MemoryChunkStore implements ChunkStore {

    private final long maxBytes;
    private final Cache<ChunkFingerprint, byte[]> cache;

    MemoryChunkStore(long maxBytes) {
        this.maxBytes = maxBytes;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkFingerprint k, byte[] v) -> v.length)
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    static long checkMaxBytes(long maxBytes) { // shared by the stores and the index
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
        }
        return maxBytes;
    }

    @Override
    public long maxBytes() {
        return maxBytes;
    }

    /** Stores a copy of {@code chunk[off, off + len)} unless the fingerprint is already held. */
    @Override
    public void put(ChunkFingerprint fingerprint, byte[] chunk, int off, int len) {
        Objects.checkFromIndexSize(off, len, chunk.length);
        putCopy(fingerprint, len, chunk, off, null);
    }

    /** Stores a copy of the remaining bytes of {@code chunk}; its position is not changed. */
    @Override
    public void put(ChunkFingerprint fingerprint, ByteBuffer chunk) {
        putCopy(fingerprint, chunk.remaining(), null, 0, chunk);
    }

    private void putCopy(ChunkFingerprint fingerprint, int len, byte[] array, int off, ByteBuffer buffer) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        if (len < 1) {
            throw new IllegalArgumentException("chunk: " + len + " bytes (expected: > 0)");
        }
        if (cache.asMap().containsKey(fingerprint)) {
            return;
        }
        byte[] copy = new byte[len];
        if (array != null) {
            System.arraycopy(array, off, copy, 0, len);
        } else {
            buffer.get(buffer.position(), copy, 0, len);
        }
        cache.asMap().putIfAbsent(fingerprint, copy);
    }

    /** A read-only view of the chunk's bytes, or null when it is not held (counted as a miss). */
    @Override
    public ByteBuffer get(ChunkFingerprint fingerprint) {
        byte[] chunk = cache.getIfPresent(fingerprint);
        return chunk == null ? null : ByteBuffer.wrap(chunk).asReadOnlyBuffer();
    }

    /** Whether the chunk is held; does not count as a lookup nor make the chunk hotter. */
    @Override
    public boolean contains(ChunkFingerprint fingerprint) {
        return cache.asMap().containsKey(fingerprint);
    }

    @Override
    public void remove(ChunkFingerprint fingerprint) {
        cache.invalidate(fingerprint);
    }

    /** Drops every chunk (for example when the peer's session restarts); counters are kept. */
    @Override
    public void clear() {
        cache.invalidateAll();
        cache.cleanUp();
    }

    @Override
    public ChunkStoreStats stats() {
        return stats(cache, maxBytes);
    }

    static <V> ChunkStoreStats stats(Cache<ChunkFingerprint, V> cache, long maxBytes) {
        CacheStats s = cache.stats();
        long held = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
        return new ChunkStoreStats(s.hitCount(), s.missCount(), s.evictionCount(), s.evictionWeight(),
                cache.estimatedSize(), held, maxBytes);
    }

    @Override
    public String toString() {
        return "MemoryChunkStore{" + stats() + "}";
    }
}
