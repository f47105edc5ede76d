package io.slipstream.worker.wanopt;

import io.slipstream.worker.net.Transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.slipstream.common.HostPort;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import io.slipstream.worker.wanopt.tunnel.TunnelInitializer;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistent tunnel connections from this worker to one peer: one per event loop, opened before
 * any traffic arrives and re-opened with backoff whenever one is lost, so a flow never waits for a
 * handshake and stays on its own event loop.
 */
final class PeerLink implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(PeerLink.class);
    static final long MIN_BACKOFF_MILLIS = 100;
    static final long MAX_BACKOFF_MILLIS = 5000;
    /** A peer that does not answer is given up on (and retried) after this long. */
    static final int CONNECT_TIMEOUT_MILLIS = 2000;

    private final String peerId;
    private final String site;
    private final HostPort endpoint;
    private final List<Slot> slots = new ArrayList<>();
    private volatile boolean closed;

    PeerLink(String peerId, String site, HostPort endpoint, EventLoopGroup group, Transport transport,
             Supplier<TunnelConnection> connections, java.util.function.Consumer<TunnelConnection> onConnection,
             io.slipstream.worker.security.WorkerTls tls) {
        this.peerId = peerId;
        this.site = site;
        this.endpoint = endpoint;
        for (EventExecutor executor : group) {
            slots.add(new Slot((EventLoop) executor, transport, connections, onConnection, tls));
        }
    }

    String peerId() {
        return peerId;
    }

    String site() {
        return site;
    }

    HostPort endpoint() {
        return endpoint;
    }

    PeerLink start() {
        for (Slot slot : slots) {
            slot.loop.execute(slot::connect);
        }
        return this;
    }

    /** A ready connection, preferably on {@code loop}; {@code null} when none is ready. */
    TunnelConnection connectionFor(EventLoop loop) {
        TunnelConnection any = null;
        for (Slot slot : slots) {
            TunnelConnection c = slot.current;
            if (c != null && c.isReady()) {
                if (slot.loop == loop) {
                    return c;
                }
                if (any == null) {
                    any = c;
                }
            }
        }
        return any;
    }

    /** Ready connections now. */
    int readyConnections() {
        int n = 0;
        for (Slot slot : slots) {
            if (slot.current != null && slot.current.isReady()) {
                n++;
            }
        }
        return n;
    }

    private final class Slot {
        final EventLoop loop;
        final Bootstrap bootstrap;
        volatile TunnelConnection current;
        long backoff = MIN_BACKOFF_MILLIS;

        Slot(EventLoop loop, Transport transport, Supplier<TunnelConnection> connections,
             java.util.function.Consumer<TunnelConnection> onConnection, io.slipstream.worker.security.WorkerTls tls) {
            this.loop = loop;
            this.bootstrap = new Bootstrap().group(loop).channel(transport.socketChannel)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                    .handler(new TunnelInitializer(connections, c -> {
                        onConnection.accept(c);
                        current = c;
                    }, tls, true));
        }

        void connect() {
            if (closed) {
                return;
            }
            bootstrap.connect(endpoint.host(), endpoint.port()).addListener(f -> {
                if (!f.isSuccess()) {
                    retry("connect failed: " + f.cause().getMessage());
                    return;
                }
                io.netty.channel.Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                if (closed) {
                    ch.close(); // closed while we were connecting
                    return;
                }
                TunnelConnection c = current;
                c.ready().whenComplete((hello, e) -> {
                    if (e == null) {
                        backoff = MIN_BACKOFF_MILLIS;
                    }
                });
                ch.closeFuture().addListener(x -> retry("connection closed"));
            });
        }

        void retry(String why) {
            if (closed) {
                return;
            }
            long delay = backoff;
            backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            log.debug("tunnel to {} ({}): {}; again in {} ms", peerId, endpoint, why, delay);
            loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Slot slot : slots) {
            TunnelConnection c = slot.current;
            if (c != null && c.channel() != null) {
                c.channel().close();
            }
        }
    }
}
