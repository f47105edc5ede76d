package io.slipstream.tools.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on loopback: with no shaping, the plain Netty relay the benchmarks compare against
 * (frontend/backend pair, AUTO_READ off, the next read only after the previous write completed);
 * with a rate and a one-way delay, a user-space WAN emulator (the kernel here has no netem).
 *
 * <p>Shaping works per direction like a router's queue: a read leaves at
 * {@code max(now, previous departure) + size / rate} and arrives {@code delay} later; reading stops
 * while more than a queue's worth is in flight. Packet loss is not emulated: a stream relay cannot
 * drop segments without corrupting the stream, and TCP's response to loss is the kernel's business.
 * Buffers: each read buffer is owned by the relay until its write completes.
 *
 * <p>The rate is each connection's ({@link #ShapingRelay(InetSocketAddress, long, long)}, a link per flow), or
 * the whole link's, shared by every connection through the relay ({@link #sharedLink}, one queue per direction,
 * as a real WAN line). Used by the demo and the benchmarks as the WAN between sites, and by the chaos suite.
 */
public final class ShapingRelay implements AutoCloseable {

    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private final Channel server;
    private final long bytesPerSecond;
    private final long delayNanos;
    private final long queueBytes;
    /** When each direction of the shared link is next free (up 0, down 1), or null: one link per connection. */
    private final long[] sharedFree;
    /** Bytes relayed, both directions together (what crossed the emulated link). */
    private final java.util.concurrent.atomic.AtomicLong relayed = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param bytesPerSecond rate of each direction, 0 for unlimited
     * @param delayMillis one-way delay of each direction
     */
    public ShapingRelay(InetSocketAddress target, long bytesPerSecond, long delayMillis) throws InterruptedException {
        this(target, bytesPerSecond, delayMillis, false);
    }

