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
 *
 * <p>With a {@link DiskChunkStore} of the chunks sent ({@link #mirroring}) the index is a bit in that store's
 * index instead: the sent store sees the same literals and references as the peer's store, evicts by the same
 * deterministic policy, and is kept across restarts, so the mirror survives them too (no heap per chunk).
 */
public final class SentIndex {

    private final long maxBytes;
    private final Cache<ChunkFingerprint, Integer> cache;
    private final DiskChunkStore sent;

    private SentIndex(DiskChunkStore sent) {
        this.maxBytes = sent.maxBytes();
        this.cache = null;
        this.sent = sent;
    }

    private SentIndex(long maxBytes) {
        this.maxBytes = maxBytes;
        this.sent = null;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((ChunkFingerprint k, Integer length) -> length)
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    /** An index whose chunks total at most {@code maxBytes}: the peer store's bound. */
    public static SentIndex withMaxBytes(long maxBytes) {
        return new SentIndex(MemoryChunkStore.checkMaxBytes(maxBytes));
    }

    /**
     * The index kept in {@code sent}, the store of the chunks sent to the peer: a chunk is believed held by the
     * peer while it is in that store and has not been {@link #forget forgotten} since it was last sent. Every
     * chunk of a store reopened after a restart counts as held until the peer says otherwise (its store epoch
     * changed: {@link #clear}; it asked for a chunk: {@link #forget}).
     */
    public static SentIndex mirroring(DiskChunkStore sent) {
        return new SentIndex(Objects.requireNonNull(sent, "sent"));
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Whether the peer is believed to hold the chunk; counted and made hotter like the receiver's get. */
    public boolean peerHolds(ChunkFingerprint fingerprint) {
        if (sent != null) {
            return sent.peerHolds(fingerprint);
        }
        return cache.getIfPresent(fingerprint) != null;
    }

    /** Records that the chunk's literal ({@code length} bytes) was sent, so the peer now stores it. */
    public void recordSent(ChunkFingerprint fingerprint, int length) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        if (length < 1) {
            throw new IllegalArgumentException("length: " + length + " (expected: > 0)");
        }
        if (sent != null) {
            sent.markPeerHolds(fingerprint, true); // a new chunk is marked when the sent store takes it
            return;
        }
        cache.asMap().putIfAbsent(fingerprint, length);
    }

    /** The peer reported it does not hold the chunk: the next occurrence goes out as a literal. */
    public void forget(ChunkFingerprint fingerprint) {
        if (sent != null) {
            sent.markPeerHolds(fingerprint, false);
            return;
        }
        cache.invalidate(fingerprint);
    }

    /** The peer's store was lost (restart, new session): assume it holds nothing. */
    public void clear() {
        if (sent != null) {
            sent.forgetAllPeerHolds();
            return;
        }
        cache.invalidateAll();
        cache.cleanUp();
    }

    public ChunkStoreStats stats() {
        if (sent != null) {
            ChunkStoreStats s = sent.stats();
            long[] held = sent.peerHeld();
            return new ChunkStoreStats(s.hits(), s.misses(), s.evictions(), s.evictedBytes(), held[0], held[1],
                    maxBytes, s.bytesOnDisk(), s.corruptDropped(), s.writeFailures());
        }
        return MemoryChunkStore.stats(cache, maxBytes);
    }

    @Override
    public String toString() {
        return "SentIndex{" + stats() + "}";
    }
}
