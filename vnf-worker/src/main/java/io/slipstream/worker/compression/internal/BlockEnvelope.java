package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CorruptBlockException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The 18-byte self-describing header in front of every block (big-endian):
 *
 * <pre>
 * offset size field
 *  0     2    magic 0x53 0x43 ("SC")
 *  2     1    version = 1
 *  3     1    codec id (1 zstd, 2 lz4, 3 deflate, 4 gzip)
 *  4     1    flags: bit 0 STORED (payload is the raw bytes); other bits must be 0
 *  5     1    reserved, must be 0
 *  6     4    original length (unsigned, at most the configured maximum block size)
 * 10     4    payload length (equal to the original length when STORED)
 * 14     4    CRC-32C of the original bytes
 * 18     n    payload: one standard frame of the codec, or the raw bytes when STORED
 * </pre>
 */
public final class BlockEnvelope {

    public static final int HEADER_BYTES = 18;
    public static final int FLAG_STORED = 1;
    static final byte MAGIC_0 = 0x53;
    static final byte MAGIC_1 = 0x43;
    static final byte VERSION = 1;

    private BlockEnvelope() {
    }

    /** A parsed, validated header. */
    public static final class Header {
        public final Codec codec;
        public final boolean stored;
        public final int originalLength;
        public final int payloadLength;
        public final int crc;

        Header(Codec codec, boolean stored, int originalLength, int payloadLength, int crc) {
            this.codec = codec;
            this.stored = stored;
            this.originalLength = originalLength;
            this.payloadLength = payloadLength;
            this.crc = crc;
        }

        public int envelopeLength() {
            return HEADER_BYTES + payloadLength;
        }
    }

    public static void writeHeader(ByteBuffer dst, int at, Codec codec, boolean stored, int originalLength,
            int payloadLength, int crc) {
        dst.put(at, MAGIC_0).put(at + 1, MAGIC_1).put(at + 2, VERSION).put(at + 3, (byte) codec.id())
                .put(at + 4, (byte) (stored ? FLAG_STORED : 0)).put(at + 5, (byte) 0)
                .putInt(at + 6, originalLength).putInt(at + 10, payloadLength).putInt(at + 14, crc);
    }

    /**
     * The total length of the envelope starting at {@code src.position()}, or -1 when fewer than
     * {@link #HEADER_BYTES} bytes are there. Validates the header.
     */
    public static int peekLength(ByteBuffer src, int maxBlockBytes) {
        if (src.remaining() < HEADER_BYTES) {
            return -1;
        }
        return parse(src, maxBlockBytes).envelopeLength();
    }

    /** Parses and validates the header at {@code src.position()} without moving it. */
    public static Header parse(ByteBuffer src, int maxBlockBytes) {
        int p = src.position();
        if (src.remaining() < HEADER_BYTES) {
            throw new CorruptBlockException("block: " + src.remaining() + " bytes is shorter than the "
                    + HEADER_BYTES + "-byte envelope header");
        }
        if (src.get(p) != MAGIC_0 || src.get(p + 1) != MAGIC_1) {
            throw new CorruptBlockException(String.format("block: bad magic %02x %02x (expected: 53 43)",
                    src.get(p) & 0xFF, src.get(p + 1) & 0xFF));
        }
        if (src.get(p + 2) != VERSION) {
            throw new CorruptBlockException("block: envelope version " + (src.get(p + 2) & 0xFF) + " (expected: 1)");
        }
        Codec codec = Codec.byId(src.get(p + 3) & 0xFF);
        if (codec == null) {
            throw new CorruptBlockException("block: unknown codec id " + (src.get(p + 3) & 0xFF) + " (expected: 1..4)");
        }
        int flags = src.get(p + 4) & 0xFF;
        if ((flags & ~FLAG_STORED) != 0 || src.get(p + 5) != 0) {
            throw new CorruptBlockException("block: unknown flags " + flags + " or reserved byte set");
        }
        boolean stored = (flags & FLAG_STORED) != 0;
        long original = src.getInt(p + 6) & 0xFFFFFFFFL;
        long payload = src.getInt(p + 10) & 0xFFFFFFFFL;
        if (original > maxBlockBytes) {
            throw new CorruptBlockException("block: declared size " + original + " exceeds the maximum block size "
                    + maxBlockBytes);
        }
        if (stored ? payload != original : payload > (long) maxBlockBytes * 2 + 1024) {
            throw new CorruptBlockException("block: payload length " + payload + " does not fit original length "
                    + original + (stored ? " (stored)" : ""));
        }
        if (!stored && payload == 0) {
            throw new CorruptBlockException("block: empty compressed payload");
        }
        return new Header(codec, stored, (int) original, (int) payload, src.getInt(p + 14));
    }

    /** CRC-32C of the remaining bytes of {@code b}; does not move its position. */
    public static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate());
        return (int) crc.getValue();
    }
}
