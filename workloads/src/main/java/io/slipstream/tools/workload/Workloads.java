package io.slipstream.tools.workload;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Deterministic data for demos and benchmarks. */
public final class Workloads {

    private Workloads() {}

    /**
     * A file-like buffer: records of text and numbers with some binary noise, compressible about
     * 3-4x by zstd, with little long-range repetition of its own.
     */
    public static byte[] fileLike(int size, long seed) {
        Random random = new Random(seed);
        String[] words = {"backup", "volume", "share", "artifact", "invoice", "customer", "branch", "report",
            "quarter", "ledger", "release", "checksum", "snapshot", "payload", "segment", "record"};
        StringBuilder text = new StringBuilder(size + 256);
        long id = random.nextInt(1_000_000);
        while (text.length() < size) {
            text.append(id++).append(',').append(words[random.nextInt(words.length)]).append(',')
                    .append(words[random.nextInt(words.length)]).append(',').append(random.nextInt(100_000))
                    .append('.').append(random.nextInt(100)).append(',').append(Long.toHexString(random.nextLong()))
                    .append('\n');
        }
        byte[] bytes = new byte[size];
        System.arraycopy(text.toString().getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, size);
        return bytes;
    }

    /** Scattered edits in a near-duplicate version. */
    public static final int EDITS = 64;

    /**
     * A version of {@code original} with about {@code fraction} of its bytes changed in {@link #EDITS} small
     * edits at scattered places, as a document or data file changes: a third rewrite bytes in place, a third
     * insert new bytes (shifting what follows), a third delete bytes.
     */
    public static byte[] edited(byte[] original, double fraction, long seed) {
        Random random = new Random(seed);
        int runLength = Math.max(1, (int) (original.length * fraction / EDITS));
        // Edit positions in increasing order, so each edit applies to the original's coordinates.
        int[] at = new int[EDITS];
        for (int r = 0; r < EDITS; r++) {
            at[r] = random.nextInt(Math.max(1, original.length - runLength));
        }
        java.util.Arrays.sort(at);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(original.length + runLength * EDITS);
        int from = 0;
        for (int r = 0; r < EDITS; r++) {
            int start = Math.max(at[r], from);
            out.write(original, from, start - from);
            byte[] fresh = new byte[runLength];
            for (int i = 0; i < runLength; i++) {
                fresh[i] = (byte) ('A' + random.nextInt(26));
            }
            switch (r % 3) {
                case 0 -> { // overwrite
                    int n = Math.min(runLength, original.length - start);
                    out.write(fresh, 0, n);
                    from = start + n;
                }
                case 1 -> { // insert
                    out.write(fresh, 0, runLength);
                    from = start;
                }
                default -> from = Math.min(original.length, start + runLength); // delete
            }
        }
        out.write(original, from, original.length - from);
        return out.toByteArray();
    }

    /** Random bytes: the incompressible case. */
    public static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
