package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ResemblanceIndexTest {

    private static final ChunkFingerprint A = ChunkFingerprint.of(1, 1);
    private static final ChunkFingerprint B = ChunkFingerprint.of(2, 2);
    private static final ChunkFingerprint C = ChunkFingerprint.of(3, 3);

    private final ResemblanceIndex index = ResemblanceIndex.withMaxChunks(100);

    @Test
    void mostSimilar_editedChunk_findsItsOriginal() {
        byte[] original = DedupTestData.random(7, 12 * 1024);
        index.add(A, ResemblanceSketch.of(ByteBuffer.wrap(original)));
        index.add(B, ResemblanceSketch.of(ByteBuffer.wrap(DedupTestData.random(8, 12 * 1024))));
        byte[] edited = original.clone();
        edited[5000] ^= 1;
        assertThat(index.mostSimilar(ResemblanceSketch.of(ByteBuffer.wrap(edited)))).isEqualTo(A);
        assertThat(index.mostSimilar(ResemblanceSketch.of(ByteBuffer.wrap(DedupTestData.random(9, 12 * 1024)))))
                .isNull();
        assertThat(index.mostSimilar(new long[0])).isNull();
    }

    @Test
    void mostSimilar_severalCandidates_theOneSharingMostSuperFeatures() {
        index.add(A, new long[] {1, 2, 3, 4});
        index.add(B, new long[] {10, 20, 3, 4});
        index.add(C, new long[] {1, 30, 31, 32});
        assertThat(index.mostSimilar(new long[] {1, 20, 3, 4})).isEqualTo(B);
    }

    @Test
    void next_followedChunks_lastSuccessorWins() {
        assertThat(index.next(A)).isNull();
        assertThat(index.next(null)).isNull();
        index.follow(A, B);
        assertThat(index.next(A)).isEqualTo(B);
        index.follow(A, C);
        assertThat(index.next(A)).isEqualTo(C);
    }

    @Test
    void clear_forgetsEverything() {
        index.add(A, new long[] {1, 2, 3, 4});
        index.follow(A, B);
        index.clear();
        assertThat(index.mostSimilar(new long[] {1, 2, 3, 4})).isNull();
        assertThat(index.next(A)).isNull();
    }

    @Test
    void add_manyMoreChunksThanTheBound_staysBounded() {
        ResemblanceIndex small = ResemblanceIndex.withMaxChunks(10);
        for (int i = 0; i < 1000; i++) {
            ChunkFingerprint fp = ChunkFingerprint.of(i, i);
            small.add(fp, new long[] {i * 4L, i * 4L + 1, i * 4L + 2, i * 4L + 3});
            small.follow(fp, fp);
        }
        int found = 0;
        for (int i = 0; i < 1000; i++) {
            if (small.next(ChunkFingerprint.of(i, i)) != null) {
                found++;
            }
        }
        assertThat(found).isLessThanOrEqualTo(10);
        assertThat(small.next(ChunkFingerprint.of(999, 999))).as("the newest is kept").isNotNull();
    }

    @Test
    void withMaxChunks_notPositive_saysWhatIsExpected() {
        assertThatThrownBy(() -> ResemblanceIndex.withMaxChunks(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("maxChunks: 0 (expected: > 0)");
    }
}
