package io.slipstream.worker.compression.software;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.slipstream.worker.compression.AbstractCompressionEngine;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CorruptBlockException;
import io.slipstream.worker.compression.internal.Buffers;
import io.slipstream.worker.compression.internal.Pool;
import java.nio.ByteBuffer;

/** zstd through zstd-jni, one frame per block, pooled native contexts. */
public final class ZstdEngine extends AbstractCompressionEngine {

    private final Pool<ZstdCompressCtx> compressors;
    private final Pool<ZstdDecompressCtx> decompressors;

    public ZstdEngine(int level) {
        super(Codec.ZSTD, level);
        int lvl = level();
        int maxIdle = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);
        this.compressors = new Pool<>(() -> new ZstdCompressCtx().setLevel(lvl), ZstdCompressCtx::close, maxIdle);
        this.decompressors = new Pool<>(ZstdDecompressCtx::new, ZstdDecompressCtx::close, maxIdle);
    }

    @Override
    public int maxCompressedLength(int srcLength) {
        return (int) Math.min(Integer.MAX_VALUE, Zstd.compressBound(srcLength));
    }

    @Override
    protected int doCompress(ByteBuffer src, ByteBuffer dst) {
        ZstdCompressCtx ctx = compressors.borrow();
        boolean broken = true;
        try {
            int n;
            if (src.isDirect() && dst.isDirect()) {
                n = ctx.compressDirectByteBuffer(dst, 0, dst.limit(), src, 0, src.limit());
            } else if (Buffers.hasArray(dst)) {
                byte[] in = src.hasArray() ? src.array() : Buffers.toArray(src);
                int inOff = src.hasArray() ? src.arrayOffset() : 0;
                n = ctx.compressByteArray(dst.array(), dst.arrayOffset(), dst.limit(), in, inOff, src.limit());
            } else {
                byte[] in = src.hasArray() ? src.array() : Buffers.toArray(src);
                int inOff = src.hasArray() ? src.arrayOffset() : 0;
                // Heap source into a direct destination: through a scratch array no larger than the bound.
                byte[] out = new byte[Math.min(dst.limit(), maxCompressedLength(src.limit()))];
                n = ctx.compressByteArray(out, 0, out.length, in, inOff, src.limit());
                dst.put(out, 0, n);
            }
            broken = false;
            return n;
        } catch (RuntimeException e) {
            throw new CompressionException("zstd compression failed (destination " + dst.limit() + " bytes): "
                    + e.getMessage(), e);
        } finally {
            compressors.release(ctx, broken);
        }
    }

    @Override
    protected int doDecompress(ByteBuffer src, ByteBuffer dst) {
        if (!src.hasRemaining()) {
            throw new CorruptBlockException("zstd: empty input (expected: a frame)");
        }
        ZstdDecompressCtx ctx = decompressors.borrow();
        boolean broken = true;
        try {
            int n;
            if (src.isDirect() && dst.isDirect()) {
                n = ctx.decompressDirectByteBuffer(dst, 0, dst.limit(), src, 0, src.limit());
            } else {
                byte[] in = src.hasArray() ? src.array() : Buffers.toArray(src);
                int inOff = src.hasArray() ? src.arrayOffset() : 0;
                if (Buffers.hasArray(dst)) {
                    n = ctx.decompressByteArray(dst.array(), dst.arrayOffset(), dst.limit(), in, inOff, src.limit());
                } else {
                    n = ctx.decompressByteArrayToDirectByteBuffer(dst, 0, dst.limit(), in, inOff, src.limit());
                }
            }
            broken = false;
            return n;
        } catch (RuntimeException e) {
            throw new CorruptBlockException("zstd frame rejected: " + e.getMessage(), e);
        } finally {
            decompressors.release(ctx, broken);
        }
    }

    @Override
    public void close() {
        compressors.close();
        decompressors.close();
    }
}
