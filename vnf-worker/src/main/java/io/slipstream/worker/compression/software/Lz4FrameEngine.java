package io.slipstream.worker.compression.software;

import io.slipstream.worker.compression.AbstractCompressionEngine;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CorruptBlockException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The LZ4 frame format (as written by the {@code lz4} tool) over lz4-java's block codec. Written
 * here rather than through {@code LZ4FrameOutputStream}/{@code LZ4FrameInputStream}, which allocate
 * block buffers per frame and copy through streams, so that blocks are coded in place in heap or
 * direct buffers, and decoding is bounded by the destination's room (a declared content size is
 * checked before any block is decoded). Measured gain is modest (about 5-15% in JMH on 64 KiB blocks).
 *
 * <p>Writes: 64 KiB independent blocks (stored raw when they do not shrink), a content checksum.
 * Reads: any frame with independent blocks, optional block checksums, content size and content
 * checksum; concatenated and skippable frames. Linked blocks and dictionaries are rejected. Level 1
 * uses the fast compressor, higher levels the high-compression one. Untrusted input is decoded with
 * the bounds-checked pure-Java decompressor, never the JNI one, into at most the destination's room.
 */
public final class Lz4FrameEngine extends AbstractCompressionEngine {

    static final int MAGIC = 0x184D2204;
    static final int SKIPPABLE_MASK = 0xFFFFFFF0;
    static final int SKIPPABLE_MAGIC = 0x184D2A50;
    private static final int BLOCK = 64 * 1024;
    /** Version 01, independent blocks, content checksum. */
    private static final int FLG = 0x64;
    /** Block maximum size 64 KiB. */
    private static final int BD = 0x40;
    private static final int RAW = 0x80000000;

    private final LZ4Compressor compressor;
    private final XXHash32 hash;
    private final LZ4SafeDecompressor decompressor;

    public Lz4FrameEngine(int level) {
        super(Codec.LZ4, level);
        LZ4Factory fastest = LZ4Factory.fastestInstance();
        this.compressor = level() <= 1 ? fastest.fastCompressor() : fastest.highCompressor(level());
        this.hash = XXHashFactory.fastestJavaInstance().hash32();
        this.decompressor = LZ4Factory.safeInstance().safeDecompressor();
    }

    @Override
    public int maxCompressedLength(int srcLength) {
        long blocks = (srcLength + (long) BLOCK - 1) / BLOCK;
        return (int) Math.min(Integer.MAX_VALUE, 15L + srcLength + 4 * blocks);
    }

    private static CompressionException overflow(ByteBuffer dst) {
        return new CompressionException("lz4: output does not fit in " + dst.limit() + " bytes");
    }

    @Override
    protected int doCompress(ByteBuffer src, ByteBuffer dst) {
        src.order(ByteOrder.LITTLE_ENDIAN);
        dst.order(ByteOrder.LITTLE_ENDIAN);
        int n = src.limit();
        int limit = dst.limit();
        if (limit < 7) {
            throw overflow(dst);
        }
        dst.putInt(0, MAGIC).put(4, (byte) FLG).put(5, (byte) BD);
        dst.put(6, (byte) ((hash.hash(dst, 4, 2, 0) >>> 8) & 0xFF));
        int p = 7;
        for (int off = 0; off < n; off += BLOCK) {
            int len = Math.min(BLOCK, n - off);
            if (limit - p < 4) {
                throw overflow(dst);
            }
            int c;
            try {
                c = compressor.compress(src, off, len, dst, p + 4, limit - p - 4);
            } catch (LZ4Exception e) {
                c = -1; // did not fit; stored raw below if that fits
            }
            if (c < 0 || c >= len) {
                if (limit - p - 4 < len) {
                    throw overflow(dst);
                }
                dst.put(p + 4, src, off, len);
                dst.putInt(p, len | RAW);
                p += 4 + len;
            } else {
                dst.putInt(p, c);
                p += 4 + c;
            }
        }
        if (limit - p < 8) {
            throw overflow(dst);
        }
        dst.putInt(p, 0);
        dst.putInt(p + 4, hash.hash(src, 0, n, 0));
        return p + 8;
    }

    private static CorruptBlockException corrupt(String message) {
        return new CorruptBlockException("lz4 frame rejected: " + message);
    }

