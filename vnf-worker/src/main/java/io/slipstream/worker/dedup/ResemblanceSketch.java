package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;

/**
 * Super-features of a chunk for finding a similar chunk (a delta base) by content, in the manner of
 * Finesse (Zhang et al., FAST '19): the chunk is split into {@link #FEATURES} equal sub-chunks, the
 * feature of each is the largest Gear rolling hash (a function of the last 64 bytes) seen in it, and
 * every {@link #GROUP} neighbouring features are hashed into one super-feature. Two chunks that share a
 * super-feature very likely share the content of those sub-chunks; an edit changes the features of the
 * sub-chunks it touches and leaves the others. Finesse groups features by rank across the chunk; we
 * group neighbours, so an edit spoils only the super-feature around it, and use small groups (6 of 2),
 * because the candidate is checked by compressing against it (a false positive costs one attempt, a
 * miss costs a literal) (small shifts move sub-chunk borders by a few bytes, which
 * rarely moves a maximum out of its sub-chunk). Unlike N-transform sketches (one hash per transform per
 * byte) this costs one rolling hash per byte, shared with the chunk's anchors ({@link ChunkFeatures}).
 * Pure and thread-safe.
 */
public final class ResemblanceSketch {

    /** Sub-chunks, one feature each. */
    public static final int FEATURES = 12;
    /** Features per super-feature: pairs, so that edits every few KiB still leave some intact. */
    public static final int GROUP = 2;
    /** Super-features per sketch. */
    public static final int SUPER_FEATURES = FEATURES / GROUP;
    /** Chunks shorter than this have no sketch (too little content for features to mean anything). */
    public static final int MIN_LENGTH = 256;

    static final long[] NONE = new long[0];

    private ResemblanceSketch() {
    }

    /**
     * The {@link #SUPER_FEATURES} super-features of the remaining bytes of {@code chunk} (its position is
     * not changed), or an empty array when it is shorter than {@link #MIN_LENGTH}.
     */
    public static long[] of(ByteBuffer chunk) {
        return ChunkFeatures.of(chunk).sketch();
    }

    /** The super-features of {@link #FEATURES} features. */
    static long[] superFeatures(long[] features) {
        long[] sketch = new long[SUPER_FEATURES];
        for (int s = 0; s < SUPER_FEATURES; s++) {
            long x = 0x9e3779b97f4a7c15L * (s + 1);
            for (int g = 0; g < GROUP; g++) {
                x = mix(x ^ features[s * GROUP + g]);
            }
            sketch[s] = x;
        }
        return sketch;
    }

    /** {@link #of(ByteBuffer)} of {@code chunk[off, off + len)}. */
    public static long[] of(byte[] chunk, int off, int len) {
        return of(ByteBuffer.wrap(chunk, off, len));
    }

    /** Super-features two sketches share, position by position (0 when either is empty). */
    public static int shared(long[] a, long[] b) {
        int n = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            if (a[i] == b[i]) {
                n++;
            }
        }
        return n;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
