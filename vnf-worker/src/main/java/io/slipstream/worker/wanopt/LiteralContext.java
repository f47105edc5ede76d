package io.slipstream.worker.wanopt;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.ByteBuffer;

/**
 * The compression context one stream direction keeps across its literals: one zstd frame for the life of
 * the stream, flushed at the end of every CLIT record, so each record is decodable on arrival and every
 * literal is compressed with the stream's earlier literals (up to the window) as history, as
 * {@code zstd -3} of the whole stream would be. Standard zstd: the concatenation of a stream's CLIT
 * payloads is a valid (unfinished) zstd frame.
 *
 * <p>The decoder's memory is bounded: the frame must declare a window of at most {@link #MAX_WINDOW_LOG}
 * (checked on its header before zstd allocates anything), and every record must decode to exactly the
 * lengths it declares. Not thread-safe; {@link #close} frees the native contexts.
 */
final class LiteralContext {

    /** Window of the encoder: 2 MiB, what {@code zstd -3} uses on inputs above 256 KiB. */
    static final int WINDOW_LOG = 21;
    /** Largest window a decoder accepts. */
    static final int MAX_WINDOW_LOG = 23;
    private static final int STAGE = 64 << 10;

    private LiteralContext() {
    }

    /** Encoder side. */
    static final class Compressor implements AutoCloseable {
        private final int level;
        private ZstdCompressCtx ctx;
        private ByteBuffer in;
        private ByteBuffer out;

        Compressor(int level) {
            this.level = level;
        }

        /** Compresses {@code src}'s remaining bytes into {@code dst} (grown as needed), not flushed yet. */
        void add(ByteBuffer src, ByteBuf dst) {
            open();
            src = src.duplicate();
            while (src.hasRemaining()) {
                in.clear();
                int n = Math.min(in.capacity(), src.remaining());
                ByteBuffer part = src.slice(src.position(), n);
                in.put(part).flip();
                src.position(src.position() + n);
                while (in.hasRemaining()) {
                    run(in, dst, EndDirective.CONTINUE);
                }
            }
        }

        /** Flushes what was added since the last flush into {@code dst}: a record's worth is decodable. */
        void flush(ByteBuf dst) {
            open();
            in.clear().flip();
            while (!run(in, dst, EndDirective.FLUSH)) {
                // dst's stage was full: drained, go on
            }
        }

        private boolean run(ByteBuffer src, ByteBuf dst, EndDirective end) {
            out.clear();
            boolean done = ctx.compressDirectByteBufferStream(out, src, end);
            out.flip();
            dst.writeBytes(out);
            return done;
        }

        private void open() {
            if (ctx == null) {
                ctx = new ZstdCompressCtx().setLevel(level).setWindowLog(WINDOW_LOG).setChecksum(false)
                        .setContentSize(false);
                in = ByteBuffer.allocateDirect(STAGE);
                out = ByteBuffer.allocateDirect((int) Zstd.compressBound(STAGE));
            }
        }

        @Override
        public void close() {
            if (ctx != null) {
                ctx.close();
                ctx = null;
            }
        }
    }

    /** Decoder side. */
    static final class Decompressor implements AutoCloseable {
        private ZstdDecompressCtx ctx;
        private ByteBuffer in;

        /**
         * Decodes one record's compressed bytes into exactly {@code length} bytes at {@code dst}'s writer
         * index.
         *
         * @throws CorruptedFrameException when the bytes are malformed or decode to another length
         */
        void decompress(ByteBuf src, ByteBuf dst, int length) {
            if (ctx == null) {
                checkHeader(src);
                ctx = new ZstdDecompressCtx();
                in = ByteBuffer.allocateDirect(STAGE);
            }
            ByteBuf target = dst.isDirect() && dst.nioBufferCount() == 1 ? dst : null;
            ByteBuffer out = target != null ? dst.nioBuffer(dst.writerIndex(), length)
                    : ByteBuffer.allocateDirect(length);
            try {
                in.clear().limit(0);
                while (src.isReadable() || in.hasRemaining()) {
                    if (!in.hasRemaining()) {
                        in.clear().limit(Math.min(in.capacity(), src.readableBytes()));
                        src.readBytes(in);
                        in.flip();
                    }
                    int consumed = in.position();
                    int produced = out.position();
                    ctx.decompressDirectByteBufferStream(out, in);
                    if (in.position() == consumed && out.position() == produced) {
                        throw new CorruptedFrameException("literal record decodes to more than its " + length
                                + " declared bytes");
                    }
                }
            } catch (ZstdException e) {
                throw new CorruptedFrameException("literal record does not decode: " + e.getMessage(), e);
            }
            if (out.position() != length) {
                throw new CorruptedFrameException("literal record decodes to " + out.position()
                        + " bytes (expected: " + length + ")");
            }
            if (target == null) {
                out.flip();
                dst.writeBytes(out);
            } else {
                dst.writerIndex(dst.writerIndex() + length);
            }
        }

        /** Rejects a frame whose window would exceed {@link #MAX_WINDOW_LOG} before zstd allocates it. */
        private static void checkHeader(ByteBuf src) {
            int at = src.readerIndex();
            if (src.readableBytes() < 6 || src.getIntLE(at) != 0xFD2FB528) {
                throw new CorruptedFrameException("literal context: not a zstd frame");
            }
            int descriptor = src.getUnsignedByte(at + 4);
            if ((descriptor & 0x20) != 0) {
                throw new CorruptedFrameException("literal context: a single-segment frame (expected: streaming)");
            }
            int window = src.getUnsignedByte(at + 5);
            int log = 10 + (window >>> 3);
            if (log > MAX_WINDOW_LOG || (log == MAX_WINDOW_LOG && (window & 7) != 0)) {
                throw new CorruptedFrameException("literal context: window descriptor " + window
                        + " (expected: at most 2^" + MAX_WINDOW_LOG + " bytes)");
            }
        }

        @Override
        public void close() {
            if (ctx != null) {
                ctx.close();
                ctx = null;
            }
        }
    }
}
