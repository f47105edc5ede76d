package io.slipstream.worker.wanopt.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;
import java.nio.charset.StandardCharsets;

/** Builds and reads the payloads of control frames. Reading a malformed payload throws {@link CorruptedFrameException}. */
public final class Frames {

    /**
     * The protocol version this code speaks. 2: DATA records 5 to 10 (literal context, deltas, open chunks)
     * and the flow policy in OPEN. 3: DELTAS (record 11) names a region of each of its 1 to 8 bases. 4: PART_DELTA
     * (record 12), a piece of an open chunk as a delta. A peer
     * of another version is refused at HELLO, before any stream (not mid-stream, on a record it cannot read).
     */
    public static final int VERSION = 4;
    static final int MAX_TEXT = 255;
    /** Bytes of the fingerprint key in a HELLO (SipHash-2-4-128). */
    public static final int KEY_BYTES = 16;
    /** Reset code: a chunk the peer asked for is no longer held. */
    public static final int RST_CHUNK_LOST = 6;

    private Frames() {}

    /** What a HELLO carries. */
    public static final class Hello {
        public final int version;
        public final String workerId;
        public final String site;
        /** Changes whenever the sender's chunk store starts empty (process start). */
        public final long storeEpoch;
        /** Key of the fingerprints of the chunks the sender sends on this connection. */
        public final byte[] fingerprintKey;

        public Hello(int version, String workerId, String site, long storeEpoch, byte[] fingerprintKey) {
            this.version = version;
            this.workerId = workerId;
            this.site = site;
            this.storeEpoch = storeEpoch;
            this.fingerprintKey = fingerprintKey;
        }
    }

    /** What an OPEN carries. */
    public static final class Open {
        public final int initialWindow;
        public final String host;
        public final int port;
        /** The flow policy the ingress worker classified the flow under (for counters); empty when none. */
        public final String policy;

        public Open(int initialWindow, String host, int port) {
            this(initialWindow, host, port, "");
        }

        public Open(int initialWindow, String host, int port, String policy) {
            this.initialWindow = initialWindow;
            this.host = host;
            this.port = port;
            this.policy = policy;
        }
    }

    public static Frame hello(ByteBufAllocator alloc, Hello h) {
        ByteBuf b = alloc.buffer();
        b.writeShort(h.version);
        writeText(b, h.workerId);
        writeText(b, h.site);
        b.writeLong(h.storeEpoch);
        b.writeByte(h.fingerprintKey.length);
        b.writeBytes(h.fingerprintKey);
        return new Frame(FrameType.HELLO, 0, b);
    }

    public static Hello readHello(ByteBuf b) {
        int version = readUnsignedShort(b, "hello version");
        String id = readText(b, "hello worker id");
        String site = readText(b, "hello site");
        long epoch = readLong(b, "hello store epoch");
        int keyLength = readUnsignedByte(b, "hello key length");
        if (keyLength != KEY_BYTES) {
            throw new CorruptedFrameException("hello key length: " + keyLength + " (expected: " + KEY_BYTES + ")");
        }
        byte[] key = readBytes(b, keyLength, "hello key");
        requireEnd(b, "HELLO");
        return new Hello(version, id, site, epoch, key);
    }

    public static Frame open(ByteBufAllocator alloc, int streamId, Open o) {
        ByteBuf b = alloc.buffer();
        b.writeInt(o.initialWindow);
        writeText(b, o.host);
        b.writeShort(o.port);
        writeText(b, o.policy);
        return new Frame(FrameType.OPEN, streamId, b);
    }

    public static Open readOpen(ByteBuf b) {
        int window = readInt(b, "open window");
        if (window <= 0) {
            throw new CorruptedFrameException("open window: " + window + " (expected: > 0)");
        }
        String host = readText(b, "open host");
        if (host.isEmpty()) {
            throw new CorruptedFrameException("open host: '' (expected: a host name or address)");
        }
        int port = readUnsignedShort(b, "open port");
        if (port == 0) {
            throw new CorruptedFrameException("open port: 0 (expected: 1..65535)");
        }
        String policy = readText(b, "open policy");
        requireEnd(b, "OPEN");
        return new Open(window, host, port, policy);
    }

    public static Frame credit(ByteBufAllocator alloc, int streamId, int bytes) {
        return new Frame(FrameType.CREDIT, streamId, alloc.buffer(4).writeInt(bytes));
    }

    public static int readCredit(ByteBuf b) {
        int n = readInt(b, "credit");
        if (n <= 0) {
            throw new CorruptedFrameException("credit: " + n + " (expected: > 0)");
        }
        requireEnd(b, "CREDIT");
        return n;
    }

    /** Reset codes. */
    public static final int RST_CONNECT_FAILED = 2;
    public static final int RST_ABORTED = 3;
    public static final int RST_CORRUPT = 4;

    public static Frame rst(ByteBufAllocator alloc, int streamId, int code, String reason) {
        ByteBuf b = alloc.buffer();
        b.writeByte(code);
        writeText(b, reason.length() > MAX_TEXT ? reason.substring(0, MAX_TEXT) : reason);
        return new Frame(FrameType.RST, streamId, b);
    }

    /** "code: reason" of a RST payload. */
    public static String readRst(ByteBuf b) {
        int code = readUnsignedByte(b, "rst code");
        String reason = readText(b, "rst reason");
        requireEnd(b, "RST");
        return code + ": " + reason;
    }

    public static Frame empty(FrameType type, int streamId) {
        return new Frame(type, streamId, io.netty.buffer.Unpooled.EMPTY_BUFFER);
    }

    public static Frame ping(ByteBufAllocator alloc, FrameType type, long nonce) {
        return new Frame(type, 0, alloc.buffer(8).writeLong(nonce));
    }

    static void writeText(ByteBuf b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TEXT) {
            throw new IllegalArgumentException("text: " + bytes.length + " bytes (expected: <= " + MAX_TEXT + ")");
        }
        b.writeByte(bytes.length);
        b.writeBytes(bytes);
    }

    static String readText(ByteBuf b, String what) {
        int n = readUnsignedByte(b, what + " length");
        return new String(readBytes(b, n, what), StandardCharsets.UTF_8);
    }

    static byte[] readBytes(ByteBuf b, int n, String what) {
        need(b, n, what);
        byte[] bytes = new byte[n];
        b.readBytes(bytes);
        return bytes;
    }

    static int readUnsignedByte(ByteBuf b, String what) {
        need(b, 1, what);
        return b.readUnsignedByte();
    }

    static int readUnsignedShort(ByteBuf b, String what) {
        need(b, 2, what);
        return b.readUnsignedShort();
    }

    static int readInt(ByteBuf b, String what) {
        need(b, 4, what);
        return b.readInt();
    }

    static long readLong(ByteBuf b, String what) {
        need(b, 8, what);
        return b.readLong();
    }

    static void need(ByteBuf b, int n, String what) {
        if (b.readableBytes() < n) {
            throw new CorruptedFrameException(what + ": truncated (" + b.readableBytes() + " of " + n + " bytes)");
        }
    }

    static void requireEnd(ByteBuf b, String frame) {
        if (b.isReadable()) {
            throw new CorruptedFrameException(frame + " payload: " + b.readableBytes() + " trailing bytes (expected: none)");
        }
    }
}
