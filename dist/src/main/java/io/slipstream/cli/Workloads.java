package io.slipstream.cli;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** Deterministic data for demos and benchmarks. */
final class Workloads {

    private Workloads() {}

    /**
     * A file-like buffer: records of text and numbers with some binary noise, compressible about
     * 3-4x by zstd, with little long-range repetition of its own.
     */
    static byte[] fileLike(int size, long seed) {
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
    static final int EDITS = 64;

    /**
     * A copy of {@code original} with {@code fraction} of its bytes rewritten in {@link #EDITS}
     * small edits at scattered places (a document or data file changed here and there).
     */
    static byte[] edited(byte[] original, double fraction, long seed) {
        byte[] copy = original.clone();
        Random random = new Random(seed);
        int runLength = Math.max(1, (int) (copy.length * fraction / EDITS));
        for (int r = 0; r < EDITS; r++) {
            int at = random.nextInt(copy.length - runLength);
            for (int i = 0; i < runLength; i++) {
                copy[at + i] = (byte) ('A' + random.nextInt(26));
            }
        }
        return copy;
    }

    /** Random bytes: the incompressible case. */
    static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
