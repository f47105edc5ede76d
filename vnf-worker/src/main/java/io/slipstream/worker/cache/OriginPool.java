package io.slipstream.worker.cache;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.ProxyTlv;
import io.slipstream.worker.net.Transport;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keep-alive connections to origins, owned by one event loop: every method runs on {@link #loop()}, so
 * there is no locking, and a frontend uses the pool of its own loop so the relay never crosses threads.
 * Idle connections are reused last-in first-out (the warmest first); connections the origin closed while
 * idle are dropped when found. {@link #preopen} opens some ahead of the first request.
 *
 * <p>An origin a {@code cache+wanopt} policy covers at another site is reached through a wanopt worker of this
 * site ({@link ChainRoutes}): the connection goes to the hop with a PROXY v2 header naming the origin, and is pooled
 * under (origin, hop), so a connection is only reused on the route it was opened for. A hop that refuses the
 * connection is passed over for the next one; when none answers, the policy's {@code peerUnavailable} decides:
 * fetch directly, or fail with {@link ChainUnavailableException}.
 */
final class OriginPool {

    private static final Logger log = LoggerFactory.getLogger(OriginPool.class);
    private static final Transport TRANSPORT = Transport.best();
    /** On a connection through a wanopt worker: that hop. */
    static final AttributeKey<HostPort> HOP = AttributeKey.valueOf("slipstream.cache.chain.hop");

    /** Idle connections are kept per origin and route ({@code hop == null}: direct). */
    private record Key(HostPort origin, HostPort hop) {}

    private final EventLoop loop;
    private final int maxIdlePerOrigin;
    private final long timeoutMillis;
    private final Supplier<ChainRoutes> routes;
    private final ChainCounters chain;
    private final Map<Key, ArrayDeque<Channel>> idle = new HashMap<>();
    private final Map<Channel, Key> origins = new HashMap<>();
    private long opened;

    OriginPool(EventLoop loop, int maxIdlePerOrigin, long timeoutMillis, Supplier<ChainRoutes> routes,
            ChainCounters chain) {
        this.loop = loop;
        this.maxIdlePerOrigin = maxIdlePerOrigin;
        this.timeoutMillis = timeoutMillis;
        this.routes = routes;
        this.chain = chain;
    }

    EventLoop loop() {
        return loop;
    }

    /**
     * An idle connection to {@code origin} on its current route, or a new one; fails with
     * {@link ChainUnavailableException} when the route is refused. The wanopt workers in {@code triedLast} (whose
     * connection died under an earlier attempt of the same fetch) are moved behind the route's other hops.
     */
    Future<Channel> acquire(HostPort origin, Set<HostPort> triedLast) {
        assert loop.inEventLoop();
        ChainRoutes.Route route = routes.get().route(origin);
        if (route instanceof ChainRoutes.Refused refused) {
            chain.refused.increment();
            return loop.newFailedFuture(new ChainUnavailableException(refused.reason()));
        }
        if (route instanceof ChainRoutes.Tunnel t) {
            ChainRoutes.Tunnel tunnel = triedLast.isEmpty() ? t : t.withHopsLast(triedLast);
            chain.tunneled.increment();
            Channel reuse = pollIdle(new Key(origin, tunnel.hops().get(0)));
            if (reuse != null) {
                return loop.newSucceededFuture(reuse);
            }
            Promise<Channel> promise = loop.newPromise();
            viaHop(origin, tunnel, 0, promise, null);
            return promise;
        }
        if (((ChainRoutes.Direct) route).bypass()) {
            chain.bypassed.increment();
        }
        Channel reuse = pollIdle(new Key(origin, null));
        if (reuse != null) {
            return loop.newSucceededFuture(reuse);
        }
        Promise<Channel> promise = loop.newPromise();
        complete(connect(new Key(origin, null), null, null), promise);
        return promise;
    }

    private Channel pollIdle(Key key) {
        ArrayDeque<Channel> q = idle.get(key);
        while (q != null && !q.isEmpty()) {
            Channel c = q.pollLast();
            if (c.isActive()) {
                return c;
            }
        }
        return null;
    }

    private static void complete(ChannelFuture f, Promise<Channel> promise) {
        f.addListener(done -> {
            if (done.isSuccess()) {
                promise.setSuccess(f.channel());
            } else {
                promise.setFailure(done.cause());
            }
        });
    }

    /** Connects through {@code tunnel.hops().get(i)}, then the next hops, then as the policy says. */
    private void viaHop(HostPort origin, ChainRoutes.Tunnel tunnel, int i, Promise<Channel> promise, Throwable last) {
        List<HostPort> hops = tunnel.hops();
        if (i == hops.size()) {
            if (tunnel.bypassWhenNoHop()) {
                log.warn("cache chain {}: no wanopt worker of this site answered ({}); fetching {} directly "
                        + "(peerUnavailable: bypass)", tunnel.policy(), hops, origin);
                chain.bypassed.increment();
                complete(connect(new Key(origin, null), null, null), promise);
            } else {
                promise.setFailure(new ChainUnavailableException("no wanopt worker answered for policy "
                        + tunnel.policy() + " (tried " + hops + ": " + (last == null ? "?" : last.getMessage())
                        + "; peerUnavailable fail-fast)"));
            }
            return;
        }
        HostPort hop = hops.get(i);
        ChannelFuture f = connect(new Key(origin, hop), tunnel.origin(), tunnel.policy());
        f.addListener(done -> {
            if (done.isSuccess()) {
                promise.setSuccess(f.channel());
            } else {
                chain.hopFailures.increment();
                log.warn("cache chain {}: wanopt worker {} did not answer ({}); trying the next", tunnel.policy(),
                        hop, done.cause().getMessage());
                viaHop(origin, tunnel, i + 1, promise, done.cause());
            }
        });
    }

    /** Gives back a connection whose exchange completed with keep-alive. */
    void release(Channel c) {
        if (!loop.inEventLoop()) {
            loop.execute(() -> release(c));
            return;
        }
        Key key = origins.get(c);
        if (key == null || !c.isActive() || key.hop() != null && !routes.get().usesHop(key.hop())) {
            c.close(); // gone, or through a wanopt worker no longer in the chain: not kept
            return;
        }
        ArrayDeque<Channel> q = idle.computeIfAbsent(key, o -> new ArrayDeque<>());
        if (q.size() >= maxIdlePerOrigin) {
            c.close();
        } else {
            q.addLast(c);
        }
    }

    /** Opens {@code n} direct connections to {@code origin} and parks them idle; failures are ignored. */
    void preopen(HostPort origin, int n) {
        loop.execute(() -> {
            for (int i = 0; i < n; i++) {
                ChannelFuture f = connect(new Key(origin, null), null, null);
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

    /** Idle direct connections to {@code origin}. */
    int idle(HostPort origin) {
        ArrayDeque<Channel> q = idle.get(new Key(origin, null));
        return q == null ? 0 : (int) q.stream().filter(Channel::isActive).count();
    }

    /**
     * Connects to the key's origin, or to its hop with a PROXY v2 header naming {@code proxied} (the origin's
     * address) written first.
     */
    private ChannelFuture connect(Key key, InetSocketAddress proxied, String policy) {
        opened++;
        OriginPool pool = this;
        HostPort target = key.hop() == null ? key.origin() : key.hop();
        ChannelFuture f = new Bootstrap().group(loop).channel(TRANSPORT.socketChannel)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .attr(HOP, key.hop())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (key.hop() != null) {
                            ch.pipeline().addLast("proxy-v2", HAProxyMessageEncoder.INSTANCE);
                        }
                        ch.pipeline().addLast("idle", new IdleStateHandler(timeoutMillis, 0, 0, TimeUnit.MILLISECONDS));
                        ch.pipeline().addLast("codec", new HttpClientCodec(8192, 64 * 1024, 64 * 1024, false, true));
                        ch.pipeline().addLast("backend", new OriginBackendHandler(pool, timeoutMillis));
                    }
                })
                .connect(target.host(), target.port());
        origins.put(f.channel(), key);
        if (key.hop() != null) {
            f.addListener(done -> {
                if (done.isSuccess()) {
                    Channel ch = f.channel();
                    // The header goes first; the request is written after this listener, on the same loop.
                    ch.writeAndFlush(proxyHeader((InetSocketAddress) ch.localAddress(), proxied, policy));
                    ch.pipeline().remove("proxy-v2");
                }
            });
        }
        f.channel().closeFuture().addListener(x -> {
            origins.remove(f.channel());
            ArrayDeque<Channel> q = idle.get(key);
            if (q != null) {
                q.remove(f.channel());
            }
        });
        return f;
    }

    /**
     * PROXY v2 header naming the origin as the destination, this connection's local end as the source, and the
     * policy ({@link ProxyTlv#POLICY}: the source is the cache, not a client the policy names).
     */
    static HAProxyMessage proxyHeader(InetSocketAddress local, InetSocketAddress origin, String policy) {
        boolean v4 = origin.getAddress() instanceof Inet4Address;
        String source = local.getAddress().getHostAddress();
        int sourcePort = local.getPort();
        if (v4 != local.getAddress() instanceof Inet4Address) {
            source = v4 ? "0.0.0.0" : "::"; // the families must agree; the source is informative only
            sourcePort = 0;
        }
        byte[] name = policy.getBytes(StandardCharsets.UTF_8);
        List<HAProxyTLV> tlvs = name.length == 0 || name.length > ProxyTlv.MAX_POLICY_BYTES ? List.of()
                : List.of(new HAProxyTLV(ProxyTlv.POLICY, Unpooled.wrappedBuffer(name)));
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6, source,
                origin.getAddress().getHostAddress(), sourcePort, origin.getPort(), tlvs);
    }

    /**
     * Closes idle connections through wanopt workers that {@code routes} no longer uses (scaled in, drained, dead),
     * so they do not hold that worker's drain open; connections in use finish and are closed on release.
     */
    void retireHops(ChainRoutes routes) {
        loop.execute(() -> {
            for (Map.Entry<Key, ArrayDeque<Channel>> e : idle.entrySet()) {
                HostPort hop = e.getKey().hop();
                if (hop != null && !routes.usesHop(hop)) {
                    for (Channel c : e.getValue()) {
                        c.close();
                    }
                    e.getValue().clear();
                }
            }
        });
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
