package io.slipstream.worker.wanopt.tunnel;

/**
 * Frame types of tunnel protocol version 1. Stream 0 is the connection itself (HELLO, PING, PONG);
 * every other frame names a stream opened by the side that initiated the connection.
 */
public enum FrameType {
    /** First frame each way: protocol version, worker id, site, store epoch, fingerprint key. */
    HELLO(1),
    /** Opens a stream: initial window and the destination host and port. */
    OPEN(2),
    /** Stream bytes, encoded as records (raw, literal chunk, chunk reference). */
    DATA(3),
    /** The receiver consumed this many bytes of DATA payload: the sender may send as many more. */
    CREDIT(4),
    /** The sender will send no more data on this stream (half-close). */
    FIN(5),
    /** Abort the stream, with a code and a reason. */
    RST(6),
    /** The receiver lacks the chunk with this fingerprint: send its literal. */
    NEED(7),
    /** Keepalive probe with a nonce. */
    PING(8),
    /** Keepalive answer with the probe's nonce. */
    PONG(9),
    /** The answer to NEED: one chunk (fingerprint and envelope) to store, not stream data. */
    CHUNK(10);

    private static final FrameType[] BY_CODE = new FrameType[16];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type with this code, or {@code null}. */
    static FrameType of(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
