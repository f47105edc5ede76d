package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChunkFeaturesTest {

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    @Test
    void of_sliceOfALargerBuffer_sameFeaturesAsACopyAndPositionKept() {
        byte[] chunk = random(1, 40_000);
        byte[] framed = new byte[chunk.length + 300];
        System.arraycopy(chunk, 0, framed, 100, chunk.length);
        ByteBuffer slice = ByteBuffer.wrap(framed, 100, chunk.length);

        ChunkFeatures copy = ChunkFeatures.of(ByteBuffer.wrap(chunk));
        ChunkFeatures inPlace = ChunkFeatures.of(slice);

        assertThat(inPlace.sketch()).containsExactly(copy.sketch()).hasSize(ResemblanceSketch.SUPER_FEATURES);
        assertThat(inPlace.anchors()).containsExactly(copy.anchors()).hasSizeBetween(15, 80); // ~ one per KiB
        assertThat(inPlace.anchorOffsets()).containsExactly(copy.anchorOffsets()).isSorted();
        assertThat(inPlace.length()).isEqualTo(40_000);
        assertThat(slice.position()).isEqualTo(100);
    }

    @Test
    void of_chunkShorterThanASketch_anchorsOnly() {
        byte[] small = random(2, ResemblanceSketch.MIN_LENGTH - 1);
        ChunkFeatures features = ChunkFeatures.of(ByteBuffer.wrap(small));
        assertThat(features.sketch()).isEmpty();
        assertThat(features.anchors()).hasSizeLessThanOrEqualTo(4);
    }

    @Test
    void of_veryLargeChunk_anchorsBounded() {
        ChunkFeatures features = ChunkFeatures.of(ByteBuffer.wrap(random(3, 1 << 20)));
        assertThat(features.anchors()).hasSize(AnchorIndex.MAX_ANCHORS);
    }
}
