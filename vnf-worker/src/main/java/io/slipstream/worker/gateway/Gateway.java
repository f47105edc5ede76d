package io.slipstream.worker.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.net.Transport;
import java.io.Closeable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway role: listeners whose connections are classified by the pushed policies and spliced to the
 * worker the steering table names (see {@link Dispatcher}), pools of pre-opened back-end connections, and
 * the current {@link SteeringSnapshot}. A new configuration swaps the snapshot atomically; established
 * splices do not look at it again, so a table change never cuts them, and without a controller the last
 * snapshot keeps serving.
 */
public final class Gateway implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    /** Idle pre-opened connections per back-end member by default. */
    public static final int DEFAULT_POOL_PER_MEMBER = 4;
    /** Pre-opened connections are replaced after this long idle (below the wanopt steered port's header timeout). */
    public static final long DEFAULT_POOL_MAX_IDLE_MILLIS = 20_000;
    /** How long a client may take to send its first HTTP request head on an L7 dispatch, by default. */
    public static final long DEFAULT_HEAD_TIMEOUT_MILLIS = 10_000;

    /**
     * @param site the site the gateway's clients enter at (the flows' ingress site)
     * @param threads event loops
     * @param poolPerMember idle pre-opened connections per back-end member (0: none)
     * @param poolMaxIdleMillis an idle pre-opened connection is replaced after this long
     * @param maxHeadBytes the largest HTTP request head accepted on L7 dispatch
     * @param headTimeoutMillis how long a client may take to send that head (then 408 and close)
     */
    public record Settings(String workerId, String site, List<GatewayListener> listeners, int threads,
                           int poolPerMember, long poolMaxIdleMillis, int maxHeadBytes, long headTimeoutMillis) {
        public Settings {
            listeners = List.copyOf(listeners);
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("threads: " + threads + " (expected: 1..64)");
            }
            if (poolPerMember < 0 || poolPerMember > 256) {
                throw new IllegalArgumentException("pool per member: " + poolPerMember + " (expected: 0..256)");
            }
            if (maxHeadBytes < 256 || maxHeadBytes > 1 << 20) {
                throw new IllegalArgumentException("max head bytes: " + maxHeadBytes + " (expected: 256..1048576)");
            }
            if (headTimeoutMillis < 1 || headTimeoutMillis > 3_600_000) {
                throw new IllegalArgumentException("head timeout: " + headTimeoutMillis + " ms (expected: 1..3600000)");
            }
        }

        public Settings(String workerId, String site, List<GatewayListener> listeners, int threads,
                        int poolPerMember, long poolMaxIdleMillis, int maxHeadBytes) {
            this(workerId, site, listeners, threads, poolPerMember, poolMaxIdleMillis, maxHeadBytes,
                    DEFAULT_HEAD_TIMEOUT_MILLIS);
        }

        public Settings(String workerId, String site, List<GatewayListener> listeners, int threads) {
            this(workerId, site, listeners, threads, DEFAULT_POOL_PER_MEMBER, DEFAULT_POOL_MAX_IDLE_MILLIS,
                    HttpHead.DEFAULT_MAX_BYTES);
        }
    }

    final Settings settings;
    final Transport transport = Transport.best();
    final MeterRegistry meters;
    final DataPlaneStats stats;
    private final AtomicReference<SteeringSnapshot> snapshot = new AtomicReference<>(SteeringSnapshot.EMPTY);
    private final Map<String, Counter> connections = new ConcurrentHashMap<>();
    private final Map<String, Timer> latencies = new ConcurrentHashMap<>();
    final Counter bytesUpstream;
    final Counter bytesDownstream;
    private final Counter rejectedConfigs;
    private final List<Channel> servers = new ArrayList<>();
    EventLoopGroup group;
    BackendPools pools;

    public Gateway(Settings settings, MeterRegistry meters, DataPlaneStats stats) {
        this.settings = settings;
        this.meters = meters;
        this.stats = stats;
        this.bytesUpstream = Counter.builder("slipstream.gateway.bytes").tag("direction", "upstream")
                .description("Bytes from clients to back ends").baseUnit("bytes").register(meters);
        this.bytesDownstream = Counter.builder("slipstream.gateway.bytes").tag("direction", "downstream")
                .description("Bytes from back ends to clients").baseUnit("bytes").register(meters);
        this.rejectedConfigs = Counter.builder("slipstream.gateway.config.rejected")
                .description("Configurations whose policies or steering table the gateway could not use")
                .register(meters);
    }

    public Gateway start() throws InterruptedException {
        boolean transparent = settings.listeners().stream().anyMatch(GatewayListener::isTransparent);
        if (transparent && transport != Transport.EPOLL) {
            throw new IllegalStateException("transparent gateway listeners need the epoll transport (Linux, "
                    + "IP_TRANSPARENT), which is unavailable: " + Transport.epollUnavailability());
        }
        group = transport.newGroup(settings.threads());
        pools = new BackendPools(group, transport, settings.poolPerMember(), settings.poolMaxIdleMillis(), meters,
                System::nanoTime);
        for (GatewayListener listener : settings.listeners()) {
            servers.add(bind(listener));
        }
        log.info("gateway {} at site {}: listeners {} ({})", settings.workerId(), settings.site(), listenAddresses(),
                transport.describe());
        return this;
    }

    private Channel bind(GatewayListener listener) throws InterruptedException {
        InetSocketAddress vip = null;
        if (!listener.isTransparent()) {
            try {
                vip = new InetSocketAddress(InetAddress.getByName(listener.destination().host()),
                        listener.destination().port());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("listen " + listener + ": destination host does not resolve: "
                        + e.getMessage(), e);
            }
        }
        InetSocketAddress fixed = vip;
        ServerBootstrap bootstrap = new ServerBootstrap().group(group).channel(transport.serverChannel)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        InetSocketAddress destination = fixed != null ? fixed : ch.localAddress();
                        if (fixed == null && destination.equals(ch.parent().localAddress())) {
                            log.warn("transparent listener {}: {} connected to the listener itself, not intercepted: "
                                    + "resetting it", listener, ch.remoteAddress());
                            Relay.abort(ch);
                            return;
                        }
                        ch.pipeline().addLast("dispatch", new Dispatcher(Gateway.this, destination));
                    }
                });
        if (listener.isTransparent()) {
            bootstrap.option(EpollChannelOption.IP_TRANSPARENT, true);
        }
        try {
            return bootstrap.bind(listener.bindHost(), listener.port()).sync().channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("gateway listener " + listener + ": bind failed"
                    + (listener.isTransparent() ? " (IP_TRANSPARENT needs CAP_NET_ADMIN)" : "") + ": " + e.getMessage(), e);
        }
    }

    /**
     * Routes new connections by {@code config} from now on. A configuration the gateway cannot use is
     * counted and logged, and the previous snapshot stays.
     *
     * @return whether it was applied
     */
    public boolean apply(WorkerConfig config) {
        SteeringSnapshot next;
        try {
            next = SteeringSnapshot.of(config);
        } catch (IllegalArgumentException e) {
            rejectedConfigs.increment();
            log.error("gateway {}: configuration generation {} not usable, keeping the previous table: {}",
                    settings.workerId(), config.getGeneration(), e.getMessage());
            return false;
        }
        snapshot.set(next);
        List<HostPort> endpoints = new ArrayList<>();
        for (Peer p : next.members()) {
            try {
                endpoints.add(HostPort.parse(p.getDataEndpoint()));
            } catch (IllegalArgumentException e) {
                log.warn("gateway {}: member {} has no usable endpoint '{}'", settings.workerId(), p.getWorkerId(),
                        p.getDataEndpoint());
            }
        }
        if (pools != null) {
            pools.retain(endpoints);
        }
        log.info("gateway {}: table of generation {} applied: {} policies, {} steering entries, {} members",
                settings.workerId(), config.getGeneration(), next.policies(), next.entries(), endpoints.size());
        return true;
    }

    /** The snapshot new connections are routed by. */
    public SteeringSnapshot snapshot() {
        return snapshot.get();
    }

    /** Bound address of the {@code i}-th listener. */
    public InetSocketAddress listenAddress(int i) {
        return (InetSocketAddress) servers.get(i).localAddress();
    }

    public List<InetSocketAddress> listenAddresses() {
        List<InetSocketAddress> list = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            list.add(listenAddress(i));
        }
        return list;
    }

    /** Idle pre-opened connections to {@code endpoint}. */
    public int idleConnections(HostPort endpoint) {
        return pools.idle(endpoint);
    }

    private final java.util.concurrent.atomic.AtomicLong nextWarnNanos =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    /**
     * Whether a per-connection warning may be logged now: at most one a second (refusals and failed connects
     * come in bursts when a back end is down; the counters have every one).
     */
    boolean mayWarn() {
        long now = System.nanoTime();
        long next = nextWarnNanos.get();
        return now - next >= 0 && nextWarnNanos.compareAndSet(next, now + TimeUnit.SECONDS.toNanos(1));
    }

    /** Counts one connection's outcome. */
    void count(SteeringSnapshot.Decision decision, String outcome) {
        String policy = decision == null ? "none" : decision.policy();
        String chain = decision == null ? "bypass" : decision.chain();
        connections.computeIfAbsent(policy + '\n' + chain + '\n' + outcome, k -> Counter
                .builder("slipstream.gateway.connections").tag("policy", policy).tag("chain", chain)
                .tag("outcome", outcome).description("Client connections by policy, chain and outcome")
                .register(meters)).increment();
    }

    /** Records the time from accept to the splice starting. */
    void dispatched(SteeringSnapshot.Decision decision, long nanos) {
        latencies.computeIfAbsent(decision.chain(), c -> Timer.builder("slipstream.gateway.dispatch.latency")
                .tag("chain", c).description("Accept to splice start: classification, back-end connection, header")
                .publishPercentiles(0.5, 0.99).register(meters)).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        for (Channel server : servers) {
            server.close();
        }
        if (pools != null) {
            pools.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
