package io.slipstream.worker.dedup;

/**
 * The 256-entry Gear table of {@link GearChunker}. It is part of the wire contract: both peers, and every
 * version of Slipstream, must cut the same bytes at the same places, so the table never changes.
 *
 * <p>Generation (computed once at class initialisation, pinned by {@code GearChunkerTest}): entry {@code i}
 * (0..255) is the {@code (i + 1)}-th output of SplitMix64 started from the state
 * {@link #SEED} ({@code 0x736c697073747265}, the ASCII bytes of {@code "slipstre"}), i.e.
 * <pre>{@code
 * long state = SEED;
 * for (int i = 0; i < 256; i++) {
 *     state += 0x9e3779b97f4a7c15L;
 *     long z = state;
 *     z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
 *     z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
 *     TABLE[i] = z ^ (z >>> 31);
 * }
 * }</pre>
 */
final class GearTable {

    /** The fixed seed: the ASCII bytes of {@code "slipstre"} read big-endian. */
    static final long SEED = 0x736c697073747265L;

    private static final long[] TABLE = generate(SEED);

    private GearTable() {
    }

    /** The shared table; callers must not modify it. */
    static long[] shared() {
        return TABLE;
    }

    static long[] generate(long seed) {
        long[] t = new long[256];
        long state = seed;
        for (int i = 0; i < t.length; i++) {
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            t[i] = z ^ (z >>> 31);
        }
        return t;
    }
}
