package io.slipstream.worker.dedup;

/** Deterministic test input: SplitMix64 bytes, reproducible across JVMs and versions. */
final class DedupTestData {

    private DedupTestData() {
    }

    /** {@code n} bytes: SplitMix64 outputs from {@code seed}, each written little-endian. */
    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        long state = seed;
        for (int i = 0; i < n; i += 8) {
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            z ^= z >>> 31;
            for (int j = 0; j < 8 && i + j < n; j++) {
                b[i + j] = (byte) (z >>> (8 * j));
            }
        }
        return b;
    }
}
