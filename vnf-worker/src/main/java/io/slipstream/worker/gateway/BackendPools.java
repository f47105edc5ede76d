package io.slipstream.worker.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.slipstream.common.HostPort;
import io.slipstream.worker.net.Transport;
import java.io.Closeable;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pre-opened connections to back-end workers: per member endpoint a few idle connected channels, so a
 * dispatch does not pay a connect. Taking one starts an asynchronous refill; idle channels older than the
 * idle limit are replaced (back ends close idle connections), a channel the back end closes or writes to
 * while idle is dropped, and {@link #retain} closes the pools of members that left the table. An empty pool
 * falls back to connecting on the caller's event loop.
 */
final class BackendPools implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(BackendPools.class);
    static final int CONNECT_TIMEOUT_MILLIS = 3000;

    private final EventLoopGroup group;
    private final Transport transport;
    private final int perMember;
    private final long maxIdleNanos;
    private final LongSupplier nanoTime;
    private final Map<HostPort, Pool> pools = new ConcurrentHashMap<>();
    private final Counter hits;
    private final Counter misses;
    private final ScheduledFuture<?> sweeper;
    private volatile boolean closed;

    /**
     * @param perMember idle connections kept per member (0 disables pre-opening)
     * @param maxIdleMillis an idle connection is replaced after this long
     */
    BackendPools(EventLoopGroup group, Transport transport, int perMember, long maxIdleMillis, MeterRegistry meters,
                 LongSupplier nanoTime) {
        this.group = group;
        this.transport = transport;
        this.perMember = perMember;
        this.maxIdleNanos = TimeUnit.MILLISECONDS.toNanos(maxIdleMillis);
        this.nanoTime = nanoTime;
        this.hits = Counter.builder("slipstream.gateway.pool.takes").tag("result", "hit")
                .description("Dispatches that took a pre-opened back-end connection").register(meters);
        this.misses = Counter.builder("slipstream.gateway.pool.takes").tag("result", "miss")
                .description("Dispatches that had to connect (pool empty)").register(meters);
        meters.gauge("slipstream.gateway.pool.idle", this, BackendPools::idle);
        long period = Math.max(50, maxIdleMillis / 4);
        this.sweeper = group.next().scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** Keeps pools for {@code endpoints} (opening them as needed) and closes every other pool. */
    void retain(Collection<HostPort> endpoints) {
        Set<HostPort> wanted = new HashSet<>(endpoints);
        for (HostPort endpoint : pools.keySet()) {
            if (!wanted.contains(endpoint)) {
                Pool pool = pools.remove(endpoint);
                if (pool != null) {
                    pool.close();
                    log.info("back-end pool for {} closed: no longer in the steering table", endpoint);
                }
            }
        }
        if (perMember > 0 && !closed) {
            for (HostPort endpoint : wanted) {
                pools.computeIfAbsent(endpoint, Pool::new).fill();
            }
        }
    }

    /** A connected channel to {@code endpoint} (AUTO_READ off, empty pipeline), completed on any thread. */
    Future<Channel> acquire(HostPort endpoint, EventLoop loop) {
        Promise<Channel> promise = loop.newPromise();
        Pool pool = pools.get(endpoint);
        if (pool != null) {
            pool.take(promise, loop);
        } else {
            misses.increment();
            connect(endpoint, loop, promise);
        }
        return promise;
    }

    /** A new connection to {@code endpoint} on {@code loop}, never pooled (bypassed flows go anywhere). */
    Future<Channel> acquireDirect(java.net.InetSocketAddress destination, EventLoop loop) {
        Promise<Channel> promise = loop.newPromise();
        bootstrap(loop, new ChannelInboundHandlerAdapter()).connect(destination)
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        f.channel().pipeline().removeFirst();
                        promise.trySuccess(f.channel());
                    } else {
                        promise.tryFailure(f.cause());
                    }
                });
        return promise;
    }

    /** The back end refused or timed out: drop the idle connections to it (they are likely dead too). */
    void failed(HostPort endpoint) {
        Pool pool = pools.get(endpoint);
        if (pool != null) {
            pool.drain();
        }
    }

    private void connect(HostPort endpoint, EventLoop loop, Promise<Channel> promise) {
        bootstrap(loop, new ChannelInboundHandlerAdapter()).connect(endpoint.host(), endpoint.port())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        f.channel().pipeline().removeFirst();
                        promise.trySuccess(f.channel());
                    } else {
                        promise.tryFailure(f.cause());
                    }
                });
    }

    private Bootstrap bootstrap(EventLoop loop, io.netty.channel.ChannelHandler handler) {
        return new Bootstrap().group(loop).channel(transport.socketChannel)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                .handler(handler);
    }

    int idle() {
        int n = 0;
        for (Pool p : pools.values()) {
            n += p.idle.size();
        }
        return n;
    }

    /** Idle connections to {@code endpoint}. */
    int idle(HostPort endpoint) {
        Pool p = pools.get(endpoint);
        return p == null ? 0 : p.idle.size();
    }

    private void sweep() {
        for (Pool p : pools.values()) {
            p.expire();
            p.fill();
        }
    }

    @Override
    public void close() {
        closed = true;
        sweeper.cancel(false);
        for (Pool p : pools.values()) {
            p.close();
        }
        pools.clear();
    }

    /** An idle connection and when it was opened. */
    private record Idle(Channel channel, long openedNanos) {
    }

    /** While idle, a connection must stay silent: data or a close from the back end drops it. */
    private static final class IdleGuard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            ctx.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    private final class Pool {
        final HostPort endpoint;
        final ConcurrentLinkedDeque<Idle> idle = new ConcurrentLinkedDeque<>();
        final AtomicInteger opening = new AtomicInteger();
        volatile long retryAfterNanos;
        volatile boolean closed;

        Pool(HostPort endpoint) {
            this.endpoint = endpoint;
        }

        void take(Promise<Channel> promise, EventLoop loop) {
            Idle candidate;
            long now = nanoTime.getAsLong();
            while ((candidate = idle.pollFirst()) != null) {
                Channel ch = candidate.channel;
                if (!ch.isActive() || now - candidate.openedNanos > maxIdleNanos) {
                    ch.close();
                    continue;
                }
                Idle taken = candidate;
                ch.eventLoop().execute(() -> {
                    // On the channel's loop: nothing can be read between the check and the switch.
                    if (!ch.isActive()) {
                        take(promise, loop);
                        return;
                    }
                    ch.config().setAutoRead(false);
                    ch.pipeline().remove(IdleGuard.class);
                    hits.increment();
                    promise.trySuccess(taken.channel);
                });
                fill();
                return;
            }
            misses.increment();
            connect(endpoint, loop, promise);
            fill();
        }

        void fill() {
            if (closed || BackendPools.this.closed || nanoTime.getAsLong() < retryAfterNanos) {
                return;
            }
            while (idle.size() + opening.get() < perMember) {
                opening.incrementAndGet();
                bootstrap(group.next(), new IdleGuard()).option(ChannelOption.AUTO_READ, true)
                        .connect(endpoint.host(), endpoint.port()).addListener((ChannelFuture f) -> {
                            opening.decrementAndGet();
                            if (!f.isSuccess()) {
                                // Do not hammer a back end that is down: try again after a pause.
                                retryAfterNanos = nanoTime.getAsLong() + TimeUnit.SECONDS.toNanos(1);
                                log.debug("pre-opening a connection to {} failed: {}", endpoint, f.cause().toString());
                                return;
                            }
                            Channel ch = f.channel();
                            if (closed) {
                                ch.close();
                                return;
                            }
                            Idle entry = new Idle(ch, nanoTime.getAsLong());
                            idle.addLast(entry);
                            ch.closeFuture().addListener(c -> idle.remove(entry));
                        });
            }
        }

        void expire() {
            long now = nanoTime.getAsLong();
            for (Idle i : idle) {
                if (now - i.openedNanos > maxIdleNanos && idle.remove(i)) {
                    i.channel.close();
                }
            }
        }

        void drain() {
            Idle i;
            while ((i = idle.pollFirst()) != null) {
                i.channel.close();
            }
            retryAfterNanos = nanoTime.getAsLong() + TimeUnit.SECONDS.toNanos(1);
        }

        void close() {
            closed = true;
            drain();
        }
    }
}
