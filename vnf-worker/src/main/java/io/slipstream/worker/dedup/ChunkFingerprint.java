package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The 128-bit keyed fingerprint of a chunk, as computed by {@link ChunkFingerprinter}. Immutable; equals and
 * hashCode make it a map key. Its wire form is {@link #BYTES} bytes: {@link #msb()} then {@link #lsb()}, both
 * big-endian (the fingerprinter's output bytes in order).
 */
public final class ChunkFingerprint {

    /** Size of the wire form. */
    public static final int BYTES = 16;

    private static final HexFormat HEX = HexFormat.of();

    private final long msb;
    private final long lsb;

    private ChunkFingerprint(long msb, long lsb) {
        this.msb = msb;
        this.lsb = lsb;
    }

    /** From the two halves of the wire form, each read big-endian. */
    public static ChunkFingerprint of(long msb, long lsb) {
        return new ChunkFingerprint(msb, lsb);
    }

    /** From exactly {@link #BYTES} bytes. */
    public static ChunkFingerprint fromBytes(byte[] bytes) {
        if (bytes.length != BYTES) {
            throw new IllegalArgumentException("fingerprint: " + bytes.length + " bytes (expected: " + BYTES + ")");
        }
        return read(ByteBuffer.wrap(bytes));
    }

    /** Reads the wire form at the buffer's position and advances it by {@link #BYTES}. */
    public static ChunkFingerprint read(ByteBuffer src) {
        if (src.remaining() < BYTES) {
            throw new IllegalArgumentException("fingerprint: " + src.remaining() + " bytes remaining (expected: >= "
                    + BYTES + ")");
        }
        long hi = src.getLong();
        long lo = src.getLong();
        if (src.order() != java.nio.ByteOrder.BIG_ENDIAN) {
            hi = Long.reverseBytes(hi);
            lo = Long.reverseBytes(lo);
        }
        return new ChunkFingerprint(hi, lo);
    }

    /** From 32 hex digits, as printed by {@link #toString()}. */
    public static ChunkFingerprint fromHex(String hex) {
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != 2 * BYTES) {
            throw new IllegalArgumentException("fingerprint: '" + hex + "' (expected: " + 2 * BYTES + " hex digits)");
        }
        return fromBytes(HEX.parseHex(hex));
    }

    public long msb() {
        return msb;
    }

    public long lsb() {
        return lsb;
    }

    /** Writes the wire form at the buffer's position and advances it by {@link #BYTES}. */
    public ByteBuffer writeTo(ByteBuffer dst) {
        if (dst.order() == java.nio.ByteOrder.BIG_ENDIAN) {
            return dst.putLong(msb).putLong(lsb);
        }
        return dst.putLong(Long.reverseBytes(msb)).putLong(Long.reverseBytes(lsb));
    }

    /** The wire form in a new array. */
    public byte[] toBytes() {
        byte[] b = new byte[BYTES];
        ByteBuffer.wrap(b).putLong(msb).putLong(lsb);
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkFingerprint f && f.msb == msb && f.lsb == lsb;
    }

    @Override
    public int hashCode() {
        // The bits are already uniformly distributed (keyed PRF output).
        return (int) lsb;
    }

    /** 32 lower-case hex digits of the wire form. */
    @Override
    public String toString() {
        return HEX.toHexDigits(msb) + HEX.toHexDigits(lsb);
    }
}
