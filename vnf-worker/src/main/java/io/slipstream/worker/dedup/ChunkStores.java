package io.slipstream.worker.dedup;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The chunk stores and sent indexes of one worker, one of each per peer pair, created on first use with the
 * same byte bound. A worker's memory for dedup is therefore {@code maxBytesPerPeer} times the number of
 * active peer pairs (plus per-chunk overhead); the caller {@link #remove}s a pair when its tunnel is torn
 * down. Thread-safe.
 */
public final class ChunkStores {

    private final long maxBytesPerPeer;
    private final ConcurrentMap<String, ChunkStore> stores = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, SentIndex> indexes = new ConcurrentHashMap<>();

    private ChunkStores(long maxBytesPerPeer) {
        this.maxBytesPerPeer = maxBytesPerPeer;
    }

    public static ChunkStores withMaxBytesPerPeer(long maxBytes) {
        return new ChunkStores(MemoryChunkStore.checkMaxBytes(maxBytes));
    }

    public long maxBytesPerPeer() {
        return maxBytesPerPeer;
    }

    /** The receiver's store for chunks coming from {@code peerPairId}. */
    public ChunkStore store(String peerPairId) {
        return stores.computeIfAbsent(checkId(peerPairId), id -> ChunkStore.withMaxBytes(maxBytesPerPeer));
    }

    /** The sender's index of chunks sent to {@code peerPairId}. */
    public SentIndex sentIndex(String peerPairId) {
        return indexes.computeIfAbsent(checkId(peerPairId), id -> SentIndex.withMaxBytes(maxBytesPerPeer));
    }

    /** Drops the store and the index of a peer pair. */
    public void remove(String peerPairId) {
        ChunkStore s = stores.remove(peerPairId);
        if (s != null) {
            s.clear();
        }
        indexes.remove(peerPairId);
    }

    /** The peer pairs with a store or an index. */
    public Set<String> peerPairs() {
        Set<String> ids = ConcurrentHashMap.newKeySet();
        ids.addAll(stores.keySet());
        ids.addAll(indexes.keySet());
        return Set.copyOf(ids);
    }

    /** Chunk bytes held by all receiver stores. */
    public long bytesHeld() {
        return stores.values().stream().mapToLong(s -> s.stats().bytesHeld()).sum();
    }

    private static String checkId(String peerPairId) {
        Objects.requireNonNull(peerPairId, "peerPairId");
        if (peerPairId.isBlank()) {
            throw new IllegalArgumentException("peerPairId: '" + peerPairId + "' (expected: non-blank)");
        }
        return peerPairId;
    }
}
