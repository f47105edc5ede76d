package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ResemblanceSketchTest {

    private static final byte[] CHUNK = DedupTestData.random(1, 16 * 1024);

    @Test
    void of_sameBytes_sameSuperFeaturesWhereverTheyLie() {
        byte[] shifted = new byte[CHUNK.length + 100];
        System.arraycopy(CHUNK, 0, shifted, 100, CHUNK.length);
        long[] a = ResemblanceSketch.of(ByteBuffer.wrap(CHUNK));
        assertThat(a).hasSize(ResemblanceSketch.SUPER_FEATURES);
        assertThat(ResemblanceSketch.of(shifted, 100, CHUNK.length)).containsExactly(a);
        assertThat(ResemblanceSketch.of(ByteBuffer.allocateDirect(CHUNK.length).put(CHUNK).flip())).containsExactly(a);
    }

    @Test
    void of_oneEditedRegion_keepsTheOtherSuperFeatures() {
        byte[] edited = CHUNK.clone();
        int region = CHUNK.length / ResemblanceSketch.SUPER_FEATURES;
        System.arraycopy(DedupTestData.random(3, region - 100), 0, edited, 100, region - 200); // the first region

        int shared = ResemblanceSketch.shared(ResemblanceSketch.of(ByteBuffer.wrap(CHUNK)),
                ResemblanceSketch.of(ByteBuffer.wrap(edited)));
        assertThat(shared).isEqualTo(ResemblanceSketch.SUPER_FEATURES - 1);
    }

    @Test
    void of_smallInsertion_stillResembles() {
        byte[] inserted = new byte[CHUNK.length + 7];
        System.arraycopy(CHUNK, 0, inserted, 0, 8000);
        System.arraycopy(CHUNK, 8000, inserted, 8007, CHUNK.length - 8000);
        int shared = ResemblanceSketch.shared(ResemblanceSketch.of(ByteBuffer.wrap(CHUNK)),
                ResemblanceSketch.of(ByteBuffer.wrap(inserted)));
        assertThat(shared).isGreaterThanOrEqualTo(2);
    }

    @Test
    void of_unrelatedBytes_sharesNothing() {
        assertThat(ResemblanceSketch.shared(ResemblanceSketch.of(ByteBuffer.wrap(CHUNK)),
                ResemblanceSketch.of(ByteBuffer.wrap(DedupTestData.random(2, CHUNK.length))))).isZero();
    }

    @Test
    void of_shortChunk_hasNoSketch() {
        assertThat(ResemblanceSketch.of(CHUNK, 0, ResemblanceSketch.MIN_LENGTH - 1)).isEmpty();
        ByteBuffer b = ByteBuffer.wrap(CHUNK, 10, 1000);
        ResemblanceSketch.of(b);
        assertThat(b.position()).as("position unchanged").isEqualTo(10);
    }
}