    private ShapingRelay(InetSocketAddress target, long bytesPerSecond, long delayMillis, boolean shared)
            throws InterruptedException {
        if (bytesPerSecond < 0 || delayMillis < 0) {
            throw new IllegalArgumentException("shaping relay: rate " + bytesPerSecond + " B/s, delay " + delayMillis
                    + " ms (expected: both >= 0)");
        }
        this.sharedFree = shared ? new long[2] : null;
        this.bytesPerSecond = bytesPerSecond;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMillis);
        // A queue of one bandwidth-delay product (at least 256 KiB), as a router would have.
        this.queueBytes = Math.max(256 * 1024, bytesPerSecond * 2 * delayMillis / 1000);
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class);
        if (bytesPerSecond > 0) {
            // The emulated link's one queue is this relay's (queueBytes): a kernel receive buffer left to grow
            // (to megabytes, tcp_rmem) would be a second, hidden one that loopback TCP fills at once.
            bootstrap.childOption(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES);
        }
        this.server = bootstrap
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Frontend(target));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    /** A relay without shaping: the plain Netty relay the benchmarks compare against. */
    public static ShapingRelay plain(InetSocketAddress target) throws InterruptedException {
        return new ShapingRelay(target, 0, 0);
    }

    /**
     * One link of {@code bytesPerSecond} each way shared by every connection through the relay (the relay runs on
     * one event loop, so the link's state needs no locking).
     */
    public static ShapingRelay sharedLink(InetSocketAddress target, long bytesPerSecond, long delayMillis)
            throws InterruptedException {
        return new ShapingRelay(target, bytesPerSecond, delayMillis, true);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Bytes relayed so far in both directions, on every connection (TCP payload: frames, headers, credits). */
    public long bytesRelayed() {
        return relayed.get();
    }

    /** Receive buffer of a shaped relay's sockets (see the constructor). */
    static final int SOCKET_BUFFER_BYTES = 64 * 1024;

    /** One direction: reads from {@code from}, writes to {@code to}, shaped. */
    private final class Pipe extends ChannelInboundHandlerAdapter {
        private static final Object SHUTDOWN_OUTPUT = new Object();
        private static final Object CLOSE = new Object();

        private final Channel to;
        /** What is in flight, in order: [deliver-at nanos, ByteBuf | SHUTDOWN_OUTPUT | CLOSE]. */
        private final java.util.ArrayDeque<Object[]> queue = new java.util.ArrayDeque<>();
        /** When this direction of the link is next free: {@code free[direction]}. */
        private final long[] free;
        private final int direction;
        private long inFlight;
        private boolean inputDone;
        private boolean readPending;
        private boolean pumpScheduled;
        private Channel from;

        Pipe(Channel to, long[] free, int direction) {
            this.to = to;
            this.free = free;
            this.direction = direction;
        }

        void start(Channel channel) {
            from = channel;
            // Once the far side is closed nothing queued for it can be delivered: release it (on this loop).
            to.closeFuture().addListener(f -> dropQueued());
            readPending = true;
            from.read();
        }

        private void dropQueued() {
            Object[] item;
            while ((item = queue.poll()) != null) {
                io.netty.util.ReferenceCountUtil.release(item[1]);
            }
            inFlight = 0;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            int size = buf.readableBytes();
            relayed.addAndGet(size);
            inFlight += size;
            long now = System.nanoTime();
            long departure = bytesPerSecond == 0 ? now
                    : Math.max(now, free[direction]) + size * 1_000_000_000L / bytesPerSecond;
            free[direction] = departure;
            enqueue(ctx, departure + delayNanos, buf);
        }

        /** Items leave strictly in the order they were queued, none before its time. */
        private void enqueue(ChannelHandlerContext ctx, long at, Object item) {
            queue.add(new Object[] {at, item});
            if (!pumpScheduled) {
                pump(ctx);
            }
        }

        private void pump(ChannelHandlerContext ctx) {
            pumpScheduled = false;
            long now = System.nanoTime();
            Object[] head;
            boolean wrote = false;
            while ((head = queue.peek()) != null && (long) head[0] <= now) {
                queue.poll();
                wrote |= deliver(head[1]);
            }
            if (wrote) {
                to.flush();
            }
            if (head != null) {
                pumpScheduled = true;
                ctx.executor().schedule(() -> pump(ctx), (long) head[0] - now, TimeUnit.NANOSECONDS);
            }
        }

        private boolean deliver(Object item) {
            if (item == SHUTDOWN_OUTPUT) {
                to.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                        .addListener(f -> ((SocketChannel) to).shutdownOutput());
                return false;
            }
            if (item == CLOSE) {
                to.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                return false;
            }
            ByteBuf buf = (ByteBuf) item;
            int size = buf.readableBytes();
            to.write(buf).addListener(f -> {
                inFlight -= size;
                if (!f.isSuccess()) {
                    from.close();
                } else if (!inputDone && inFlight < queueBytes && !readPending) {
                    readPending = true;
                    from.read();
                }
            });
            return true;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readPending = false;
            if (inFlight < queueBytes && !inputDone) {
                readPending = true;
                ctx.channel().read();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent && !inputDone) {
                inputDone = true;
                enqueue(ctx, Math.max(free[direction], System.nanoTime()) + delayNanos, SHUTDOWN_OUTPUT);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inputDone = true;
            enqueue(ctx, Math.max(free[direction], System.nanoTime()) + delayNanos, CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class Frontend extends ChannelInboundHandlerAdapter {
        private final InetSocketAddress target;

        Frontend(InetSocketAddress target) {
            this.target = target;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel inbound = ctx.channel();
            Bootstrap bootstrap = new Bootstrap().group(inbound.eventLoop()).channel(NioSocketChannel.class);
            if (bytesPerSecond > 0) {
                bootstrap.option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            }
            bootstrap
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .connect(target).addListener(f -> {
                        if (!f.isSuccess()) {
                            inbound.close();
                            return;
                        }
                        Channel outbound = ((io.netty.channel.ChannelFuture) f).channel();
                        long[] free = sharedFree != null ? sharedFree : new long[2];
                        Pipe up = new Pipe(outbound, free, 0);
                        Pipe down = new Pipe(inbound, free, 1);
                        inbound.pipeline().remove(this);
                        inbound.pipeline().addLast(up);
                        outbound.pipeline().addLast(down);
                        up.start(inbound);
                        down.start(outbound);
                    });
        }
    }

    @Override
    public void close() {
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
