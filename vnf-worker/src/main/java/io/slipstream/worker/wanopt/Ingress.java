package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.NetUtil;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.net.Transport;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ingress: a client connection accepted by a listener goes to a peer at its destination's site as a new stream
 * on a ready tunnel connection ({@link PeerLinks#connectionTo}); without one, the flow's policy
 * ({@link PeerFallback}) bypasses it straight to its destination or resets it.
 */
final class Ingress {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class); // the role's log, as before

    /** Connect timeout of a bypassed flow's direct connection to its destination. */
    static final int BYPASS_CONNECT_TIMEOUT_MILLIS = 2000;

    private final String ownSite;
    private final int window;
    private final Transport transport;
    private final PeerLinks links;
    private final Splices splices;
    private final DataPlaneStats stats;
    private final MeterRegistry meters;
    private final Map<String, Counter> peerUnavailable = new ConcurrentHashMap<>();
    private final Counter bypassBytesUp;
    private final Counter bypassBytesDown;
    private volatile PeerFallback fallback = PeerFallback.NONE;

    /**
     * @param ownSite this worker's site (flows are classified with it)
     * @param window per-stream window in bytes of DATA payload
     */
    Ingress(String ownSite, int window, Transport transport, PeerLinks links, Splices splices, DataPlaneStats stats,
            MeterRegistry meters) {
        this.ownSite = ownSite;
        this.window = window;
        this.transport = transport;
        this.links = links;
        this.splices = splices;
        this.stats = stats;
        this.meters = meters;
        this.bypassBytesUp = Counter.builder("slipstream.wanopt.bypass.bytes").baseUnit("bytes").tag("direction", "up")
                .description("Bytes of bypassed flows (no peer reachable), client to destination").register(meters);
        this.bypassBytesDown = Counter.builder("slipstream.wanopt.bypass.bytes").baseUnit("bytes")
                .tag("direction", "down")
                .description("Bytes of bypassed flows (no peer reachable), destination to client").register(meters);
        for (PeerFallback.Action action : PeerFallback.Action.values()) {
            countPeerUnavailable(action.tag(), 0);
        }
        countPeerUnavailable("bypass_failed", 0);
    }

    /** Replaces the flow policies that decide what a new flow does when no peer is reachable. */
    void fallback(PeerFallback fallback) {
        this.fallback = fallback;
    }

    /**
     * Opens a stream to a peer at {@code site} for {@code host:port} and splices {@code client} to it; without a
     * ready tunnel to that site, the flow's policy decides ({@link #peerUnavailable}).
     *
     * @param named the policy the PROXY header names (a cache+wanopt miss), or empty: classify the flow
     */
    void open(Channel client, InetSocketAddress source, String site, String host, int port, String named) {
        TunnelConnection connection = links.connectionTo(site, client.eventLoop());
        if (connection == null) {
            peerUnavailable(client, source, site, host, port, named);
            return;
        }
        String policy = fallback.policyOf(flowKey(source, host, port), named);
        connection.channel().eventLoop().execute(() -> {
            if (!connection.isReady()) {
                client.eventLoop().execute(() -> peerUnavailable(client, source, site, host, port, named));
                return;
            }
            StreamSplice splice = splices.newSplice(connection, window, policy,
                    "ingress " + client.remoteAddress() + " -> " + host + ":" + port);
            int id = connection.openStream(new Frames.Open(window, host, port, policy), splice);
            splice.streamId(id);
            connection.flush();
            splice.attach(client);
        });
    }

    /**
     * No ready tunnel to {@code site}: bypass (connect straight to {@code host:port} and relay unoptimised) or reset
     * the client at once, as the flow's policy says. Call on the client's event loop.
     */
    private void peerUnavailable(Channel client, InetSocketAddress source, String site, String host, int port,
            String named) {
        PeerFallback.Action action = fallback.decide(flowKey(source, host, port), named);
        countPeerUnavailable(action.tag(), 1);
        if (action == PeerFallback.Action.FAIL_FAST) {
            log.warn("no tunnel to site {} for {}:{}: resetting the client (policy: fail fast)", site, host, port);
            StreamSplice.abort(client);
            return;
        }
        log.warn("no tunnel to site {} for {}:{}: bypassing, straight to the destination (policy: bypass)", site, host,
                port);
        new Bootstrap().group(client.eventLoop()).channel(transport.socketChannel)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, BYPASS_CONNECT_TIMEOUT_MILLIS)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(host, port)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        log.warn("bypass to {}:{} failed: {}: resetting the client", host, port, f.cause().getMessage());
                        countPeerUnavailable("bypass_failed", 1);
                        StreamSplice.abort(client);
                        return;
                    }
                    Channel destination = ((ChannelFuture) f).channel();
                    if (!client.isActive()) {
                        destination.close();
                        return;
                    }
                    Bypass.splice(client, destination, stats, bypassBytesUp, bypassBytesDown);
                });
    }

    /** The flow as policies see it, or {@code null} when the destination is not an address literal. */
    private FlowKey flowKey(InetSocketAddress source, String host, int port) {
        InetAddress dst = NetUtil.createInetAddressFromIpAddressString(host);
        if (dst == null || source == null || source.getAddress() == null) {
            return null;
        }
        return FlowKey.tcp(source.getAddress(), source.getPort(), dst, port, ownSite);
    }

    private void countPeerUnavailable(String action, int n) {
        peerUnavailable.computeIfAbsent(action, a -> Counter.builder("slipstream.wanopt.peer.unavailable")
                .tag("action", a).description("New flows that found no reachable peer, by what was done with them")
                .register(meters)).increment(n);
    }
}
