package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The store of a peer pair whose directory could not be used (not a directory, not writable, full): holds
 * nothing, so the sender sends literals and the receiver asks for what it is referred to; every chunk offered
 * is counted as a write failure. The reason is kept for the log and {@link #toString}. Thread-safe.
 */
public final class UnavailableChunkStore implements ChunkStore {

    private final long maxBytes;
    private final String reason;
    private final AtomicLong misses = new AtomicLong();
    private final AtomicLong writeFailures = new AtomicLong();

    public UnavailableChunkStore(long maxBytes, String reason) {
        this.maxBytes = maxBytes;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the store is unavailable. */
    public String reason() {
        return reason;
    }

    @Override
    public long maxBytes() {
        return maxBytes;
    }

    @Override
    public void put(ChunkFingerprint fingerprint, byte[] chunk, int off, int len) {
        Objects.checkFromIndexSize(off, len, chunk.length);
        writeFailures.incrementAndGet();
    }

    @Override
    public void put(ChunkFingerprint fingerprint, ByteBuffer chunk) {
        writeFailures.incrementAndGet();
    }

    @Override
    public ByteBuffer get(ChunkFingerprint fingerprint) {
        misses.incrementAndGet();
        return null;
    }

    @Override
    public boolean contains(ChunkFingerprint fingerprint) {
        return false;
    }

    @Override
    public void remove(ChunkFingerprint fingerprint) {
    }

    @Override
    public void clear() {
    }

    @Override
    public ChunkStoreStats stats() {
        return new ChunkStoreStats(0, misses.get(), 0, 0, 0, 0, maxBytes, 0, 0, writeFailures.get());
    }

    @Override
    public String toString() {
        return "UnavailableChunkStore{" + reason + "}";
    }
}
