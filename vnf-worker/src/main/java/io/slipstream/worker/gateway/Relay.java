package io.slipstream.worker.gateway;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One direction of a spliced connection: what this channel reads is written to its peer, and the next
 * read is issued only when that write has completed (back-pressure, AUTO_READ off). A half-close is
 * passed on as a half-close; the pair is closed when both directions have ended, or at once on an error.
 * Buffers read here are owned by the peer's write (which releases them). Also used by wanopt for bypassed flows.
 */
public final class Relay extends ChannelInboundHandlerAdapter {

    /** What both directions of one spliced connection share. */
    public static final class Pair {
        private final AtomicInteger ended = new AtomicInteger();
        private final AtomicBoolean closed = new AtomicBoolean();
        private final Runnable onClose;

        public Pair(Runnable onClose) {
            this.onClose = onClose;
        }

        void closeBoth(Channel a, Channel b, boolean reset) {
            if (reset) {
                abort(a);
                abort(b);
            } else {
                a.close();
                b.close();
            }
            if (closed.compareAndSet(false, true)) {
                onClose.run();
            }
        }
    }

    private final Channel peer;
    private final Pair pair;
    private final Counter bytes;
    private boolean inputEnded;

    Relay(Channel peer, Pair pair, Counter bytes) {
        this.peer = peer;
        this.pair = pair;
        this.bytes = bytes;
    }

    /**
     * Starts relaying what {@code own} reads to {@code peer}. Call on {@code own}'s event loop, so the relay is
     * live at once: a transport may deliver data (e.g. on a peer's close) even with AUTO_READ off, and a handler
     * added from another thread would miss it until its addition has run there.
     */
    public static void install(Channel own, Channel peer, Pair pair, Counter bytes) {
        assert own.eventLoop().inEventLoop();
        own.pipeline().addLast("relay", new Relay(peer, pair, bytes));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes.increment(buf.readableBytes());
        }
        peer.writeAndFlush(msg).addListener(f -> {
            if (f.isSuccess()) {
                ctx.channel().read();
            } else {
                pair.closeBoth(ctx.channel(), peer, true);
            }
        });
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            endInput(ctx);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    private void endInput(ChannelHandlerContext ctx) {
        if (inputEnded) {
            return;
        }
        inputEnded = true;
        // After everything already written to the peer: its output ends too.
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (!f.isSuccess()) {
                pair.closeBoth(ctx.channel(), peer, true);
            } else if (pair.ended.incrementAndGet() == 2) {
                pair.closeBoth(ctx.channel(), peer, false);
            } else if (peer instanceof SocketChannel s) {
                s.shutdownOutput();
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!inputEnded) {
            inputEnded = true;
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f ->
                    pair.closeBoth(ctx.channel(), peer, false));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        pair.closeBoth(ctx.channel(), peer, true);
    }

    /** Closes with a TCP reset, so the other end sees a failure rather than a clean end. */
    static void abort(Channel channel) {
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        channel.close();
    }
}
