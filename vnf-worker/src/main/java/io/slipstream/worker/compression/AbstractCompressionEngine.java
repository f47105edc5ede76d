package io.slipstream.worker.compression;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Convenience base for engines: keeps the buffer-position contract of {@link CompressionEngine}
 * (positions advance on success only), checks arguments, and turns unexpected runtime failures of a
 * codec library into {@link CompressionException}. Subclasses see zero-position slices.
 */
public abstract class AbstractCompressionEngine implements CompressionEngine {

    private final Codec codec;
    private final int level;

    protected AbstractCompressionEngine(Codec codec, int level) {
        this.codec = Objects.requireNonNull(codec, "codec");
        this.level = codec.checkLevel(level);
    }

    @Override
    public final Codec codec() {
        return codec;
    }

    @Override
    public final int level() {
        return level;
    }

    @Override
    public final int compress(ByteBuffer src, ByteBuffer dst) {
        checkBuffers(src, dst);
        int n;
        try {
            n = doCompress(src.slice(), dst.slice());
        } catch (CompressionException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CompressionException(codec + " compression failed: " + e, e);
        }
        src.position(src.limit());
        dst.position(dst.position() + n);
        return n;
    }

    @Override
    public final int decompress(ByteBuffer src, ByteBuffer dst) {
        checkBuffers(src, dst);
        int n;
        try {
            n = doDecompress(src.slice(), dst.slice());
        } catch (CompressionException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CorruptBlockException(codec + " frame rejected: " + e, e);
        }
        src.position(src.limit());
        dst.position(dst.position() + n);
        return n;
    }

    private static void checkBuffers(ByteBuffer src, ByteBuffer dst) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("dst: read-only buffer (expected: writable)");
        }
    }

    /**
     * Compresses all of {@code src} (position 0) into {@code dst} (position 0, capacity = its limit).
     * May move either buffer's position.
     *
     * @return bytes written to {@code dst}
     */
    protected abstract int doCompress(ByteBuffer src, ByteBuffer dst);

    /**
     * Decompresses exactly one frame, all of {@code src}, into {@code dst}; must throw
     * {@link CorruptBlockException} rather than write past {@code dst.limit()}.
     *
     * @return bytes written to {@code dst}
     */
    protected abstract int doDecompress(ByteBuffer src, ByteBuffer dst);

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + codec + ", level " + level + "]";
    }
}
