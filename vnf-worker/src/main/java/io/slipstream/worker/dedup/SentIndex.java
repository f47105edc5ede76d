package io.slipstream.worker.dedup;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Objects;

/**
 * The sender's mirror of its peer's {@link ChunkStore}: which fingerprints the peer should hold, with their
 * lengths but without their bytes, bounded by the same total of chunk bytes and evicted by the same policy
 * (W-TinyLFU weighted by length). Thread-safe.
 *
 * <p>Per chunk the sender calls {@link #peerHolds}: true means send a reference (the receiver does
 * {@link ChunkStore#get}), false means send the literal and {@link #recordSent} it (the receiver does
 * {@link ChunkStore#put}). Because both sides see the same sequence of events under the same bound, they
 * evict nearly the same chunks; see {@link ChunkStore} for why they can drift and what happens then. When
 * the receiver reports a miss, call {@link #forget}; when the peer's store restarts, {@link #clear}.
 * Sizing the index a little below the receiver's store (e.g. 90%) makes stale references rarer at the price
 * of a few redundant literals.
 */
public final class SentIndex {

    private final long maxBytes;
    private final Cache<ChunkFingerprint, Integer> cache;

    private SentIndex(long maxBytes) {
        this.maxBytes = maxBytes;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkFingerprint k, Integer length) -> length)
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    /** An index whose chunks total at most {@code maxBytes}: the peer store's bound. */
    public static SentIndex withMaxBytes(long maxBytes) {
        return new SentIndex(ChunkStore.checkMaxBytes(maxBytes));
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Whether the peer is believed to hold the chunk; counted and made hotter like the receiver's get. */
    public boolean peerHolds(ChunkFingerprint fingerprint) {
        return cache.getIfPresent(fingerprint) != null;
    }

    /** Records that the chunk's literal ({@code length} bytes) was sent, so the peer now stores it. */
    public void recordSent(ChunkFingerprint fingerprint, int length) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        if (length < 1) {
            throw new IllegalArgumentException("length: " + length + " (expected: > 0)");
        }
        cache.asMap().putIfAbsent(fingerprint, length);
    }

    /** The peer reported it does not hold the chunk: the next occurrence goes out as a literal. */
    public void forget(ChunkFingerprint fingerprint) {
        cache.invalidate(fingerprint);
    }

    /** The peer's store was lost (restart, new session): assume it holds nothing. */
    public void clear() {
        cache.invalidateAll();
        cache.cleanUp();
    }

    public ChunkStoreStats stats() {
        return ChunkStore.stats(cache, maxBytes);
    }

    @Override
    public String toString() {
        return "SentIndex{" + stats() + "}";
    }
}
