package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SentIndexTest {

    @Test
    void peerHolds_beforeAndAfterRecordSent_falseThenTrue() {
        SentIndex index = SentIndex.withMaxBytes(1 << 20);
        ChunkFingerprint fp = ChunkFingerprint.of(1, 2);
        assertThat(index.peerHolds(fp)).isFalse();
        index.recordSent(fp, 8192);
        assertThat(index.peerHolds(fp)).isTrue();
        ChunkStoreStats stats = index.stats();
        assertThat(stats.hits()).isEqualTo(1);
        assertThat(stats.misses()).isEqualTo(1);
        assertThat(stats.bytesHeld()).isEqualTo(8192);
    }

    @Test
    void forget_andClear_peerNoLongerHolds() {
        SentIndex index = SentIndex.withMaxBytes(1 << 20);
        ChunkFingerprint a = ChunkFingerprint.of(1, 1);
        ChunkFingerprint b = ChunkFingerprint.of(2, 2);
        index.recordSent(a, 10);
        index.recordSent(b, 10);
        index.forget(a);
        assertThat(index.peerHolds(a)).isFalse();
        assertThat(index.peerHolds(b)).isTrue();
        index.clear();
        assertThat(index.peerHolds(b)).isFalse();
        assertThat(index.stats().bytesHeld()).isZero();
    }

    @Test
    void recordSent_tenTimesTheBound_bytesHeldNeverExceedsBound() {
        long max = 1 << 20;
        SentIndex index = SentIndex.withMaxBytes(max);
        Random random = new Random(1);
        for (int i = 0; i < 2000; i++) {
            index.recordSent(ChunkFingerprint.of(i, random.nextLong()), 2048 + random.nextInt(8192));
            assertThat(index.stats().bytesHeld()).isLessThanOrEqualTo(max);
        }
        assertThat(index.stats().evictions()).isPositive();
    }

    /**
     * The sender decides from its index, the receiver executes on its store; both see the same events under
     * the same bound. With a skewed, repetitive workload the stale references (sender says "held", receiver
     * misses) must stay rare, and every one of them is recoverable by the literal-again protocol.
     */
    @Test
    void indexAndStore_sameEventsSameBound_staleReferencesRare() {
        int chunkBytes = 4096;
        long max = 500L * chunkBytes;
        SentIndex sender = SentIndex.withMaxBytes(max);
        ChunkStore receiver = ChunkStore.withMaxBytes(max);
        byte[] payload = new byte[chunkBytes];
        Random random = new Random(2);
        int references = 0;
        int stale = 0;
        for (int op = 0; op < 50_000; op++) {
            // Skewed popularity over 5,000 chunks: a hot few hundred and a long tail.
            int id = (int) Math.min(4999, Math.abs(random.nextGaussian()) * 400);
            ChunkFingerprint fp = ChunkFingerprint.of(id, ~id);
            if (sender.peerHolds(fp)) {
                references++;
                if (receiver.get(fp) == null) {
                    stale++;
                    sender.forget(fp);
                }
            } else {
                sender.recordSent(fp, chunkBytes);
                receiver.put(fp, payload);
            }
        }
        System.out.printf("dedup: sent index vs store: %d references, %d stale (%.3f%%)%n", references, stale,
                100.0 * stale / references);
        assertThat(references).isGreaterThan(25_000);
        assertThat((double) stale / references).isLessThan(0.05);
    }

    @Test
    void invalidArguments_throwWithExpectation() {
        assertThatThrownBy(() -> SentIndex.withMaxBytes(-1)).hasMessage("maxBytes: -1 (expected: > 0)");
        assertThatThrownBy(() -> SentIndex.withMaxBytes(10).recordSent(ChunkFingerprint.of(0, 0), 0))
                .hasMessage("length: 0 (expected: > 0)");
    }
}
