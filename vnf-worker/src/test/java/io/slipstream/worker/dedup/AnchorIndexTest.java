package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
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

    @Test
    void anchors_contentDefined_sameContentSameAnchorsWhereverItLies() {
        byte[] piece = random(1, 16_000);
        long[] alone = AnchorIndex.anchors(ByteBuffer.wrap(piece));
        long[] inside = AnchorIndex.anchors(ByteBuffer.wrap(concat(random(2, 5_000), piece, random(3, 7_000))));
        assertThat(alone.length).isBetween(5, 40); // about one per KiB
        // Every anchor of the piece past its first 64 bytes is found again where the piece lies in another chunk.
        assertThat(inside).contains(Arrays.copyOfRange(alone, 1, alone.length));
        assertThat(AnchorIndex.anchors(ByteBuffer.wrap(new byte[10]))).isEmpty();
        ByteBuffer b = ByteBuffer.wrap(piece);
        b.position(100);
        AnchorIndex.anchors(b);
        assertThat(b.position()).as("position unchanged").isEqualTo(100);
    }

    @Test
    void sources_chunkGatheredFromThree_findsTheThreeMostSharedFirst() {
        byte[] a = random(10, 32_000);
        byte[] b = random(11, 32_000);
        byte[] c = random(12, 32_000);
        AnchorIndex index = AnchorIndex.withSize(16, 8);
        index.add(fp(1), AnchorIndex.anchors(ByteBuffer.wrap(a)));
        index.add(fp(2), AnchorIndex.anchors(ByteBuffer.wrap(b)));
        index.add(fp(3), AnchorIndex.anchors(ByteBuffer.wrap(c)));
        index.add(fp(4), AnchorIndex.anchors(ByteBuffer.wrap(random(13, 32_000))));
        byte[] gathered = concat(Arrays.copyOfRange(c, 0, 4_000), Arrays.copyOfRange(a, 2_000, 22_000),
                Arrays.copyOfRange(b, 20_000, 30_000));
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(gathered)), 4))
                .containsExactly(fp(1), fp(2), fp(3));
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(gathered)), 1)).containsExactly(fp(1));
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(random(14, 32_000))), 4)).isEmpty();
    }

    @Test
    void sources_chunkOlderThanTheRing_forgotten() {
        AnchorIndex index = AnchorIndex.withSize(16, 4);
        byte[] first = random(20, 32_000);
        index.add(fp(1), AnchorIndex.anchors(ByteBuffer.wrap(first)));
        for (int i = 0; i < 16; i++) {
            index.add(fp(100 + i), AnchorIndex.anchors(ByteBuffer.wrap(random(30 + i, 4_000))));
        }
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(first)), 4)).doesNotContain(fp(1));
        index.add(fp(2), AnchorIndex.anchors(ByteBuffer.wrap(first)));
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(first)), 4)).containsExactly(fp(2));
        index.clear();
        assertThat(index.sources(AnchorIndex.anchors(ByteBuffer.wrap(first)), 4)).isEmpty();
    }

    @Test
    void withSize_outOfRange_saysWhatWasExpected() {
        assertThatThrownBy(() -> AnchorIndex.withSize(3, 8)).hasMessage("tableBits: 3 (expected: 4..26)");
        assertThatThrownBy(() -> AnchorIndex.withSize(16, 25)).hasMessage("ringBits: 25 (expected: 4..24)");
    }
}
