package io.slipstream.worker.wanopt;

import io.slipstream.worker.dedup.AnchorIndex;
import io.slipstream.worker.dedup.ChunkFeatures;
import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.dedup.ChunkFingerprinter;
import io.slipstream.worker.dedup.ChunkStore;
import io.slipstream.worker.dedup.DiskChunkStore;
import io.slipstream.worker.dedup.ResemblanceIndex;
import io.slipstream.worker.dedup.SentIndex;
import io.slipstream.worker.dedup.StoreIdentity;
import io.slipstream.worker.dedup.UnavailableChunkStore;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What this worker and one peer know of each other's chunks, shared by every stream and connection
 * between the two.
 *
 * <ul>
 *   <li>Sending: chunks are fingerprinted with this worker's own key (announced in its HELLO, so
 *       fingerprints cannot be guessed from outside); {@link #peerHolds} mirrors the peer's store,
 *       {@link #sent} keeps the bytes to answer a NEED and to serve as delta bases, found through
 *       {@link #resemblance}.</li>
 *   <li>Receiving: {@link #received} holds the peer's chunks under the peer's fingerprints, verified
 *       with the peer's key. When the peer's store identity (epoch and key, from its HELLO) is not the one
 *       the stores were kept for, both the mirror and the received store are cleared.</li>
 * </ul>
 * On disk ({@link #onDisk}) the stores and the mirror survive a restart of this worker, and the peer's identity
 * as last seen is kept beside them ({@code peer}, mode 0600), so the first HELLO after a restart of either side
 * decides whether what each believes of the other still holds. Thread-safe.
 */
final class PeerDictionary implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(PeerDictionary.class);

    final ChunkFingerprinter ours;
    final SentIndex peerHolds;
    final ChunkStore sent;
    final ChunkStore received;
    final ResemblanceIndex resemblance;
    /** Where the content of a chunk gathered from several places came from (sender side; see docs/dedup.md). */
    final AnchorIndex anchors;
    /** Where the peer's identity is kept, or null for stores on the heap. */
    private final Path peerFile;
    /** False while {@link #rebuildResemblance} runs after a restart (tests wait for it). */
    volatile boolean resemblanceReady = true;
    private volatile ChunkFingerprinter theirs;
    private long peerEpoch;

    /** Stores on the heap, lost with the process. */
    PeerDictionary(byte[] ourKey, long storeBytes) {
        this(ourKey, SentIndex.withMaxBytes(storeBytes), ChunkStore.withMaxBytes(storeBytes),
                ChunkStore.withMaxBytes(storeBytes), null);
    }

    private PeerDictionary(byte[] ourKey, SentIndex peerHolds, ChunkStore sent, ChunkStore received, Path peerFile) {
        this.ours = ChunkFingerprinter.withKey(ourKey);
        this.peerHolds = peerHolds;
        this.sent = sent;
        this.received = received;
        this.peerFile = peerFile;
        // Chunks are 8 KiB or more (but a stream's last): enough entries for every chunk the store can hold.
        this.resemblance = ResemblanceIndex.withMaxChunks(Math.max(1024, sent.maxBytes() >> 13));
        // About one anchor per KiB held (at most 2^20: 16 MiB), over the last chunks of up to 4 GiB held.
        this.anchors = AnchorIndex.withSize(bits(sent.maxBytes() >> 10, 14, 20),
                bits(sent.maxBytes() >> 15, 10, 17));
    }

    private static int bits(long n, int min, int max) {
        return Math.max(min, Math.min(max, 63 - Long.numberOfLeadingZeros(Math.max(1, n))));
    }

    /**
     * Stores on disk in {@code pairDir} ({@code sent/}, {@code received/}, {@code peer}), reopened if there. A store
     * that cannot be opened is replaced by one that holds nothing (logged; flows go on with literals).
     */
    static PeerDictionary onDisk(byte[] ourKey, long storeBytes, Path pairDir) {
        ChunkStore sent = open(pairDir.resolve("sent"), storeBytes);
        ChunkStore received = open(pairDir.resolve("received"), storeBytes);
        SentIndex mirror = sent instanceof DiskChunkStore disk ? SentIndex.mirroring(disk)
                : SentIndex.withMaxBytes(storeBytes); // empty: sent.contains is always false, so only literals
        PeerDictionary dictionary = new PeerDictionary(ourKey, mirror, sent, received, pairDir.resolve("peer"));
        if (sent instanceof DiskChunkStore disk && disk.stats().chunks() > 0) {
            dictionary.resemblanceReady = false;
            Thread rebuild = new Thread(() -> dictionary.rebuildResemblance(disk), "resemblance-rebuild");
            rebuild.setDaemon(true);
            rebuild.start();
        }
        return dictionary;
    }

    /**
     * Indexes the chunks a reopened sent store holds as delta bases, oldest first so stream locality (which
     * chunk followed which) is what it was: after a restart, a new version of yesterday's data still travels as
     * deltas, not only its unchanged chunks as references. In the background; the encoder checks every base
     * (the peer holds it, its bytes are at hand) before use, so a half-built index costs compression only.
     */
    void rebuildResemblance(DiskChunkStore disk) {
        long started = System.nanoTime();
        int indexed = 0;
        ChunkFingerprint previous = null;
        for (ChunkFingerprint fp : disk.newestInWriteOrder((int) Math.min(Integer.MAX_VALUE, resemblance.maxChunks()))) {
            java.nio.ByteBuffer bytes = disk.get(fp);
            if (bytes == null) {
                previous = null;
                continue;
            }
            ChunkFeatures features = ChunkFeatures.of(bytes);
            resemblance.add(fp, features.sketch());
            anchors.add(fp, features);
            if (previous != null) {
                resemblance.follow(previous, fp);
            }
            previous = fp;
            indexed++;
        }
        resemblanceReady = true;
        log.info("chunk store {}: {} chunks indexed as delta bases in {} ms", disk.directory(), indexed,
                (System.nanoTime() - started) / 1_000_000);
    }

    private static ChunkStore open(Path dir, long storeBytes) {
        try {
            DiskChunkStore store = DiskChunkStore.open(dir, storeBytes);
            log.info("chunk store {}: {} chunks, {} MiB of chunks, {} MiB on disk, {} corrupt records dropped", dir,
                    store.stats().chunks(), store.stats().bytesHeld() >> 20, store.stats().bytesOnDisk() >> 20,
                    store.stats().corruptDropped());
            return store;
        } catch (IOException | RuntimeException e) {
            String reason = dir + ": " + e.getClass().getSimpleName() + ": " + e.getMessage();
            log.warn("chunk store {} cannot be used ({}): it is disabled, chunks of this peer pair go as literals "
                    + "(slipstream.wanopt.store.available = 0)", dir, reason);
            return new UnavailableChunkStore(storeBytes, reason);
        }
    }

    /**
     * The peer said HELLO on some connection. The first since this worker started keeps the stores only if the
     * peer announces the identity they were kept for; later, a new epoch means the peer starts from an empty
     * store (and a new key).
     */
    synchronized void peerHello(long epoch, byte[] key) {
        if (theirs != null && epoch == peerEpoch) {
            return;
        }
        StoreIdentity announced = new StoreIdentity(epoch, key, false);
        boolean keep;
        if (theirs != null) {
            keep = false;
        } else if (peerFile == null) {
            keep = true; // nothing kept from before
        } else {
            StoreIdentity last = null;
            try {
                last = StoreIdentity.loadPeer(peerFile);
            } catch (IOException e) {
                log.warn("chunk store: peer identity {} unreadable ({}): starting the pair afresh", peerFile,
                        e.getMessage());
            }
            keep = announced.equals(last);
            if (keep) {
                log.info("chunk store {}: peer announces the store it had, keeping {} chunks received and {} sent",
                        peerFile.getParent(), received.stats().chunks(), sent.stats().chunks());
            }
        }
        if (!keep) {
            peerHolds.clear();
            resemblance.clear();
            anchors.clear();
            received.clear();
        }
        if (peerFile != null && !keep) {
            try {
                announced.savePeer(peerFile);
            } catch (IOException e) {
                log.warn("chunk store: cannot save the peer identity {} ({}): after a restart this pair starts afresh",
                        peerFile, e.getMessage());
            }
        }
        peerEpoch = epoch;
        theirs = ChunkFingerprinter.withKey(key);
    }

    /** Verifies the peer's fingerprints. */
    ChunkFingerprinter theirs() {
        return theirs;
    }

    /** Closes the stores on disk (forcing them out); the heap stores are left to the collector. */
    @Override
    public void close() {
        for (ChunkStore s : new ChunkStore[] {sent, received}) {
            if (s instanceof DiskChunkStore disk) {
                disk.close();
            }
        }
    }
}
