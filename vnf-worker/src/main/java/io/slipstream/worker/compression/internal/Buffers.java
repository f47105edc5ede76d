package io.slipstream.worker.compression.internal;

import java.nio.ByteBuffer;

/** Small ByteBuffer helpers shared by the engines. */
public final class Buffers {

    private Buffers() {
    }

    /** Whether the buffer exposes a writable or readable backing array. */
    public static boolean hasArray(ByteBuffer b) {
        return b.hasArray() && !b.isReadOnly();
    }

    /** The remaining bytes of {@code b} as a fresh array; does not move its position. */
    public static byte[] toArray(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }
}
