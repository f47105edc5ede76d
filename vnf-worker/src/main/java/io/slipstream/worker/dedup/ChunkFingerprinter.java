package io.slipstream.worker.dedup;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Computes {@link ChunkFingerprint}s with SipHash-2-4-128 (Aumasson and Bernstein; the 128-bit output variant
 * of the reference implementation {@code veorq/SipHash}, checked against its {@code vectors_sip128}) under a
 * 128-bit key that belongs to one peer pair. Without the key, nobody outside the pair can tell from the
 * fingerprints on the wire which content crossed it, nor plant chunks that collide with future ones.
 *
 * <p>Why SipHash and not HMAC-SHA256 (see docs/dedup.md for the figures): both are keyed PRFs; SipHash-2-4 is
 * faster per byte than the JDK's HMAC-SHA256 even with SHA intrinsics, needs no per-thread {@code Mac}
 * instance (this class is immutable and thread-safe), and 128 bits are enough for a per-peer store of a few
 * million chunks (collision probability ~ n&sup2;/2&sup1;&sup2;&sup9;).
 *
 * <p>Key handling: the key is 16 bytes, derived per peer pair by the tunnel handshake (not here) and never
 * logged; {@link #toString()} does not show it. Both peers must use the same key.
 */
public final class ChunkFingerprinter {

    /** Key size in bytes. */
    public static final int KEY_BYTES = 16;

    private static final VarHandle LONG_LE_ARRAY = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE_BUFFER = MethodHandles.byteBufferViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private final long k0;
    private final long k1;

    private ChunkFingerprinter(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /** A fingerprinter for the peer pair whose key is {@code key} (16 bytes, copied). */
    public static ChunkFingerprinter withKey(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("key: " + key.length + " bytes (expected: " + KEY_BYTES + ")");
        }
        return new ChunkFingerprinter((long) LONG_LE_ARRAY.get(key, 0), (long) LONG_LE_ARRAY.get(key, 8));
    }

    public ChunkFingerprint fingerprint(byte[] data) {
        return fingerprint(data, 0, data.length);
    }

    public ChunkFingerprint fingerprint(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL ^ 0xee;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        int end = off + (len & ~7);
        for (int i = off; i < end; i += 8) {
            long m = (long) LONG_LE_ARRAY.get(data, i);
            v3 ^= m;
            // Two SipRounds, inlined.
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            v0 ^= m;
        }
        long last = (long) len << 56;
        for (int i = len & 7; i > 0; i--) {
            last |= (data[end + i - 1] & 0xffL) << (8 * (i - 1));
        }
        return finish(v0, v1, v2, v3, last);
    }

    /** The fingerprint of the remaining bytes of {@code data} (heap or direct); its position is not changed. */
    public ChunkFingerprint fingerprint(ByteBuffer data) {
        if (data.hasArray()) {
            return fingerprint(data.array(), data.arrayOffset() + data.position(), data.remaining());
        }
        int off = data.position();
        int len = data.remaining();
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL ^ 0xee;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;
        int end = off + (len & ~7);
        for (int i = off; i < end; i += 8) {
            long m = (long) LONG_LE_BUFFER.get(data, i);
            v3 ^= m;
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
            v0 ^= m;
        }
        long last = (long) len << 56;
        for (int i = len & 7; i > 0; i--) {
            last |= (data.get(end + i - 1) & 0xffL) << (8 * (i - 1));
        }
        return finish(v0, v1, v2, v3, last);
    }

    private static ChunkFingerprint finish(long v0, long v1, long v2, long v3, long last) {
        v3 ^= last;
        for (int r = 0; r < 2; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        v0 ^= last;
        v2 ^= 0xee;
        for (int r = 0; r < 4; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        long out0 = v0 ^ v1 ^ v2 ^ v3;
        v1 ^= 0xdd;
        for (int r = 0; r < 4; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        long out1 = v0 ^ v1 ^ v2 ^ v3;
        // Reference output bytes: out0 then out1, each little-endian; the wire form reads them big-endian.
        return ChunkFingerprint.of(Long.reverseBytes(out0), Long.reverseBytes(out1));
    }

    @Override
    public String toString() {
        return "ChunkFingerprinter{SipHash-2-4-128, key=<hidden>}";
    }
}
