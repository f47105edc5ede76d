package io.slipstream.worker.dedup;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The receiver's store of one peer pair: chunk bytes by {@link ChunkFingerprint}, bounded by the total bytes
 * of the chunks held. Thread-safe.
 *
 * <p>Eviction is Caffeine's W-TinyLFU weighted by chunk length: a chunk that was referenced often survives a
 * burst of chunks seen once (a large one-off transfer does not flush the hot set). Maintenance runs on the
 * calling thread, so when {@link #put} returns (without concurrent writers) {@link ChunkStoreStats#bytesHeld()}
 * is at most {@link #maxBytes()}; under concurrent writes it may exceed the bound by the chunks in flight.
 * Only chunk bytes are counted, not the per-entry overhead (about 100 bytes per chunk, ~1% at 8 KiB chunks).
 *
 * <h2>Staying in step with the sender</h2>
 * The sender does not ask; it decides from its {@link SentIndex}, which sees the same events in the same
 * order — every literal it sends is {@link #put} here, every reference it sends is a {@link #get} here — and
 * has the same byte bound, so the two evict nearly the same chunks. They are not guaranteed to agree:
 * W-TinyLFU admission has a random element, lookups under contention may go unrecorded, and either side
 * may restart. When the sender refers to a chunk this store no longer holds, {@link #get} returns null and
 * the receiver must ask for the literal again (the tunnel's NEED; the sender answers with the bytes, or,
 * if it no longer holds them either, resets the stream and clears its {@link SentIndex}). When the sender believes the receiver lacks a chunk it
 * still holds, the only cost is a literal sent again. The receiver recomputes the fingerprint of every literal
 * before it stores it (the tunnel's job), so drift costs a round trip or some bandwidth, never wrong bytes.
 */
public final class ChunkStore {

    private final long maxBytes;
    private final Cache<ChunkFingerprint, byte[]> cache;

    private ChunkStore(long maxBytes) {
        this.maxBytes = maxBytes;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkFingerprint k, byte[] v) -> v.length)
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    /** A store holding at most {@code maxBytes} of chunk bytes. */
    public static ChunkStore withMaxBytes(long maxBytes) {
        return new ChunkStore(checkMaxBytes(maxBytes));
    }

    static long checkMaxBytes(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
        }
        return maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Stores a copy of {@code chunk[off, off + len)} unless the fingerprint is already held. */
    public void put(ChunkFingerprint fingerprint, byte[] chunk, int off, int len) {
        Objects.checkFromIndexSize(off, len, chunk.length);
        putCopy(fingerprint, len, chunk, off, null);
    }

    /** {@link #put(ChunkFingerprint, byte[], int, int)} of the whole array. */
    public void put(ChunkFingerprint fingerprint, byte[] chunk) {
        put(fingerprint, chunk, 0, chunk.length);
    }

    /** Stores a copy of the remaining bytes of {@code chunk}; its position is not changed. */
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
    public ByteBuffer get(ChunkFingerprint fingerprint) {
        byte[] chunk = cache.getIfPresent(fingerprint);
        return chunk == null ? null : ByteBuffer.wrap(chunk).asReadOnlyBuffer();
    }

    /** Whether the chunk is held; does not count as a lookup nor make the chunk hotter. */
    public boolean contains(ChunkFingerprint fingerprint) {
        return cache.asMap().containsKey(fingerprint);
    }

    public void remove(ChunkFingerprint fingerprint) {
        cache.invalidate(fingerprint);
    }

    /** Drops every chunk (for example when the peer's session restarts); counters are kept. */
    public void clear() {
        cache.invalidateAll();
        cache.cleanUp();
    }

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
        return "ChunkStore{" + stats() + "}";
    }
}
