package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GearChunkerTest {

    private static final GearChunker CHUNKER = GearChunker.defaults();

    @Test
    void gearTable_fixedSeed_matchesPinnedEntries() {
        long[] g = GearTable.shared();
        assertThat(g).hasSize(256);
        assertThat(GearTable.generate(GearTable.SEED)).isEqualTo(g);
        assertThat(new long[] {g[0], g[1], g[128], g[255]}).containsExactly(PINNED_GEAR);
        assertThat(Arrays.stream(g).distinct().count()).isEqualTo(256);
    }

    @Test
    void cutPoints_fixedPseudoRandomInput_matchPinnedOffsets() {
        byte[] data = DedupTestData.random(1, 256 * 1024);
        assertThat(CHUNKER.cutPoints(data)).containsExactly(PINNED_CUTS);
    }

    @Test
    void cutPoints_smallChunkerOnFixedInput_matchPinnedOffsets() {
        GearChunker small = GearChunker.builder().minSize(256).averageSize(1024).maxSize(4096).build();
        byte[] data = DedupTestData.random(2, 16 * 1024);
        assertThat(small.cutPoints(data)).containsExactly(PINNED_SMALL_CUTS);
    }

    @Test
    void cutPoints_randomInputs_equalStraightforwardReference() {
        Random random = new Random(13);
        for (int trial = 0; trial < 12; trial++) {
            int avg = 256 << random.nextInt(6);
            GearChunker c = GearChunker.builder().minSize(64 + random.nextInt(avg - 64)).averageSize(avg)
                    .maxSize(avg + 1 + random.nextInt(8 * avg)).normalization(random.nextInt(4)).build();
            byte[] data = DedupTestData.random(200 + trial, random.nextInt(1 << 20));
            assertThat(c.cutPoints(data)).as("%s", c).isEqualTo(reference(c, data));
        }
    }

    /** The rules of GearChunker's Javadoc, one byte at a time, with no phases or unrolling. */
    private static int[] reference(GearChunker c, byte[] data) {
        long[] gear = GearTable.generate(0x736c697073747265L);
        int bits = Integer.numberOfTrailingZeros(c.averageSize());
        long maskS = ((1L << (bits + c.normalization())) - 1) << (63 - bits - c.normalization());
        long maskL = ((1L << (bits - c.normalization())) - 1) << (63 - bits + c.normalization());
        List<Integer> cuts = new ArrayList<>();
        int start = 0;
        long h = 0;
        for (int p = 0; p < data.length; p++) {
            int i = p - start;
            if (i >= c.minSize() - 64) {
                h = (h << 1) + gear[data[p] & 0xff];
            }
            boolean cut = i == c.maxSize() - 1
                    || i >= c.minSize() - 1 && (h & (i < c.averageSize() - 1 ? maskS : maskL)) == 0;
            if (cut) {
                cuts.add(p + 1);
                start = p + 1;
                h = 0;
            }
        }
        if (start < data.length) {
            cuts.add(data.length);
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void cutPoints_randomInput_respectMinAndMax() {
        for (GearChunker c : List.of(CHUNKER, GearChunker.builder().minSize(64).averageSize(256).maxSize(1024)
                .normalization(0).build(), GearChunker.builder().minSize(4096).averageSize(16384).maxSize(20000)
                .normalization(3).build())) {
            byte[] data = DedupTestData.random(3, 4 * 1024 * 1024 + 17);
            int[] cuts = c.cutPoints(data);
            assertThat(cuts[cuts.length - 1]).isEqualTo(data.length);
            int prev = 0;
            for (int i = 0; i < cuts.length; i++) {
                int len = cuts[i] - prev;
                assertThat(len).as("chunk %d of %s", i, c).isLessThanOrEqualTo(c.maxSize()).isPositive();
                if (i < cuts.length - 1) {
                    assertThat(len).as("chunk %d of %s", i, c).isGreaterThanOrEqualTo(c.minSize());
                }
                prev = cuts[i];
            }
        }
    }

    @Test
    void cutPoints_randomInput_averageNearTarget() {
        byte[] data = DedupTestData.random(4, 8 * 1024 * 1024);
        int[] cuts = CHUNKER.cutPoints(data);
        double mean = (double) data.length / cuts.length;
        assertThat(mean).isBetween(0.75 * CHUNKER.averageSize(), 1.5 * CHUNKER.averageSize());
    }

    @Test
    void cutPoints_constantInput_cutsAtMaxSize() {
        byte[] zeros = new byte[300_000];
        int[] cuts = CHUNKER.cutPoints(zeros);
        for (int i = 0; i < cuts.length - 1; i++) {
            assertThat(cuts[i]).isEqualTo((i + 1) * CHUNKER.maxSize());
        }
        assertThat(cuts[cuts.length - 1]).isEqualTo(zeros.length);
    }

    @Test
    void cutPoints_emptyInput_noChunks() {
        assertThat(CHUNKER.cutPoints(new byte[0])).isEmpty();
        assertThat(CHUNKER.cutPoints(ByteBuffer.allocateDirect(0))).isEmpty();
        IncrementalChunker inc = CHUNKER.incremental();
        List<Long> ends = new ArrayList<>();
        assertThat(inc.finish(ends::add)).isFalse();
        assertThat(ends).isEmpty();
    }

    @Test
    void cutPoints_oneByte_oneShortChunk() {
        assertThat(CHUNKER.cutPoints(new byte[] {42})).containsExactly(1);
    }

    @Test
    void cutPoints_inputShorterThanMin_oneChunk() {
        assertThat(CHUNKER.cutPoints(DedupTestData.random(5, 2047))).containsExactly(2047);
    }

    @Test
    void cutPoints_sameInputTwice_identical() {
        byte[] data = DedupTestData.random(6, 1 << 20);
        GearChunker other = GearChunker.builder().build();
        assertThat(other.cutPoints(data)).isEqualTo(CHUNKER.cutPoints(data)).isEqualTo(CHUNKER.cutPoints(data.clone()));
    }

    @Test
    void cutPoints_offsetRange_relativeToOffset() {
        byte[] data = DedupTestData.random(7, 200_000);
        byte[] padded = new byte[data.length + 100];
        System.arraycopy(data, 0, padded, 37, data.length);
        int[] expected = CHUNKER.cutPoints(data);
        assertThat(CHUNKER.cutPoints(padded, 37, data.length)).isEqualTo(expected);
        ByteBuffer heap = ByteBuffer.wrap(padded, 37, data.length).slice();
        assertThat(CHUNKER.cutPoints(heap)).isEqualTo(expected);
        ByteBuffer direct = ByteBuffer.allocateDirect(padded.length).put(padded).position(37).limit(37 + data.length);
        assertThat(CHUNKER.cutPoints(direct)).isEqualTo(expected);
        assertThat(direct.position()).isEqualTo(37);
    }

    @Test
    void incremental_randomSplits_equalWholeBuffer() {
        Random random = new Random(8);
        for (int trial = 0; trial < 20; trial++) {
            GearChunker c = trial % 2 == 0 ? CHUNKER
                    : GearChunker.builder().minSize(128).averageSize(512).maxSize(2048).build();
            byte[] data = DedupTestData.random(100 + trial, 1 + random.nextInt(3 * 1024 * 1024));
            long[] expected = Arrays.stream(c.cutPoints(data)).asLongStream().toArray();
            IncrementalChunker inc = c.incremental();
            List<Long> ends = new ArrayList<>();
            int kind = trial % 3;
            for (int p = 0; p < data.length; ) {
                int n = Math.min(data.length - p, trial % 5 == 0 ? 1 + random.nextInt(64) : 1 + random.nextInt(64 * 1024));
                if (kind == 0) {
                    inc.update(data, p, n, ends::add);
                } else if (kind == 1) {
                    inc.update(ByteBuffer.wrap(data, p, n).slice(), ends::add);
                } else {
                    ByteBuffer direct = ByteBuffer.allocateDirect(n).put(data, p, n).flip();
                    inc.update(direct, ends::add);
                    assertThat(direct.position()).isZero();
                }
                p += n;
                assertThat(inc.position()).isEqualTo(p);
                assertThat(inc.chunkStart()).isEqualTo(ends.isEmpty() ? 0 : ends.get(ends.size() - 1));
            }
            inc.finish(ends::add);
            assertThat(ends.stream().mapToLong(Long::longValue).toArray()).as("trial %d", trial).isEqualTo(expected);
            assertThat(inc.position()).isZero();
        }
    }

    @Test
    void incremental_afterFinish_startsNewStream() {
        byte[] data = DedupTestData.random(9, 100_000);
        IncrementalChunker inc = CHUNKER.incremental();
        List<Long> first = new ArrayList<>();
        inc.update(data, first::add);
        inc.finish(first::add);
        List<Long> second = new ArrayList<>();
        inc.update(data, second::add);
        inc.finish(second::add);
        assertThat(second).isEqualTo(first);
    }

    @Test
    void cutPoints_onePercentOfChunksEditedByOneByte_shareOver90PercentOfChunks() {
        byte[] original = DedupTestData.random(10, 8 * 1024 * 1024);
        byte[] edited = original.clone();
        Random random = new Random(11);
        int chunks = CHUNKER.cutPoints(original).length;
        int edits = Math.max(1, chunks / 100);
        for (int i = 0; i < edits; i++) {
            int at = random.nextInt(edited.length);
            edited[at] = (byte) (edited[at] + 1 + random.nextInt(255));
        }
        double shared = sharedChunkShare(original, edited);
        System.out.printf("dedup: %d single-byte edits over %d chunks (8 MiB): %.2f%% of chunks shared%n", edits,
                chunks, 100 * shared);
        assertThat(shared).isGreaterThan(0.90);
    }

    @Test
    void cutPoints_byteInsertedInTheMiddle_changesOnlyNearbyChunks() {
        byte[] original = DedupTestData.random(12, 2 * 1024 * 1024);
        byte[] edited = new byte[original.length + 1];
        int at = original.length / 2;
        System.arraycopy(original, 0, edited, 0, at);
        edited[at] = 7;
        System.arraycopy(original, at, edited, at + 1, original.length - at);
        Set<ChunkFingerprint> before = chunkSet(original);
        Set<ChunkFingerprint> after = chunkSet(edited);
        Set<ChunkFingerprint> onlyAfter = new HashSet<>(after);
        onlyAfter.removeAll(before);
        assertThat(onlyAfter).hasSizeLessThanOrEqualTo(2);
    }

    @Test
    void builder_invalidSizes_throwWithExpectation() {
        assertThatThrownBy(() -> GearChunker.builder().minSize(63))
                .hasMessage("minSize: 63 (expected: >= 64)");
        assertThatThrownBy(() -> GearChunker.builder().averageSize(3000))
                .hasMessage("averageSize: 3000 (expected: a power of two in 256..16777216)");
        assertThatThrownBy(() -> GearChunker.builder().maxSize(0))
                .hasMessage("maxSize: 0 (expected: 1..268435456)");
        assertThatThrownBy(() -> GearChunker.builder().normalization(4))
                .hasMessage("normalization: 4 (expected: 0..3)");
        assertThatThrownBy(() -> GearChunker.builder().minSize(8192).build())
                .hasMessage("minSize: 8192 (expected: < averageSize 8192)");
        assertThatThrownBy(() -> GearChunker.builder().maxSize(8192).build())
                .hasMessage("maxSize: 8192 (expected: > averageSize 8192)");
    }

    @Test
    void defaults_documentedSizes() {
        assertThat(CHUNKER.minSize()).isEqualTo(2048);
        assertThat(CHUNKER.averageSize()).isEqualTo(8192);
        assertThat(CHUNKER.maxSize()).isEqualTo(65536);
        assertThat(CHUNKER.normalization()).isEqualTo(2);
        assertThat(CHUNKER.toBuilder().build()).isEqualTo(CHUNKER);
        assertThat(GearChunker.mask(13)).isEqualTo(0x7ffc000000000000L);
    }

    private static Set<ChunkFingerprint> chunkSet(byte[] data) {
        ChunkFingerprinter f = ChunkFingerprinter.withKey(new byte[16]);
        Set<ChunkFingerprint> set = new HashSet<>();
        int prev = 0;
        for (int cut : CHUNKER.cutPoints(data)) {
            set.add(f.fingerprint(data, prev, cut - prev));
            prev = cut;
        }
        return set;
    }

    /** Share of the edited version's chunks (by count) that the original version also has. */
    private static double sharedChunkShare(byte[] original, byte[] edited) {
        Set<ChunkFingerprint> before = chunkSet(original);
        ChunkFingerprinter f = ChunkFingerprinter.withKey(new byte[16]);
        int prev = 0;
        int total = 0;
        int shared = 0;
        for (int cut : CHUNKER.cutPoints(edited)) {
            total++;
            if (before.contains(f.fingerprint(edited, prev, cut - prev))) {
                shared++;
            }
            prev = cut;
        }
        return (double) shared / total;
    }

    // Recorded from this implementation when it was written; they must never change.
    private static final long[] PINNED_GEAR = {
        0xde94b6a5adc8d82aL, 0xb8912bbf558f0c28L, 0x79f2026f17621e43L, 0xc71e3ae16938e2f3L};
    private static final int[] PINNED_CUTS = {
        8247, 19870, 28301, 40964, 49541, 57958, 71669, 88128, 95996, 99243, 109133, 118791, 130506, 140130,
        149659, 162015, 172748, 181462, 186446, 197129, 205721, 208771, 217750, 227661, 234004, 243184, 254464,
        262144};
    private static final int[] PINNED_SMALL_CUTS = {
        974, 2705, 3826, 5929, 7798, 9339, 10407, 11777, 13176, 13632, 14793, 15976, 16384};
}
