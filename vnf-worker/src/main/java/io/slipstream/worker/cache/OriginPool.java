package io.slipstream.worker.cache;

import io.slipstream.worker.net.Transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.slipstream.common.HostPort;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive connections to origins, owned by one event loop: every method runs on {@link #loop()}, so
 * there is no locking, and a frontend uses the pool of its own loop so the relay never crosses threads.
 * Idle connections are reused last-in first-out (the warmest first); connections the origin closed while
 * idle are dropped when found. {@link #preopen} opens some ahead of the first request.
 */
final class OriginPool {

    private static final Transport TRANSPORT = Transport.best();

    private final EventLoop loop;
    private final int maxIdlePerOrigin;
    private final long timeoutMillis;
    private final Map<HostPort, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Map<Channel, HostPort> origins = new HashMap<>();
    private long opened;

    OriginPool(EventLoop loop, int maxIdlePerOrigin, long timeoutMillis) {
        this.loop = loop;
        this.maxIdlePerOrigin = maxIdlePerOrigin;
        this.timeoutMillis = timeoutMillis;
    }

    EventLoop loop() {
        return loop;
    }

    /** An idle connection to {@code origin}, or a new one. */
    Future<Channel> acquire(HostPort origin) {
        assert loop.inEventLoop();
        ArrayDeque<Channel> q = idle.get(origin);
        while (q != null && !q.isEmpty()) {
            Channel c = q.pollLast();
            if (c.isActive()) {
                return loop.newSucceededFuture(c);
            }
        }
        Promise<Channel> promise = loop.newPromise();
        ChannelFuture f = connect(origin);
        f.addListener(done -> {
            if (done.isSuccess()) {
                promise.setSuccess(f.channel());
            } else {
                promise.setFailure(done.cause());
            }
        });
        return promise;
    }

    /** Gives back a connection whose exchange completed with keep-alive. */
    void release(Channel c) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> release(c));
            return;
        }
        HostPort origin = origins.get(c);
        if (origin == null || !c.isActive()) {
            c.close();
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(origin, o -> new ArrayDeque<>());
        if (q.size() >= maxIdlePerOrigin) {
            c.close();
        } else {
            q.addLast(c);
        }
    }

    /** Opens {@code n} connections to {@code origin} and parks them idle; failures are ignored. */
    void preopen(HostPort origin, int n) {
        loop.execute(() -> {
            for (int i = 0; i < n; i++) {
                ChannelFuture f = connect(origin);
                f.addListener(done -> {
                    if (done.isSuccess()) {
                        release(f.channel());
                    }
                });
            }
        });
    }

    /** Connections opened so far (for tests and metrics). */
    long opened() {
        return opened;
    }

    int idle(HostPort origin) {
        ArrayDeque<Channel> q = idle.get(origin);
        return q == null ? 0 : (int) q.stream().filter(Channel::isActive).count();
    }

    private ChannelFuture connect(HostPort origin) {
        opened++;
        OriginPool pool = this;
        ChannelFuture f = new Bootstrap().group(loop).channel(TRANSPORT.socketChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("idle", new IdleStateHandler(timeoutMillis, 0, 0, TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("codec", new HttpClientCodec(8192, 64 * 1024, 64 * 1024, false, true));
                        ch.pipeline().addLast("backend", new OriginBackendHandler(pool, timeoutMillis));
                    }
                })
                .connect(origin.host(), origin.port());
        origins.put(f.channel(), origin);
        f.channel().closeFuture().addListener(x -> {
            origins.remove(f.channel());
            ArrayDeque<Channel> q = idle.get(origin);
            if (q != null) {
                q.remove(f.channel());
            }
        });
        return f;
    }

    /** Closes every idle connection. */
    void closeIdle() {
        loop.execute(() -> {
            for (ArrayDeque<Channel> q : idle.values()) {
                for (Channel c : q) {
                    c.close();
                }
                q.clear();
            }
        });
    }
}
