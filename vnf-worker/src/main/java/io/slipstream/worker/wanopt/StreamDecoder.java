package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.compression.ResilientCompressor;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Rebuilds the bytes of one stream direction from DATA payloads. Every compressed block is
 * verified by the compression envelope (size and checksum) and bounded (no decompression bombs);
 * a malformed record throws {@link CorruptedFrameException} and the stream is reset: corruption is
 * detected, never delivered. Not thread-safe.
 */
final class StreamDecoder {

    private final ResilientCompressor decompressor;

    StreamDecoder(ResilientCompressor decompressor) {
        this.decompressor = decompressor;
    }

    /** Decodes {@code payload} (released) into buffers appended to {@code out} (owned by the caller). */
    void decode(ByteBufAllocator alloc, ByteBuf payload, List<ByteBuf> out) {
        try {
            while (payload.isReadable()) {
                int tag = payload.readUnsignedByte();
                switch (tag) {
                    case Records.RAW: {
                        need(payload, 4, "raw length");
                        long n = payload.readUnsignedInt();
                        need(payload, n, "raw bytes");
                        out.add(payload.readRetainedSlice((int) n));
                        break;
                    }
                    case Records.BLOCK:
                        out.add(block(alloc, payload));
                        break;
                    default:
                        throw new CorruptedFrameException("record tag: " + tag + " (expected: 1 raw or 2 block)");
                }
            }
        } catch (RuntimeException e) {
            for (ByteBuf b : out) {
                b.release();
            }
            out.clear();
            throw e instanceof CorruptedFrameException ? e : new CorruptedFrameException("corrupt block: " + e.getMessage(), e);
        } finally {
            payload.release();
        }
    }

    private ByteBuf block(ByteBufAllocator alloc, ByteBuf payload) {
        ByteBuffer src = payload.nioBuffer();
        int length = decompressor.peekEnvelopeLength(src);
        if (length < 0 || length > payload.readableBytes()) {
            throw new CorruptedFrameException("block envelope truncated");
        }
        ByteBuffer envelope = payload.nioBuffer(payload.readerIndex(), length);
        int original = decompressor.peekOriginalLength(envelope.duplicate());
        ByteBuf block = alloc.buffer(original);
        try {
            int n = decompressor.decompress(envelope, block.nioBuffer(0, original));
            block.writerIndex(n);
        } catch (RuntimeException e) {
            block.release();
            throw e;
        }
        payload.skipBytes(length);
        return block;
    }

    private static void need(ByteBuf b, long n, String what) {
        if (b.readableBytes() < n) {
            throw new CorruptedFrameException(what + ": truncated (" + b.readableBytes() + " of " + n + " bytes)");
        }
    }
}
