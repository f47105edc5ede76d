package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;

/**
 * The receiver's store of one peer pair (and the sender's copy of what it sent, to answer a NEED): chunk
 * bytes by {@link ChunkFingerprint}, bounded by the total bytes of the chunks held. Thread-safe.
 *
 * <p>Two implementations: {@link DiskChunkStore} (the worker's default: segment files on disk, off the Java
 * heap, kept across restarts, every record checked on read) and the heap store of {@link #withMaxBytes}
 * (tests, and {@code --chunk-store-memory}).
 *
 * <h2>Staying in step with the sender</h2>
 * The sender does not ask; it decides from its {@link SentIndex}, which sees the same events in the same
 * order — every literal it sends is {@link #put} here, every reference it sends is a {@link #get} here — and
 * has the same byte bound, so the two evict nearly the same chunks. They are not guaranteed to agree:
 * eviction may differ in detail, lookups under contention may go unrecorded, a record may be found corrupt,
 * and either side may restart. When the sender refers to a chunk this store no longer holds, {@link #get}
 * returns null and the receiver must ask for the literal again (the tunnel's NEED; the sender answers with
 * the bytes, or, if it no longer holds them either, resets the stream and clears its {@link SentIndex}).
 * When the sender believes the receiver lacks a chunk it still holds, the only cost is a literal sent again.
 * The receiver recomputes the fingerprint of every literal before it stores it (the tunnel's job), so drift
 * costs a round trip or some bandwidth, never wrong bytes.
 */
public interface ChunkStore {

    /** A store on the Java heap holding at most {@code maxBytes} of chunk bytes (W-TinyLFU eviction). */
    static ChunkStore withMaxBytes(long maxBytes) {
        return new MemoryChunkStore(MemoryChunkStore.checkMaxBytes(maxBytes));
    }

    /** The bound on the chunk bytes held. */
    long maxBytes();

    /** Stores a copy of {@code chunk[off, off + len)} unless the fingerprint is already held. */
    void put(ChunkFingerprint fingerprint, byte[] chunk, int off, int len);

    /** {@link #put(ChunkFingerprint, byte[], int, int)} of the whole array. */
    default void put(ChunkFingerprint fingerprint, byte[] chunk) {
        put(fingerprint, chunk, 0, chunk.length);
    }

    /** Stores a copy of the remaining bytes of {@code chunk}; its position is not changed. */
    void put(ChunkFingerprint fingerprint, ByteBuffer chunk);

    /**
     * A read-only buffer of the chunk's bytes, or null when it is not held (counted as a miss). The buffer stays
     * valid whatever the store does next.
     */
    ByteBuffer get(ChunkFingerprint fingerprint);

    /** Whether the chunk is held; does not count as a lookup nor make the chunk hotter. */
    boolean contains(ChunkFingerprint fingerprint);

    void remove(ChunkFingerprint fingerprint);

    /** Drops every chunk (for example when the peer's session restarts); counters are kept. */
    void clear();

    ChunkStoreStats stats();
}
