package io.slipstream.worker.compression.software;

import io.slipstream.worker.compression.AbstractCompressionEngine;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CorruptBlockException;
import io.slipstream.worker.compression.internal.Pool;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * DEFLATE through the JDK's zlib: {@link Codec#DEFLATE} is a raw RFC 1951 stream, {@link Codec#GZIP}
 * one RFC 1952 member (10-byte header, raw stream, CRC-32 and size trailer). Pooled Deflaters and
 * Inflaters; inflation is bounded by the destination.
 */
public final class ZlibEngine extends AbstractCompressionEngine {

    private static final int GZIP_HEADER = 10;
    private static final int GZIP_TRAILER = 8;
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    private final boolean gzip;
    private final Pool<Deflater> deflaters;
    private final Pool<Inflater> inflaters;

    public ZlibEngine(Codec codec, int level) {
        super(codec, level);
        if (codec != Codec.DEFLATE && codec != Codec.GZIP) {
            throw new IllegalArgumentException("codec: " + codec + " (expected: DEFLATE or GZIP)");
        }
        this.gzip = codec == Codec.GZIP;
        int lvl = level();
        int maxIdle = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        this.deflaters = new Pool<>(() -> new Deflater(lvl, true), Deflater::end, maxIdle);
        this.inflaters = new Pool<>(() -> new Inflater(true), Inflater::end, maxIdle);
    }

    @Override
    public int maxCompressedLength(int n) {
        long bound = (long) n + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 8;
        return (int) Math.min(Integer.MAX_VALUE, bound + (gzip ? GZIP_HEADER + GZIP_TRAILER : 0));
    }

    @Override
    protected int doCompress(ByteBuffer src, ByteBuffer dst) {
        int length = src.remaining();
        CRC32 crc = null;
        if (gzip) {
            crc = new CRC32();
            crc.update(src.duplicate());
            if (dst.remaining() < GZIP_HEADER) {
                throw new CompressionException("gzip: output does not fit in " + dst.limit() + " bytes");
            }
            // ID1 ID2 CM=8 FLG=0 MTIME=0 XFL=0 OS=255 (unknown)
            dst.put(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
        }
        Deflater d = deflaters.borrow();
        boolean broken = true;
        try {
            d.reset();
            d.setInput(src);
            d.finish();
            while (!d.finished()) {
                if (!dst.hasRemaining()) {
                    throw new CompressionException(getCodecName() + ": output does not fit in " + dst.limit() + " bytes");
                }
                d.deflate(dst);
            }
            broken = false;
        } finally {
            deflaters.release(d, broken);
        }
        if (gzip) {
            if (dst.remaining() < GZIP_TRAILER) {
                throw new CompressionException("gzip: output does not fit in " + dst.limit() + " bytes");
            }
            dst.order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).putInt(length);
        }
        return dst.position();
    }

    private String getCodecName() {
        return gzip ? "gzip" : "deflate";
    }

    @Override
    protected int doDecompress(ByteBuffer src, ByteBuffer dst) {
        if (gzip) {
            skipGzipHeader(src);
        }
        Inflater inf = inflaters.borrow();
        boolean broken = true;
        try {
            inf.reset();
            inf.setInput(src);
            ByteBuffer probe = ByteBuffer.allocate(1);
            long lastRead = -1;
            int lastWritten = -1;
            while (!inf.finished()) {
                if (inf.getBytesRead() == lastRead && dst.position() == lastWritten) {
                    throw new CorruptBlockException(getCodecName() + " stream makes no progress");
                }
                lastRead = inf.getBytesRead();
                lastWritten = dst.position();
                if (dst.hasRemaining()) {
                    inf.inflate(dst);
                } else {
                    // The destination is full: the stream must end here without another byte of output.
                    if (inf.inflate(probe) > 0) {
                        throw new CorruptBlockException(getCodecName() + " stream expands past " + dst.limit() + " bytes");
                    }
                }
                if (inf.finished()) {
                    break;
                }
                if (inf.needsDictionary()) {
                    throw new CorruptBlockException(getCodecName() + " stream needs a preset dictionary (not supported)");
                }
                if (inf.needsInput()) {
                    throw new CorruptBlockException(getCodecName() + " stream truncated after " + src.limit() + " bytes");
                }
            }
            broken = false;
            src.position(src.limit() - inf.getRemaining());
        } catch (DataFormatException e) {
            throw new CorruptBlockException(getCodecName() + " stream rejected: " + e.getMessage(), e);
        } finally {
            inflaters.release(inf, broken);
        }
        int written = dst.position();
        if (gzip) {
            if (src.remaining() != GZIP_TRAILER) {
                throw new CorruptBlockException("gzip: expected an 8-byte trailer, found " + src.remaining() + " bytes");
            }
            ByteBuffer t = src.slice().order(ByteOrder.LITTLE_ENDIAN);
            int crcValue = t.getInt();
            int size = t.getInt();
            CRC32 crc = new CRC32();
            ByteBuffer out = dst.duplicate().flip();
            crc.update(out);
            if ((int) crc.getValue() != crcValue || size != written) {
                throw new CorruptBlockException("gzip: CRC-32 or size in the trailer does not match the data");
            }
            src.position(src.limit());
        } else if (src.hasRemaining()) {
            throw new CorruptBlockException("deflate: " + src.remaining() + " trailing bytes after the stream");
        }
        return written;
    }

    private static void skipGzipHeader(ByteBuffer src) {
        if (src.remaining() < GZIP_HEADER + GZIP_TRAILER) {
            throw new CorruptBlockException("gzip: " + src.remaining() + " bytes is too short for a member");
        }
        if ((src.get() & 0xFF) != 0x1f || (src.get() & 0xFF) != 0x8b || src.get() != 8) {
            throw new CorruptBlockException("gzip: bad magic or compression method (expected: 1f 8b 08)");
        }
        int flags = src.get() & 0xFF;
        if ((flags & 0xE0) != 0) {
            throw new CorruptBlockException("gzip: reserved header flags set: " + flags);
        }
        src.position(src.position() + 6); // MTIME, XFL, OS
        try {
            if ((flags & FEXTRA) != 0) {
                int xlen = (src.get() & 0xFF) | (src.get() & 0xFF) << 8;
                src.position(src.position() + xlen);
            }
            if ((flags & FNAME) != 0) {
                while (src.get() != 0) {
                    // skip the file name
                }
            }
            if ((flags & FCOMMENT) != 0) {
                while (src.get() != 0) {
                    // skip the comment
                }
            }
            if ((flags & FHCRC) != 0) {
                src.position(src.position() + 2);
            }
        } catch (RuntimeException e) {
            throw new CorruptBlockException("gzip: header runs past the input", e);
        }
    }

    @Override
    public void close() {
        deflaters.close();
        inflaters.close();
    }
}
