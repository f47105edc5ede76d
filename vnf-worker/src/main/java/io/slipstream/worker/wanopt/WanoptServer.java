package io.slipstream.worker.wanopt;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.slipstream.worker.net.Transport;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wanopt role's event loops and listening sockets: the tunnel endpoint peers connect to, the port forwards,
 * the transparent listeners and the steered listener. Binds them on {@link #start} and closes them on
 * {@link #close}; what happens on their connections is up to the initializers.
 */
final class WanoptServer implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class); // the role's log, as before

    private final WanOptimizer.Settings settings;
    private final Transport transport;
    private final List<Channel> forwardListeners = new ArrayList<>();
    private final List<Channel> transparentListeners = new ArrayList<>();
    private EventLoopGroup group;
    private Channel tunnelServer;
    private Channel steeredServer;

    WanoptServer(WanOptimizer.Settings settings, Transport transport) {
        this.settings = settings;
        this.transport = transport;
    }

    /**
     * Starts the event loops and binds every listener of the settings.
     *
     * @param tunnel the pipeline of an accepted tunnel connection
     * @param ingress where port forwards and transparent listeners hand their connections
     * @param steered the pipeline of the steered listener's connections (bound when the settings ask for it)
     * @throws IllegalStateException transparent listeners without the epoll transport, or one that cannot bind
     */
    void start(ChannelInitializer<SocketChannel> tunnel, Ingress ingress, ChannelInitializer<SocketChannel> steered)
            throws InterruptedException {
        if (!settings.transparent.isEmpty() && transport != Transport.EPOLL) {
            throw new IllegalStateException("transparent mode " + settings.transparent + " needs the epoll transport "
                    + "(Linux, IP_TRANSPARENT), which is unavailable: " + Transport.epollUnavailability());
        }
        group = transport.newGroup(settings.threads);
        tunnelServer = new ServerBootstrap().group(group).channel(transport.serverChannel)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(tunnel)
                .bind(settings.bindHost, settings.tunnelPort).sync().channel();
        for (PortForward forward : settings.forwards) {
            forwardListeners.add(ingressListener(new ForwardInitializer(forward, ingress))
                    .bind(settings.bindHost, forward.listenPort()).sync().channel());
        }
        for (TransparentListener transparent : settings.transparent) {
            transparentListeners.add(bindTransparent(transparent, ingress));
        }
        if (settings.steeredPort >= 0) {
            steeredServer = ingressListener(steered).bind(settings.bindHost, settings.steeredPort).sync().channel();
            log.info("wanopt {}: steered listener (PROXY protocol v2) on {}", settings.workerId, steeredAddress());
        }
        log.info("wanopt {}: tunnel endpoint on {} ({}), {} port forwards, transparent listeners {}", settings.workerId,
                tunnelAddress(), transport, settings.forwards.size(), settings.transparent);
    }

    private ServerBootstrap ingressListener(ChannelInitializer<SocketChannel> initializer) {
        return new ServerBootstrap().group(group).channel(transport.serverChannel)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer);
    }

    /**
     * A listener with {@code IP_TRANSPARENT}: it accepts connections that TPROXY delivers for any
     * destination, and the accepted socket's local address is the connection's original destination.
     */
    private Channel bindTransparent(TransparentListener transparent, Ingress ingress) throws InterruptedException {
        ServerBootstrap bootstrap = ingressListener(new TransparentInitializer(transparent, ingress))
                .option(EpollChannelOption.IP_TRANSPARENT, true);
        try {
            return bootstrap.bind(transparent.bindHost(), transparent.port()).sync().channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("transparent listener " + transparent + ": bind failed (IP_TRANSPARENT "
                    + "needs CAP_NET_ADMIN): " + e.getMessage(), e);
        }
    }

    /** The event loops; {@code null} before {@link #start}. */
    EventLoopGroup group() {
        return group;
    }

    InetSocketAddress tunnelAddress() {
        return (InetSocketAddress) tunnelServer.localAddress();
    }

    /** {@code null} without a steered listener. */
    InetSocketAddress steeredAddress() {
        return steeredServer == null ? null : (InetSocketAddress) steeredServer.localAddress();
    }

    int forwardPort(int i) {
        return ((InetSocketAddress) forwardListeners.get(i).localAddress()).getPort();
    }

    int transparentPort(int i) {
        return ((InetSocketAddress) transparentListeners.get(i).localAddress()).getPort();
    }

    /** Closes the listeners, then stops the event loops (waiting up to 2 s). */
    @Override
    public void close() {
        for (Channel listener : forwardListeners) {
            listener.close();
        }
        for (Channel listener : transparentListeners) {
            listener.close();
        }
        if (tunnelServer != null) {
            tunnelServer.close();
        }
        if (steeredServer != null) {
            steeredServer.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
