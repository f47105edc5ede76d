package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class AnchorIndexTest {

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
        ByteBuffer out = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            out.put(p);
        }
        return out.array();
    }

    private static ChunkFingerprint fp(int i) {
        return ChunkFingerprint.of(i, i);
    }

    private static ChunkFeatures features(byte[] chunk) {
        return ChunkFeatures.of(ByteBuffer.wrap(chunk));
    }

    private static long[] anchors(byte[] chunk) {
        return features(chunk).anchors();
    }

    private static List<ChunkFingerprint> chunks(List<AnchorIndex.Source> sources) {
        return sources.stream().map(AnchorIndex.Source::chunk).collect(Collectors.toList());
    }

    @Test
    void anchors_contentDefined_sameContentSameAnchorsWhereverItLies() {
        byte[] piece = random(1, 16_000);
        ChunkFeatures alone = features(piece);
        ChunkFeatures inside = features(concat(random(2, 5_000), piece, random(3, 7_000)));
        assertThat(alone.anchors().length).isBetween(5, 40); // about one per KiB
        // Every anchor of the piece past its first 64 bytes is found again where the piece lies in another chunk,
        // 5000 bytes further on.
        long[] found = Arrays.copyOfRange(alone.anchors(), 1, alone.anchors().length);
        assertThat(inside.anchors()).contains(found);
        for (int i = 1; i < alone.anchors().length; i++) {
            int at = Arrays.asList(Arrays.stream(inside.anchors()).boxed().toArray()).indexOf(alone.anchors()[i]);
            assertThat(inside.anchorOffsets()[at]).isEqualTo(alone.anchorOffsets()[i] + 5_000);
        }
        assertThat(inside.length()).isEqualTo(28_000);
        assertThat(anchors(new byte[10])).isEmpty();
        ByteBuffer b = ByteBuffer.wrap(piece);
        b.position(100);
        ChunkFeatures.of(b);
        assertThat(b.position()).as("position unchanged").isEqualTo(100);
    }

    private static final byte[] A = random(10, 32_000);
    private static final byte[] B = random(11, 32_000);
    private static final byte[] C = random(12, 32_000);

    /** An index holding A, B and C (fingerprints 1, 2, 3). */
    private static AnchorIndex indexOfThree() {
        AnchorIndex index = AnchorIndex.withSize(16, 8);
        index.add(fp(1), features(A));
        index.add(fp(2), features(B));
        index.add(fp(3), features(C));
        return index;
    }

    @Test
    void sources_chunkGatheredFromThree_findsTheThreeMostSharedFirst() {
        AnchorIndex index = indexOfThree();
        index.add(fp(4), features(random(13, 32_000)));
        byte[] gathered = concat(Arrays.copyOfRange(C, 0, 4_000), Arrays.copyOfRange(A, 2_000, 22_000),
                Arrays.copyOfRange(B, 20_000, 30_000));
        assertThat(chunks(index.sources(features(gathered), 4))).containsExactly(fp(1), fp(2), fp(3));
        assertThat(chunks(index.sources(features(gathered), 1))).containsExactly(fp(1));
        assertThat(index.sources(features(random(14, 32_000)), 4)).isEmpty();
    }

    @Test
    void sources_chunkGatheredFromThree_regionsCoverEachPieceAndLittleMore() {
        AnchorIndex index = indexOfThree();
        byte[] gathered = concat(Arrays.copyOfRange(C, 0, 4_000), Arrays.copyOfRange(A, 12_000, 22_000),
                Arrays.copyOfRange(B, 20_000, 30_000));

        List<AnchorIndex.Source> sources = index.sources(features(gathered), 4);

        // Each piece lies within its region, widened by the margin and the gap to the neighbouring anchors
        // (about a KiB each), clipped to the source; the whole source only where the piece reaches its end.
        AnchorIndex.Source ofA = sources.stream().filter(s -> s.chunk().equals(fp(1))).findFirst().orElseThrow();
        AnchorIndex.Source ofB = sources.stream().filter(s -> s.chunk().equals(fp(2))).findFirst().orElseThrow();
        AnchorIndex.Source ofC = sources.stream().filter(s -> s.chunk().equals(fp(3))).findFirst().orElseThrow();
        assertThat(ofC.from()).isZero();
        assertThat(ofC.to()).isBetween(4_000, 4_000 + AnchorIndex.MARGIN + 8_000);
        assertThat(ofA.from()).isBetween(12_000 - AnchorIndex.MARGIN - 8_000, 12_000);
        assertThat(ofA.to()).isBetween(22_000, 22_000 + AnchorIndex.MARGIN + 8_000);
        assertThat(ofB.from()).isBetween(20_000 - AnchorIndex.MARGIN - 8_000, 20_000);
        assertThat(ofB.to()).isEqualTo(32_000);
        assertThat(ofA.length()).isLessThan(A.length);
    }

    @Test
    void sources_chunkOlderThanTheRing_forgotten() {
        AnchorIndex index = AnchorIndex.withSize(16, 4);
        byte[] first = random(20, 32_000);
        index.add(fp(1), features(first));
        for (int i = 0; i < 16; i++) {
            index.add(fp(100 + i), features(random(30 + i, 4_000)));
        }
        assertThat(chunks(index.sources(features(first), 4))).doesNotContain(fp(1));
        index.add(fp(2), features(first));
        // Every anchor votes for the copy added last, whose region is all of it.
        assertThat(index.sources(features(first), 4))
                .containsExactly(new AnchorIndex.Source(fp(2), features(first).anchors().length, 0, 32_000));
        index.clear();
        assertThat(index.sources(features(first), 4)).isEmpty();
    }

    @Test
    void withSize_outOfRange_saysWhatWasExpected() {
        assertThatThrownBy(() -> AnchorIndex.withSize(3, 8)).hasMessage("tableBits: 3 (expected: 4..26)");
        assertThatThrownBy(() -> AnchorIndex.withSize(16, 25)).hasMessage("ringBits: 25 (expected: 4..24)");
    }
}
