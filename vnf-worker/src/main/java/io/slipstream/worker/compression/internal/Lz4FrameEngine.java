package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.AbstractCompressionEngine;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CorruptBlockException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.lz4.LZ4SafeDecompressor;
import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

/**
 * LZ4 frame format (the interoperable one, as written by the {@code lz4} tool) through lz4-java:
 * 64 KiB independent blocks with a content checksum. Level 1 uses the fast compressor, higher levels
 * the high-compression one. Untrusted input is decoded with the bounds-checked pure-Java
 * decompressor, never the JNI one.
 */
public final class Lz4FrameEngine extends AbstractCompressionEngine {

    private static final int BLOCK = 64 * 1024;

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
        long blocks = srcLength / BLOCK + 1L;
        return (int) Math.min(Integer.MAX_VALUE, srcLength + blocks * 4 + 32L);
    }

    @Override
    protected int doCompress(ByteBuffer src, ByteBuffer dst) {
        try (LZ4FrameOutputStream out = new LZ4FrameOutputStream(ByteBufferStreams.output(dst),
                LZ4FrameOutputStream.BLOCKSIZE.SIZE_64KB, -1L, compressor, hash,
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM)) {
            if (src.hasArray()) {
                out.write(src.array(), src.arrayOffset(), src.limit());
            } else {
                byte[] chunk = new byte[Math.min(BLOCK, Math.max(1, src.remaining()))];
                while (src.hasRemaining()) {
                    int n = Math.min(chunk.length, src.remaining());
                    src.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
        } catch (IOException e) {
            throw new CompressionException("lz4 compression failed: " + e.getMessage(), e);
        }
        return dst.position();
    }

    @Override
    protected int doDecompress(ByteBuffer src, ByteBuffer dst) {
        if (!src.hasRemaining()) {
            throw new CorruptBlockException("lz4: empty input (expected: a frame)");
        }
        try (InputStream in = new LZ4FrameInputStream(ByteBufferStreams.input(src), decompressor, hash, false)) {
            byte[] chunk = new byte[BLOCK];
            while (true) {
                int want = Math.min(chunk.length, Math.max(1, dst.remaining()));
                int n = in.read(chunk, 0, want);
                if (n < 0) {
                    break;
                }
                if (n > dst.remaining()) {
                    throw new CorruptBlockException("lz4 frame expands past " + dst.limit() + " bytes");
                }
                dst.put(chunk, 0, n);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof CorruptBlockException) {
                throw (CorruptBlockException) e;
            }
            throw new CorruptBlockException("lz4 frame rejected: " + e.getMessage(), e);
        }
        if (src.hasRemaining()) {
            throw new CorruptBlockException("lz4: " + src.remaining() + " trailing bytes after the frame");
        }
        return dst.position();
    }
}