    @Override
    protected int doDecompress(ByteBuffer src, ByteBuffer dst) {
        src.order(ByteOrder.LITTLE_ENDIAN);
        int end = src.limit();
        int room = dst.limit();
        if (end == 0) {
            throw corrupt("empty input (expected: a frame)");
        }
        int p = 0;
        int out = 0;
        while (p < end) {
            if (end - p < 4) {
                throw corrupt("truncated before a frame's magic number");
            }
            int magic = src.getInt(p);
            if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
                if (end - p < 8) {
                    throw corrupt("truncated skippable frame");
                }
                long size = src.getInt(p + 4) & 0xFFFFFFFFL;
                if (size > end - p - 8) {
                    throw corrupt("skippable frame runs past the input");
                }
                p += 8 + (int) size;
                continue;
            }
            if (magic != MAGIC) {
                throw corrupt(String.format("bad magic number 0x%08x (expected: 0x184d2204)", magic));
            }
            if (end - p < 7) {
                throw corrupt("truncated frame header");
            }
            int flg = src.get(p + 4) & 0xFF;
            int bd = src.get(p + 5) & 0xFF;
            if (flg >>> 6 != 1 || (flg & 0x02) != 0 || (bd & 0x8F) != 0) {
                throw corrupt("unsupported version or reserved bits set in the frame descriptor");
            }
            if ((flg & 0x20) == 0) {
                throw corrupt("linked blocks are not supported (expected: independent blocks)");
            }
            if ((flg & 0x01) != 0) {
                throw corrupt("dictionaries are not supported");
            }
            boolean blockChecksum = (flg & 0x10) != 0;
            boolean contentSize = (flg & 0x08) != 0;
            boolean contentChecksum = (flg & 0x04) != 0;
            int blockMaxId = bd >>> 4;
            if (blockMaxId < 4) {
                throw corrupt("invalid block maximum size id " + blockMaxId);
            }
            int blockMax = 1 << (2 * blockMaxId + 8);
            int descriptor = 2 + (contentSize ? 8 : 0);
            if (end - p - 4 < descriptor + 1) {
                throw corrupt("truncated frame descriptor");
            }
            long declared = -1;
            if (contentSize) {
                declared = src.getLong(p + 6);
                if (declared < 0 || declared > room - out) {
                    throw corrupt("declares " + Long.toUnsignedString(declared) + " bytes, room for " + (room - out));
                }
            }
            int hc = src.get(p + 4 + descriptor) & 0xFF;
            if (hc != ((hash.hash(src, p + 4, descriptor, 0) >>> 8) & 0xFF)) {
                throw corrupt("frame descriptor checksum mismatch");
            }
            p += 4 + descriptor + 1;
            int frameStart = out;
            while (true) {
                if (end - p < 4) {
                    throw corrupt("truncated before a block header or the end mark");
                }
                int header = src.getInt(p);
                p += 4;
                if (header == 0) {
                    break;
                }
                int len = header & ~RAW;
                if (len > blockMax) {
                    throw corrupt("block of " + len + " bytes exceeds the frame's maximum " + blockMax);
                }
                if (end - p < len + (blockChecksum ? 4 : 0)) {
                    throw corrupt("truncated block");
                }
                if (blockChecksum && hash.hash(src, p, len, 0) != src.getInt(p + len)) {
                    throw corrupt("block checksum mismatch");
                }
                if ((header & RAW) != 0) {
                    if (len > room - out) {
                        throw corrupt("expands past " + room + " bytes");
                    }
                    dst.put(out, src, p, len);
                    out += len;
                } else {
                    try {
                        out += decompressor.decompress(src, p, len, dst, out, Math.min(blockMax, room - out));
                    } catch (LZ4Exception e) {
                        throw corrupt("invalid block, or it expands past " + room + " bytes: " + e.getMessage());
                    }
                }
                p += len + (blockChecksum ? 4 : 0);
            }
            if (contentSize && out - frameStart != declared) {
                throw corrupt("content size " + (out - frameStart) + " differs from the declared " + declared);
            }
            if (contentChecksum) {
                if (end - p < 4) {
                    throw corrupt("truncated content checksum");
                }
                if (hash.hash(dst, frameStart, out - frameStart, 0) != src.getInt(p)) {
                    throw corrupt("content checksum mismatch");
                }
                p += 4;
            }
        }
        return out;
    }
}
