package io.slipstream.worker.wanopt;

import io.slipstream.worker.dedup.ChunkFingerprinter;
import io.slipstream.worker.dedup.ChunkStore;
import io.slipstream.worker.dedup.ResemblanceIndex;
import io.slipstream.worker.dedup.SentIndex;

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
 *       with the peer's key. When the peer's store epoch changes (it restarted, so its store is
 *       empty and its key new) both the mirror and the received store are cleared.</li>
 * </ul>
 * Thread-safe.
 */
final class PeerDictionary {

    final ChunkFingerprinter ours;
    final SentIndex peerHolds;
    final ChunkStore sent;
    final ChunkStore received;
    final ResemblanceIndex resemblance;
    private volatile ChunkFingerprinter theirs;
    private long peerEpoch;

    PeerDictionary(byte[] ourKey, long storeBytes) {
        this.ours = ChunkFingerprinter.withKey(ourKey);
        this.peerHolds = SentIndex.withMaxBytes(storeBytes);
        this.sent = ChunkStore.withMaxBytes(storeBytes);
        this.received = ChunkStore.withMaxBytes(storeBytes);
        // Chunks of 1 KiB or more: enough entries for every chunk the store can hold.
        this.resemblance = ResemblanceIndex.withMaxChunks(Math.max(1024, storeBytes >> 10));
    }

    /** The peer said HELLO on some connection; a new epoch means it starts from an empty store. */
    synchronized void peerHello(long epoch, byte[] key) {
        if (theirs == null || epoch != peerEpoch) {
            if (theirs != null) {
                peerHolds.clear();
                resemblance.clear();
                received.clear();
            }
            peerEpoch = epoch;
            theirs = ChunkFingerprinter.withKey(key);
        }
    }

    /** Verifies the peer's fingerprints. */
    ChunkFingerprinter theirs() {
        return theirs;
    }
}
