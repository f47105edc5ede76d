package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.slipstream.worker.compression.ResilientCompressor;
import java.nio.ByteBuffer;

/**
 * Turns one direction of a stream into DATA payloads. Compresses through the resilient switch and
 * recognises data that does not shrink: after {@link #INCOMPRESSIBLE_STREAK} blocks in a row that
 * saved less than {@link #MIN_SAVING}, it sends {@link #PASSTHROUGH_BYTES} raw without trying,
 * then tries again. Not thread-safe: one per stream direction, used on its event loop.
 */
final class StreamEncoder {

    static final int INCOMPRESSIBLE_STREAK = 4;
    static final double MIN_SAVING = 0.03;
    static final long PASSTHROUGH_BYTES = 4L << 20;

    private final ResilientCompressor compressor;
    private final WanoptCounters counters;
    private int streak;
    private long passthroughLeft;

    /**
     * @param compressor the switch to compress with, or {@code null} to send everything raw
     */
    StreamEncoder(ResilientCompressor compressor, WanoptCounters counters) {
        this.compressor = compressor;
        this.counters = counters;
    }

    /** Encodes all of {@code in} (released) into one payload. */
    ByteBuf encode(ByteBufAllocator alloc, ByteBuf in) {
        try {
            int n = in.readableBytes();
            counters.bytesIn(n);
            if (compressor == null || passthroughLeft > 0 || n == 0) {
                passthroughLeft = Math.max(0, passthroughLeft - n);
                return raw(alloc, in, n);
            }
            ByteBuf out = alloc.buffer(1 + compressor.maxEnvelopeLength(n));
            out.writeByte(Records.BLOCK);
            ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
            int written = compressor.compress(in.nioBuffer(), dst);
            out.writerIndex(out.writerIndex() + written);
            if (written > n * (1 - MIN_SAVING)) {
                if (++streak >= INCOMPRESSIBLE_STREAK) {
                    passthroughLeft = PASSTHROUGH_BYTES;
                    streak = 0;
                    counters.passthroughEngaged();
                }
            } else {
                streak = 0;
            }
            counters.wireBytes(out.readableBytes());
            return out;
        } finally {
            in.release();
        }
    }

    /** A RAW record: a 5-byte header and the input itself (retained, not copied). */
    private ByteBuf raw(ByteBufAllocator alloc, ByteBuf in, int n) {
        ByteBuf header = alloc.buffer(5).writeByte(Records.RAW).writeInt(n);
        ByteBuf out = alloc.compositeBuffer(2).addComponents(true, header, in.retain());
        counters.rawBytes(n);
        counters.wireBytes(out.readableBytes());
        return out;
    }
}
