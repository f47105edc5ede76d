package io.slipstream.worker.wanopt.tunnel;

import io.netty.buffer.ByteBuf;

/** One end of a stream, told what arrives for it on the tunnel. Called on the connection's event loop. */
public interface StreamListener {

    /** DATA arrived; the listener owns {@code payload} and must release it. */
    void onData(ByteBuf payload);

    /** The peer consumed {@code bytes} of what this side sent. */
    void onCredit(int bytes);

    /** The peer will send no more data. */
    void onFin();

    /** The stream is dead: reset by the peer, or its connection was lost. */
    void onReset(String reason);

    /** The peer lacks the chunk with this fingerprint; {@code fingerprint} is released by the caller. */
    void onNeed(ByteBuf fingerprint);

    /** The answer to a NEED of this side: a chunk to store; {@code chunk} is released by the caller. */
    void onChunk(ByteBuf chunk);

    /** The tunnel connection finished a batch of reads: flush what this stream wrote meanwhile. */
    default void onReadComplete() {
    }

    /** The tunnel connection's writability changed; stop or resume reading from the local socket. */
    void onWritabilityChanged(boolean writable);
}
