package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.proto.v1.ChunkStoreState;
import io.slipstream.worker.dedup.ChunkStore;
import io.slipstream.worker.dedup.ChunkStoreStats;
import io.slipstream.worker.dedup.StoreIdentity;
import io.slipstream.worker.dedup.UnavailableChunkStore;
import java.io.Closeable;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunk dictionaries this worker shares with its peers, one per peer pair: on the heap, or on disk under
 * {@code dir/peers/<peer>} with this worker's store identity in {@code dir/identity}, kept across restarts.
 */
final class ChunkStores implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class); // the role's log, as before

    private final String workerId;
    private final Path dir;
    private final long storeBytes;
    private final MeterRegistry meters;
    private final long storeEpoch;
    private final byte[] fingerprintKey;
    private final Map<String, PeerDictionary> dictionaries = new ConcurrentHashMap<>();
    private final Map<String, StoreMeters> storeMeters = new ConcurrentHashMap<>();

    /**
     * @param dir where the stores are kept, or {@code null} to keep them on the heap (lost with the process)
     * @param storeBytes bound of each store, in bytes
     */
    ChunkStores(String workerId, Path dir, long storeBytes, MeterRegistry meters) {
        this.workerId = workerId;
        this.dir = dir;
        this.storeBytes = storeBytes;
        this.meters = meters;
        StoreIdentity identity = dir == null ? StoreIdentity.random() : storeIdentity(dir);
        this.storeEpoch = identity.epoch();
        this.fingerprintKey = identity.key();
    }

    /** This worker's store epoch, as its HELLO tells its peers. */
    long storeEpoch() {
        return storeEpoch;
    }

    /** This worker's fingerprint key, as its HELLO tells its peers (shared, not copied: do not modify). */
    byte[] fingerprintKey() {
        return fingerprintKey;
    }

    /**
     * This worker's store identity from {@code dir/identity}: the one its stores were kept under, or a new one
     * (then the stores of every peer pair are dropped: they were fingerprinted with another key). A directory
     * that cannot be used gives an identity for this run only (the stores then report themselves unavailable).
     */
    private StoreIdentity storeIdentity(Path dir) {
        try {
            if (!Files.exists(dir)) {
                // Owner only: the stores hold the traffic's bytes, the identity its fingerprint key.
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            StoreIdentity identity = StoreIdentity.loadOrCreate(dir.resolve("identity"));
            if (identity.created()) {
                Path peers = dir.resolve("peers");
                if (Files.exists(peers)) {
                    log.warn("wanopt {}: chunk store identity in {} is new: dropping the stores kept under the old one",
                            workerId, dir);
                    deleteTree(peers);
                }
            }
            return identity;
        } catch (IOException | RuntimeException e) {
            log.warn("wanopt {}: chunk store directory {} cannot be used ({}: {}): chunks go as literals, nothing is "
                    + "kept across restarts (slipstream.wanopt.store.available = 0)", workerId, dir,
                    e.getClass().getSimpleName(), e.getMessage());
            return StoreIdentity.random();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    /** The directory of a peer pair's stores: the peer's worker id, escaped to a safe file name. */
    static String pairDirName(String peerWorkerId) {
        StringBuilder b = new StringBuilder();
        for (byte c : peerWorkerId.getBytes(StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    /** The peer worker id of a pair directory name, or null when the name is not one {@link #pairDirName} makes. */
    static String peerOfDirName(String name) {
        try {
            String id = URLDecoder.decode(name.replace("+", "%2B"), StandardCharsets.UTF_8);
            return !id.isEmpty() && pairDirName(id).equals(name) ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Reopens the stores kept on disk by earlier runs (now, not on an event loop when the peer first says HELLO). */
    void reopen() {
        if (dir == null) {
            return;
        }
        Path peers = dir.resolve("peers");
        if (Files.isDirectory(peers)) {
            try (Stream<Path> dirs = Files.list(peers)) {
                dirs.map(d -> peerOfDirName(d.getFileName().toString())).filter(Objects::nonNull)
                        .forEach(this::dictionaryFor);
            } catch (IOException e) {
                log.warn("wanopt {}: cannot list the chunk stores in {}: {}", workerId, peers, e.getMessage());
            }
        }
    }

    /** The chunk dictionary shared with {@code peer}. */
    PeerDictionary dictionaryFor(String peer) {
        PeerDictionary d = dictionaries.get(peer);
        if (d != null) {
            return d;
        }
        d = dictionaries.computeIfAbsent(peer, p -> dir == null
                ? new PeerDictionary(fingerprintKey, storeBytes)
                : PeerDictionary.onDisk(fingerprintKey, storeBytes, dir.resolve("peers").resolve(pairDirName(p))));
        storeMeters.computeIfAbsent(peer, p -> new StoreMeters(meters, p, () -> dictionaries.get(p)));
        return d;
    }

    /** {@code peer} left the configuration: frees its dictionary's memory (the disk keeps it). */
    void drop(String peer) {
        PeerDictionary gone = dictionaries.remove(peer);
        if (gone != null) {
            gone.close();
        }
    }

    /** The figures of every chunk store, for the load report. */
    List<ChunkStoreState> states() {
        List<ChunkStoreState> states = new ArrayList<>();
        for (Map.Entry<String, PeerDictionary> e : new TreeMap<>(dictionaries).entrySet()) {
            for (String store : new String[] {"sent", "received"}) {
                ChunkStore s = "sent".equals(store) ? e.getValue().sent : e.getValue().received;
                ChunkStoreStats st = s.stats();
                states.add(ChunkStoreState.newBuilder().setPeerWorkerId(e.getKey())
                        .setStore(store).setAvailable(!(s instanceof UnavailableChunkStore))
                        .setBytesHeld(st.bytesHeld()).setMaxBytes(st.maxBytes()).setBytesOnDisk(st.bytesOnDisk())
                        .setChunks(st.chunks()).setEvictions(st.evictions()).setCorruptDropped(st.corruptDropped())
                        .setWriteFailures(st.writeFailures()).build());
            }
        }
        return states;
    }

    /** The counters of the chunk stores of a peer pair ({@code sent} or {@code received}), or null without one. */
    ChunkStoreStats stats(String peer, String store) {
        PeerDictionary d = dictionaries.get(peer);
        return d == null ? null : ("sent".equals(store) ? d.sent : d.received).stats();
    }

    /** Call after the event loops stopped: no stream writes to a store any more. */
    @Override
    public void close() {
        for (PeerDictionary d : dictionaries.values()) {
            d.close();
        }
    }
}
