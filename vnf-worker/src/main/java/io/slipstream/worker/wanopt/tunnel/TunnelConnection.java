package io.slipstream.worker.wanopt.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.slipstream.worker.security.WorkerTls;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tunnel connection between two peer workers, either end. Exchanges HELLO, multiplexes streams,
 * answers keepalives, and on any protocol violation closes this connection (with the reason logged),
 * resetting its streams and nothing else. Streams are opened only by the side that initiated the
 * connection, so stream ids never clash. All methods run on the channel's event loop.
 *
 * <p>Sending: control frames (credit, NEED, PING, RST...) go out at once; a stream's data (DATA,
 * CHUNK, and its FIN behind them) waits in a {@link FairQueue} and goes down to the socket only while
 * less than {@link #SOCKET_QUEUE_BYTES} are waiting in Netty's buffer, so a small message on one
 * stream never waits behind megabytes that bulk streams queued. A stream may read from its local
 * socket while it has less than {@link #STREAM_QUEUE_BYTES} queued ({@link #hasRoom}); it hears
 * {@link StreamListener#onWritabilityChanged} once it has room again.
 *
 * <p>Buffers: received frames are released here unless handed to a {@link StreamListener}, which
 * then owns the payload. Frames given to {@link #write} are owned here until written or dropped.
 */
public final class TunnelConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TunnelConnection.class);

    /** Creates the local end of a stream the peer opened. */
    public interface Acceptor {
        /**
         * @return the listener of the new stream; it must answer on the stream (data, FIN or RST)
         */
        StreamListener accept(TunnelConnection connection, int streamId, Frames.Open open);
    }

    private final boolean initiator;
    private final Frames.Hello localHello;
    private final Acceptor acceptor;
    private final IntObjectMap<StreamListener> streams = new IntObjectHashMap<>();
    private final CompletableFuture<Frames.Hello> ready = new CompletableFuture<>();
    private Channel channel;
    private Frames.Hello peerHello;
    private int nextStreamId = 1;
    private String closeReason = "connection closed";
    private boolean failed;
    private final java.util.List<StreamListener> readThisBatch = new ArrayList<>();

    /** Bytes of stream data let into Netty's buffer at most (beyond one frame): the rest waits its turn. */
    public static final int SOCKET_QUEUE_BYTES = 64 * 1024;
    /** Bytes a stream may have queued before it stops reading its local socket. */
    public static final int STREAM_QUEUE_BYTES = 128 * 1024;
    /** Bytes of a stream's turn in the round. */
    static final int QUANTUM_BYTES = 16 * 1024;
    private final FairQueue<Frame> queue = new FairQueue<>(QUANTUM_BYTES,
            f -> FrameCodec.HEADER_BYTES + f.payload().readableBytes());
    private final io.netty.util.collection.IntObjectMap<Boolean> waitingForRoom =
            new io.netty.util.collection.IntObjectHashMap<>();
    /** Stream data written to Netty and not yet to the socket. */
    private long inNetty;
    private boolean pumping;

    private final String expectedPeer;

    /** The peer is not who it must be. */
    static final class PeerRefusedException extends CorruptedFrameException {
        private static final long serialVersionUID = 1L;

        PeerRefusedException(String message) {
            super(message);
        }
    }

    /**
     * @param expectedPeer {@code site:id} of the worker this connection must reach (initiator), or
     *     {@code null} to accept any peer that proves who it claims to be
     */
    public TunnelConnection(boolean initiator, Frames.Hello localHello, Acceptor acceptor, String expectedPeer) {
        this.initiator = initiator;
        this.localHello = localHello;
        this.acceptor = acceptor;
        this.expectedPeer = expectedPeer;
    }

    /** Completes with the peer's HELLO once both sides have spoken; fails if the connection dies first. */
    public CompletableFuture<Frames.Hello> ready() {
        return ready;
    }

    public Channel channel() {
        return channel;
    }

    /** The peer's HELLO, {@code null} before it arrived. */
    public Frames.Hello peer() {
        return peerHello;
    }

    public boolean isReady() {
        return peerHello != null && channel.isActive();
    }

    public int streamCount() {
        return streams.size();
    }

    /** Opens a stream to {@code open}'s destination; call on the event loop of a ready connection. */
    public int openStream(Frames.Open open, StreamListener listener) {
        if (!initiator) {
            throw new IllegalStateException("streams are opened by the side that initiated the connection");
        }
        if (!isReady()) {
            throw new IllegalStateException("tunnel connection not ready: " + closeReason);
        }
        int id = nextStreamId++;
        if (nextStreamId < 0) {
            // 2^31 streams on one connection: retire it; new streams go to a fresh one.
            channel.close();
        }
        streams.put(id, listener);
        channel.write(Frames.open(channel.alloc(), id, open));
        return id;
    }

    /**
     * Writes {@code frame} (no flush): a stream's DATA, CHUNK and FIN wait their turn in the fair
     * queue; other frames go at once.
     */
    public void write(Frame frame) {
        FrameType type = frame.type();
        if ((type == FrameType.DATA || type == FrameType.CHUNK || type == FrameType.FIN) && frame.streamId() != 0) {
            queue.add(frame.streamId(), frame);
        } else {
            channel.write(frame, channel.voidPromise());
        }
    }

    /** Sends what the fair queue lets through, and flushes. */
    public void flush() {
        pump();
        channel.flush();
    }

    /** Whether stream {@code streamId} may queue more (read more from its local socket). */
    public boolean hasRoom(int streamId) {
        if (queue.bytes(streamId) < STREAM_QUEUE_BYTES) {
            return true;
        }
        waitingForRoom.put(streamId, Boolean.TRUE);
        return false;
    }

    /** Bytes of stream data waiting in the fair queue (for metrics and tests). */
    public long queuedBytes() {
        return queue.bytes();
    }

    /** Moves frames from the fair queue to Netty while less than {@link #SOCKET_QUEUE_BYTES} wait there. */
    private void pump() {
        if (pumping || channel == null) {
            return;
        }
        pumping = true;
        try {
            boolean again = true;
            while (again) {
                again = false;
                boolean wrote = false;
                Frame frame;
                while (inNetty < SOCKET_QUEUE_BYTES && channel.isActive() && (frame = queue.poll()) != null) {
                    int n = FrameCodec.HEADER_BYTES + frame.payload().readableBytes();
                    inNetty += n;
                    wrote = true;
                    channel.write(frame).addListener(f -> {
                        inNetty -= n;
                        if (!queue.isEmpty()) {
                            flush();
                        }
                    });
                    roomAgain(frame.streamId());
                }
                if (wrote) {
                    // The socket may take it all at once, completing the writes and making room again.
                    channel.flush();
                    again = inNetty < SOCKET_QUEUE_BYTES && !queue.isEmpty() && channel.isActive();
                }
            }
        } finally {
            pumping = false;
        }
    }

    /** Tells a stream that was refused room that it has room again. */
    private void roomAgain(int streamId) {
        if (!waitingForRoom.isEmpty() && waitingForRoom.containsKey(streamId)
                && queue.bytes(streamId) < STREAM_QUEUE_BYTES) {
            waitingForRoom.remove(streamId);
            StreamListener s = streams.get(streamId);
            if (s != null) {
                channel.eventLoop().execute(() -> s.onWritabilityChanged(true));
            }
        }
    }

    private void dropQueued(int streamId) {
        waitingForRoom.remove(streamId);
        for (Frame f : queue.remove(streamId)) {
            f.release();
        }
    }

    /** Forgets a finished stream (both directions done, or reset). */
    public void remove(int streamId) {
        streams.remove(streamId);
    }

    /** Resets one stream towards the peer and forgets it. */
    public void reset(int streamId, int code, String reason) {
        dropQueued(streamId);
        if (streams.remove(streamId) != null && channel.isActive()) {
            channel.writeAndFlush(Frames.rst(channel.alloc(), streamId, code, reason), channel.voidPromise());
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Frames.hello(ctx.alloc(), localHello));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            dispatch(ctx, frame);
        } finally {
            if (frame.refCnt() > 0 && !handedOff) {
                frame.release();
            }
            handedOff = false;
        }
    }

    private boolean handedOff;

    private void dispatch(ChannelHandlerContext ctx, Frame frame) {
        if (peerHello == null) {
            if (frame.type() != FrameType.HELLO) {
                throw new CorruptedFrameException("first frame: " + frame.type() + " (expected: HELLO)");
            }
            Frames.Hello hello = Frames.readHello(frame.payload());
            if (hello.version != Frames.VERSION) {
                throw new CorruptedFrameException("protocol version: " + hello.version + " (expected: " + Frames.VERSION + ")");
            }
            checkIdentity(ctx, hello);
            peerHello = hello;
            log.info("tunnel {} {} peer {} at site {}", initiator ? "to" : "from", ctx.channel().remoteAddress(),
                    hello.workerId, hello.site);
            ready.complete(hello);
            return;
        }
        switch (frame.type()) {
            case HELLO:
                throw new CorruptedFrameException("HELLO: sent twice");
            case PING:
                ctx.writeAndFlush(Frames.ping(ctx.alloc(), FrameType.PONG, Frames.readLong(frame.payload(), "ping")));
                return;
            case PONG:
                return;
            case OPEN:
                accept(ctx, frame);
                return;
            default:
                break;
        }
        if (frame.streamId() == 0) {
            throw new CorruptedFrameException(frame.type() + " on stream 0 (expected: a stream id)");
        }
        StreamListener stream = streams.get(frame.streamId());
        if (stream == null) {
            // A stream we already finished or reset: late frames are normal, drop them.
            return;
        }
        switch (frame.type()) {
            case DATA:
                handedOff = true;
                if (!readThisBatch.contains(stream)) {
                    readThisBatch.add(stream);
                }
                stream.onData(frame.payload());
                return;
            case CREDIT:
                stream.onCredit(Frames.readCredit(frame.payload()));
                return;
            case FIN:
                Frames.requireEnd(frame.payload(), "FIN");
                stream.onFin();
                return;
            case RST:
                String reason = Frames.readRst(frame.payload());
                streams.remove(frame.streamId());
                dropQueued(frame.streamId());
                stream.onReset("reset by peer: " + reason);
                return;
            case NEED:
                stream.onNeed(frame.payload());
                return;
            case CHUNK:
                stream.onChunk(frame.payload());
                return;
            default:
                throw new CorruptedFrameException("unexpected frame " + frame.type());
        }
    }

    /**
     * The peer is who the configuration expects (initiator) and, on TLS, who its certificate says:
     * the claims in HELLO alone are not trusted.
     */
    private void checkIdentity(ChannelHandlerContext ctx, Frames.Hello hello) {
        String claimed = hello.site + ":" + hello.workerId;
        if (expectedPeer != null && !expectedPeer.equals(claimed)) {
            throw new PeerRefusedException("peer identity: '" + claimed + "' (expected: '" + expectedPeer + "')");
        }
        io.netty.handler.ssl.SslHandler ssl = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl != null) {
            String proven = WorkerTls.peerIdentity(ssl);
            if (!claimed.equals(proven)) {
                throw new PeerRefusedException("peer identity: HELLO claims '" + claimed
                        + "' but its certificate names '" + proven + "'");
            }
        }
    }

    private void accept(ChannelHandlerContext ctx, Frame frame) {
        if (initiator) {
            throw new CorruptedFrameException("OPEN from the accepting side (expected: only the initiator opens streams)");
        }
        int id = frame.streamId();
        if (id == 0 || streams.containsKey(id)) {
            throw new CorruptedFrameException("OPEN of stream " + id + " (expected: a new stream id)");
        }
        Frames.Open open = Frames.readOpen(frame.payload());
        streams.put(id, acceptor.accept(this, id, open));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        for (int i = 0; i < readThisBatch.size(); i++) {
            readThisBatch.get(i).onReadComplete();
        }
        readThisBatch.clear();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        if (writable) {
            flush();
        }
        for (StreamListener s : new ArrayList<>(streams.values())) {
            s.onWritabilityChanged(writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            IdleStateEvent idle = (IdleStateEvent) evt;
            switch (idle.state()) {
                case WRITER_IDLE:
                    ctx.writeAndFlush(Frames.ping(ctx.alloc(), FrameType.PING, ThreadLocalRandom.current().nextLong()));
                    break;
                case READER_IDLE:
                    closeReason = "peer silent (no frame within the keepalive timeout)";
                    log.warn("tunnel {}: {}", ctx.channel().remoteAddress(), closeReason);
                    ctx.close();
                    break;
                default:
                    break;
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failed) {
            return; // the decoder may report the same bad bytes again while the channel closes
        }
        failed = true;
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PeerRefusedException) {
            closeReason = "peer refused: " + root.getMessage();
            log.warn("tunnel {} closed: {}", ctx.channel().remoteAddress(), closeReason);
        } else if (root instanceof CorruptedFrameException) {
            closeReason = "malformed frame: " + root.getMessage();
            log.warn("tunnel {} closed: {}", ctx.channel().remoteAddress(), closeReason);
        } else {
            closeReason = root.toString();
            log.info("tunnel {} closed: {}", ctx.channel().remoteAddress(), closeReason);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ready.completeExceptionally(new IllegalStateException("tunnel connection closed: " + closeReason));
        for (StreamListener s : new ArrayList<>(streams.values())) {
            s.onReset("tunnel connection lost: " + closeReason);
        }
        streams.clear();
        for (Frame f : queue.clear()) {
            f.release();
        }
        waitingForRoom.clear();
        ctx.fireChannelInactive();
    }

    /** Closes the connection after flushing what is queued. */
    public void close(String reason) {
        closeReason = reason;
        pump();
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

}
