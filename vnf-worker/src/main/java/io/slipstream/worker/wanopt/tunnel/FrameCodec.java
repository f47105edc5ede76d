package io.slipstream.worker.wanopt.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;

/**
 * Frames on the wire, protocol version 1:
 *
 * <pre>
 * offset size
 *  0     1    type (FrameType code)
 *  1     1    flags, must be 0 in version 1
 *  2     4    stream id, unsigned 31 bits (0: the connection)
 *  6     4    payload length, at most {@code maxPayload}
 * 10     n    payload
 * </pre>
 *
 * A frame that breaks these rules throws {@link CorruptedFrameException}; the connection handler
 * then closes that connection, which harms no other. Encoding writes the header as its own small
 * buffer and passes the payload on without copying it; the payload is released once written.
 */
public final class FrameCodec extends CombinedChannelDuplexHandler<FrameCodec.Decoder, FrameCodec.Encoder> {

    public static final int HEADER_BYTES = 10;
    /** Largest payload accepted by default: a DATA frame of one read batch plus record overhead. */
    public static final int DEFAULT_MAX_PAYLOAD = (1 << 20) + 4096;

    public FrameCodec(int maxPayload) {
        super(new Decoder(maxPayload), new Encoder());
        if (maxPayload < 64) {
            throw new IllegalArgumentException("maxPayload: " + maxPayload + " (expected: >= 64)");
        }
    }

    /** Header, then the payload itself (retained), so the payload is never copied. */
    static final class Encoder extends MessageToMessageEncoder<Frame> {
        @Override
        protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
            ByteBuf payload = frame.payload();
            ByteBuf header = ctx.alloc().ioBuffer(HEADER_BYTES);
            header.writeByte(frame.type().code());
            header.writeByte(0);
            header.writeInt(frame.streamId());
            header.writeInt(payload.readableBytes());
            out.add(header);
            if (payload.isReadable()) {
                out.add(payload.retain());
            }
        }
    }

    static final class Decoder extends ByteToMessageDecoder {
        private final int maxPayload;

        Decoder(int maxPayload) {
            this.maxPayload = maxPayload;
            // Frames span reads; gathering them without copying keeps payloads zero-copy to the far socket.
            setCumulator(COMPOSITE_CUMULATOR);
        }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < HEADER_BYTES) {
            return;
        }
        int start = in.readerIndex();
        int code = in.getUnsignedByte(start);
        FrameType type = FrameType.of(code);
        if (type == null) {
            throw new CorruptedFrameException("frame type: " + code + " (expected: 1..10)");
        }
        int flags = in.getUnsignedByte(start + 1);
        if (flags != 0) {
            throw new CorruptedFrameException("frame flags: " + flags + " (expected: 0 in protocol version 1)");
        }
        int streamId = in.getInt(start + 2);
        if (streamId < 0) {
            throw new CorruptedFrameException("stream id: " + Integer.toUnsignedString(streamId)
                    + " (expected: 0..2147483647)");
        }
        long length = in.getUnsignedInt(start + 6);
        if (length > maxPayload) {
            throw new CorruptedFrameException("payload length: " + length + " (expected: <= " + maxPayload + ")");
        }
        if (in.readableBytes() < HEADER_BYTES + length) {
            return;
        }
        in.skipBytes(HEADER_BYTES);
        out.add(new Frame(type, streamId, in.readRetainedSlice((int) length)));
    }
    }
}
