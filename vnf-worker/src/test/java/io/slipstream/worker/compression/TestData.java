package io.slipstream.worker.compression;

import io.slipstream.tools.workload.Corpus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Deterministic inputs for compression tests. */
public final class TestData {

    private TestData() {
    }

    public static byte[] text(int size) {
        StringBuilder sb = new StringBuilder(size + 100);
        int i = 0;
        while (sb.length() < size) {
            sb.append("Line ").append(i++).append(": the quick brown fox jumps over the lazy dog; ")
                    .append("pack my box with five dozen liquor jugs.\n");
        }
        return sb.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    public static byte[] mixed(long seed, int size) {
        return Corpus.generate(seed, size);
    }

    /** A buffer holding {@code bytes}, heap or direct, positioned at 0. */
    public static ByteBuffer buffer(byte[] bytes, boolean direct) {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(bytes.length) : ByteBuffer.allocate(bytes.length);
        b.put(bytes).flip();
        return b;
    }

    public static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
