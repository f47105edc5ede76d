package io.slipstream.worker.wanopt;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * A chunk compressed against a base chunk both peers hold: a zstd frame (magicless, no checksum, no
 * content size: the record carries the length and a fingerprint check) whose dictionary is the base's
 * raw bytes, so whatever the chunk shares with its base costs a few bytes of match. Software only: the
 * compression SPI (and a hardware card) has no dictionaries. One per stream direction and side; not
 * thread-safe; {@link #close} frees the native contexts.
 */
final class DeltaCodec implements AutoCloseable {

    private final int level;
    private ZstdCompressCtx compress;
    private ZstdDecompressCtx decompress;

    DeltaCodec(int level) {
        this.level = level;
    }

    /** The frame of {@code chunk[0, length)} against {@code base}, written to {@code dst}; its length. */
    int compress(byte[] base, byte[] chunk, int length, byte[] dst) {
        if (compress == null) {
            compress = new ZstdCompressCtx().setLevel(level).setMagicless(true).setChecksum(false)
                    .setContentSize(false).setDictID(false);
        }
        compress.loadDict(base);
        return compress.compressByteArray(dst, 0, dst.length, chunk, 0, length);
    }

    /**
     * Rebuilds exactly {@code length} bytes from {@code frame[off, off + len)} against {@code base}.
     *
     * @throws CorruptedFrameException if the frame is malformed or does not decode to {@code length} bytes
     */
    byte[] decompress(byte[] base, byte[] frame, int off, int len, int length) {
        if (decompress == null) {
            decompress = new ZstdDecompressCtx().setMagicless(true);
        }
        byte[] out = new byte[length];
        int n;
        try {
            decompress.loadDict(base);
            n = decompress.decompressByteArray(out, 0, length, frame, off, len);
        } catch (ZstdException e) {
            throw new CorruptedFrameException("delta does not decode against its base: " + e.getMessage(), e);
        }
        if (n != length) {
            throw new CorruptedFrameException("delta decodes to " + n + " bytes (expected: " + length + ")");
        }
        return out;
    }

    static int maxFrameLength(int length) {
        return (int) com.github.luben.zstd.Zstd.compressBound(length) + 64;
    }

    @Override
    public void close() {
        if (compress != null) {
            compress.close();
            compress = null;
        }
        if (decompress != null) {
            decompress.close();
            decompress = null;
        }
    }
}
