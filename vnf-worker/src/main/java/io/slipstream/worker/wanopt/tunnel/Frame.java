package io.slipstream.worker.wanopt.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One tunnel frame. Reference-counted through its payload: whoever handles a frame last releases
 * it (the encoder when writing; the stream when it has consumed a received one).
 */
public final class Frame extends DefaultByteBufHolder {

    private final FrameType type;
    private final int streamId;

    public Frame(FrameType type, int streamId, ByteBuf payload) {
        super(payload);
        this.type = type;
        this.streamId = streamId;
    }

    public FrameType type() {
        return type;
    }

    public int streamId() {
        return streamId;
    }

    public ByteBuf payload() {
        return content();
    }

    @Override
    public Frame replace(ByteBuf content) {
        return new Frame(type, streamId, content);
    }

    @Override
    public String toString() {
        return type + "[stream " + streamId + ", " + content().readableBytes() + " bytes]";
    }
}
