package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the sender indexes of a chunk to find delta bases for later chunks: its resemblance sketch
 * ({@link ResemblanceSketch}) and its content-defined anchors ({@link AnchorIndex}), both taken from the
 * Gear rolling hash, so one pass over the bytes computes them together. Pure and thread-safe.
 *
 * @param sketch the super-features, empty for a chunk shorter than {@link ResemblanceSketch#MIN_LENGTH}
 * @param anchors the anchors in order of position, at most {@link AnchorIndex#MAX_ANCHORS}
 * @param anchorOffsets where each anchor lies in the chunk: the offset of the last byte its hash covers
 * @param length the chunk's length in bytes
 */
public record ChunkFeatures(long[] sketch, long[] anchors, int[] anchorOffsets, int length) {

    private static final long[] GEAR = GearTable.shared();

    /** The features of the remaining bytes of {@code chunk} (its position is not changed). */
    public static ChunkFeatures of(ByteBuffer chunk) {
        int base = chunk.position();
        int length = chunk.remaining();
        boolean sketched = length >= ResemblanceSketch.MIN_LENGTH;
        int subChunks = sketched ? ResemblanceSketch.FEATURES : 1;
        long[] features = new long[subChunks];
        long[] found = new long[Math.min(AnchorIndex.MAX_ANCHORS, Math.max(4, length >> (AnchorIndex.ANCHOR_BITS - 1)))];
        int[] offsets = new int[found.length];
        int n = 0;
        long h = 0;
        int pos = 0;
        for (int f = 0; f < subChunks; f++) {
            int end = (int) ((long) (f + 1) * length / subChunks);
            long max = Long.MIN_VALUE;
            for (; pos < end; pos++) {
                h = (h << 1) + GEAR[chunk.get(base + pos) & 0xff];
                if (h > max) {
                    max = h;
                }
                // An anchor: the hash's top bits zero, once it covers a whole window of this chunk's bytes.
                if ((h >>> (64 - AnchorIndex.ANCHOR_BITS)) == 0 && h != 0 && pos >= AnchorIndex.WINDOW - 1
                        && n < found.length) {
                    offsets[n] = pos;
                    found[n++] = h;
                }
            }
            features[f] = max;
        }
        return new ChunkFeatures(sketched ? ResemblanceSketch.superFeatures(features) : ResemblanceSketch.NONE,
                n == found.length ? found : Arrays.copyOf(found, n),
                n == offsets.length ? offsets : Arrays.copyOf(offsets, n), length);
    }
}
