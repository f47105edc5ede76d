package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.dedup.ChunkFingerprinter;
import io.slipstream.worker.dedup.UnavailableChunkStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whether a pair's stores on disk are kept depends on the identity the peer announces in its first HELLO. */
class PeerDictionaryTest {

    private static final byte[] OUR_KEY = new byte[16];
    private static final byte[] PEER_KEY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    private static final long STORE = 1 << 20;

    @TempDir
    Path dir;

    /** A dictionary that sent one chunk and received one, then closed; returns their fingerprints. */
    private ChunkFingerprint[] fill(long peerEpoch) {
        byte[] ours = "a chunk we sent".getBytes();
        byte[] theirs = "a chunk the peer sent".getBytes();
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        d.peerHello(peerEpoch, PEER_KEY);
        ChunkFingerprint sent = d.ours.fingerprint(ours);
        d.peerHolds.recordSent(sent, ours.length);
        d.sent.put(sent, ours);
        ChunkFingerprint received = ChunkFingerprinter.withKey(PEER_KEY).fingerprint(theirs);
        d.received.put(received, theirs);
        d.close();
        return new ChunkFingerprint[] {sent, received};
    }

    @Test
    void firstHello_sameIdentityAsBefore_keepsMirrorAndReceivedStore() {
        ChunkFingerprint[] fps = fill(42);
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        d.peerHello(42, PEER_KEY);
        assertThat(d.peerHolds.peerHolds(fps[0])).isTrue();
        assertThat(d.received.contains(fps[1])).isTrue();
        d.close();
    }

    @Test
    void firstHello_newEpoch_clearsMirrorAndReceivedButKeepsSentBytes() {
        ChunkFingerprint[] fps = fill(42);
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        d.peerHello(43, PEER_KEY);
        assertThat(d.peerHolds.peerHolds(fps[0])).isFalse();
        assertThat(d.sent.contains(fps[0])).as("kept to answer a NEED").isTrue();
        assertThat(d.received.contains(fps[1])).isFalse();
        d.close();
        PeerDictionary again = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        again.peerHello(43, PEER_KEY);
        assertThat(again.received.contains(fps[1])).as("cleared on disk too").isFalse();
        again.close();
    }

    @Test
    void firstHello_sameEpochOtherKey_clears() {
        ChunkFingerprint[] fps = fill(42);
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        byte[] otherKey = PEER_KEY.clone();
        otherKey[0] ^= 1;
        d.peerHello(42, otherKey);
        assertThat(d.received.contains(fps[1])).isFalse();
        d.close();
    }

    @Test
    void laterHello_newEpoch_clearsAgain() {
        ChunkFingerprint[] fps = fill(42);
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, dir);
        d.peerHello(42, PEER_KEY);
        d.peerHello(42, PEER_KEY);
        assertThat(d.received.contains(fps[1])).isTrue();
        d.peerHello(7, PEER_KEY);
        assertThat(d.received.contains(fps[1])).isFalse();
        assertThat(d.peerHolds.peerHolds(fps[0])).isFalse();
        d.close();
    }

    @Test
    void peerIdentityFile_ownerOnly() throws Exception {
        fill(42);
        assertThat(Files.getPosixFilePermissions(dir.resolve("peer")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }

    @Test
    void onDisk_directoryIsAFile_storesUnavailableAndFlowsHaveNothingToReference() throws Exception {
        Path file = Files.writeString(dir.resolve("pair"), "not a directory");
        PeerDictionary d = PeerDictionary.onDisk(OUR_KEY, STORE, file);
        d.peerHello(1, PEER_KEY);
        assertThat(d.sent).isInstanceOf(UnavailableChunkStore.class);
        assertThat(d.received).isInstanceOf(UnavailableChunkStore.class);
        byte[] chunk = "x".getBytes();
        ChunkFingerprint fp = d.ours.fingerprint(chunk);
        d.peerHolds.recordSent(fp, 1);
        d.sent.put(fp, chunk);
        assertThat(d.sent.contains(fp)).as("the encoder refers only to what sent holds").isFalse();
        assertThat(d.sent.stats().writeFailures()).isEqualTo(1);
        d.close();
    }

    @Test
    void pairDirName_escapesAndRoundTrips() {
        assertThat(ChunkStores.pairDirName("wan-b1")).isEqualTo("wan-b1");
        assertThat(ChunkStores.pairDirName("../etc")).isEqualTo("%2E%2E%2Fetc");
        assertThat(ChunkStores.pairDirName("wan.b")).isEqualTo("wan%2Eb");
        assertThat(ChunkStores.peerOfDirName("%2E%2E%2Fetc")).isEqualTo("../etc");
        assertThat(ChunkStores.peerOfDirName("wan%2Eb")).isEqualTo("wan.b");
        assertThat(ChunkStores.peerOfDirName("wan.b")).as("not a name pairDirName makes").isNull();
        assertThat(ChunkStores.peerOfDirName("%zz")).isNull();
        assertThat(ChunkStores.peerOfDirName("a+b")).isNull();
    }
}
