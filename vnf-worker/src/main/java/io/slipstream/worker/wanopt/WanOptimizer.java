package io.slipstream.worker.wanopt;

import io.slipstream.worker.net.Transport;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.contract.steering.PeerPairing;
import io.slipstream.contract.steering.SiteMap;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkStoreStats;
import io.slipstream.worker.dedup.GearChunker;
import io.slipstream.worker.dedup.StoreIdentity;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.StreamListener;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import io.slipstream.worker.wanopt.tunnel.TunnelInitializer;
import io.slipstream.worker.security.WorkerTls;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wanopt role of a worker: the tunnel endpoint peers connect to (its data endpoint), the
 * persistent connections to its peers, and the listeners whose connections it carries to a peer site:
 * explicit mode (port forwards, a fixed destination) and transparent mode (TPROXY, the original
 * destination of each connection). Runs on the epoll transport where available (transparent mode
 * requires it), else on NIO. Composition of the tunnel parts; the per-stream logic is
 * in {@link StreamSplice}.
 */
public final class WanOptimizer implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class);

    /** Default chunk store per peer and direction. */
    public static final long DEFAULT_STORE_BYTES = 256L << 20;

    /** Settings of the role. */
    public static final class Settings {
        final String workerId;
        final String site;
        final String bindHost;
        final int tunnelPort;
        final List<PortForward> forwards;
        final List<TransparentListener> transparent;
        final int window;
        final int threads;
        final long storeBytes;
        final boolean dedup;
        final WorkerTls tls;
        int steeredPort = -1;
        java.nio.file.Path storeDir;
        long needTimeoutMillis = StreamSplice.DEFAULT_NEED_TIMEOUT_MILLIS;

        /**
         * @param window per-stream window in bytes of DATA payload (each direction)
         * @param threads event loops, and tunnel connections per peer
         */
        public Settings(String workerId, String site, String bindHost, int tunnelPort, List<PortForward> forwards,
                        int window, int threads) {
            this(workerId, site, bindHost, tunnelPort, forwards, List.of(), window, threads, DEFAULT_STORE_BYTES, true,
                    null);
        }

        /**
         * @param storeBytes chunk store per peer and direction, in bytes
         * @param dedup deduplicate (false: compression only)
         * @param transparent transparent-mode listeners (need the epoll transport)
         * @param tls mutual TLS on the tunnel, or {@code null} for plaintext (development only)
         */
        public Settings(String workerId, String site, String bindHost, int tunnelPort, List<PortForward> forwards,
                        List<TransparentListener> transparent, int window, int threads, long storeBytes,
                        boolean dedup, WorkerTls tls) {
            this.tls = tls;
            if (storeBytes < 1 << 20) {
                throw new IllegalArgumentException("chunk store: " + storeBytes + " bytes (expected: >= 1 MiB)");
            }
            this.storeBytes = storeBytes;
            this.dedup = dedup;
            if (window < 16 * 1024 || window > 64 << 20) {
                throw new IllegalArgumentException("window: " + window + " bytes (expected: 16 KiB..64 MiB)");
            }
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("threads: " + threads + " (expected: 1..64)");
            }
            this.workerId = workerId;
            this.site = site;
            this.bindHost = bindHost;
            this.tunnelPort = tunnelPort;
            this.forwards = List.copyOf(forwards);
            this.transparent = List.copyOf(transparent);
            this.window = window;
            this.threads = threads;
        }

        /**
         * How long a stream waits for the chunk it asked for with NEED before it is reset (default 60 s: generous, as the answer queues behind what the tunnel has buffered): a
         * peer that references a chunk it never sends fails the flow cleanly instead of holding it open.
         */
        public Settings needTimeout(java.time.Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("NEED timeout: " + timeout + " (expected: > 0)");
            }
            this.needTimeoutMillis = timeout.toMillis();
            return this;
        }

        /**
         * Keeps the chunk stores on disk in {@code dir} (one directory per peer pair, kept across restarts, with
         * this worker's store identity in {@code dir/identity}); {@code null} (the default) keeps them on the heap,
         * lost with the process. {@code storeBytes} then bounds each store on disk.
         */
        public Settings chunkStoreDir(java.nio.file.Path dir) {
            this.storeDir = dir;
            return this;
        }

        /**
         * Adds the steered listener: gateways hand it connections with a PROXY protocol v2 header carrying
         * the original addresses ({@code port} 0 for any free port, -1 for none).
         */
        public Settings steeredPort(int port) {
            if (port < -1 || port > 65535) {
                throw new IllegalArgumentException("steered port: " + port + " (expected: 0..65535, or -1 for none)");
            }
            this.steeredPort = port;
            return this;
        }
    }

    private final Settings settings;
    private final MeterRegistry meters;
    private final DataPlaneStats stats;
    private final Supplier<ResilientCompressor> compressor;
    private final ResilientCompressor decompressor;
    private final Frames.Hello hello;
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();
    private final Map<String, WanoptCounters> counters = new ConcurrentHashMap<>();
    private final Map<String, PeerDictionary> dictionaries = new ConcurrentHashMap<>();
    private final Map<String, StoreMeters> storeMeters = new ConcurrentHashMap<>();
    /**
     * 32 KiB average chunks (8..256 KiB): a changed chunk travels as a delta against its old version,
     * so an edit costs little more than itself whatever the chunk size, and a reference (21 bytes)
     * costs 0.06% of its chunk. Measured against 4, 8, 16 and 64 KiB in docs/dedup.md.
     */
    static final GearChunker CHUNKER = GearChunker.builder().minSize(8192).averageSize(32768).maxSize(256 * 1024)
            .build();
    private final List<Channel> listeners = new ArrayList<>();
    private final List<Channel> transparentListeners = new ArrayList<>();
    private final Transport transport = Transport.best();
    private EventLoopGroup group;
    private Channel tunnelServer;
    private Channel steeredServer;
    private volatile SiteMap siteMap = new SiteMap(List.of());
    private volatile List<Peer> peerList = List.of();
    private volatile PeerFallback fallback = PeerFallback.NONE;
    private final Map<String, Counter> steered = new ConcurrentHashMap<>();
    private final Map<String, Counter> peerUnavailable = new ConcurrentHashMap<>();
    private final Counter bypassBytesUp;
    private final Counter bypassBytesDown;

    /** Connect timeout of a bypassed flow's direct connection to its destination. */
    static final int BYPASS_CONNECT_TIMEOUT_MILLIS = 2000;

    /**
     * @param compressor the switch for the applied configuration, read per stream ({@code null}: send raw)
     * @param decompressor decodes whatever codec a peer used
     */
    public WanOptimizer(Settings settings, MeterRegistry meters, DataPlaneStats stats,
                        Supplier<ResilientCompressor> compressor, ResilientCompressor decompressor) {
        this.settings = settings;
        this.meters = meters;
        this.stats = stats;
        this.compressor = compressor;
        this.decompressor = decompressor;
        StoreIdentity identity = settings.storeDir == null ? StoreIdentity.random() : storeIdentity(settings.storeDir);
        this.hello = new Frames.Hello(Frames.VERSION, settings.workerId, settings.site, identity.epoch(),
                identity.key());
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

    /**
     * This worker's store identity from {@code dir/identity}: the one its stores were kept under, or a new one
     * (then the stores of every peer pair are dropped: they were fingerprinted with another key). A directory
     * that cannot be used gives an identity for this run only (the stores then report themselves unavailable).
     */
    private StoreIdentity storeIdentity(java.nio.file.Path dir) {
        try {
            if (!java.nio.file.Files.exists(dir)) {
                // Owner only: the stores hold the traffic's bytes, the identity its fingerprint key.
                java.nio.file.Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            }
            StoreIdentity identity = StoreIdentity.loadOrCreate(dir.resolve("identity"));
            if (identity.created()) {
                java.nio.file.Path peers = dir.resolve("peers");
                if (java.nio.file.Files.exists(peers)) {
                    log.warn("wanopt {}: chunk store identity in {} is new: dropping the stores kept under the old one",
                            settings.workerId, dir);
                    deleteTree(peers);
                }
            }
            return identity;
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("wanopt {}: chunk store directory {} cannot be used ({}: {}): chunks go as literals, nothing is "
                    + "kept across restarts (slipstream.wanopt.store.available = 0)", settings.workerId, dir,
                    e.getClass().getSimpleName(), e.getMessage());
            return StoreIdentity.random();
        }
    }

    private static void deleteTree(java.nio.file.Path root) throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(root)) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    /** The directory of a peer pair's stores: the peer's worker id, escaped to a safe file name. */
    static String pairDirName(String peerWorkerId) {
        StringBuilder b = new StringBuilder();
        for (byte c : peerWorkerId.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    /** The peer worker id of a pair directory name, or null when the name is not one {@link #pairDirName} makes. */
    static String peerOfDirName(String name) {
        try {
            String id = java.net.URLDecoder.decode(name.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
            return !id.isEmpty() && pairDirName(id).equals(name) ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public WanOptimizer start() throws InterruptedException {
        if (settings.storeDir != null && settings.dedup) {
            // Reopen the stores kept from earlier runs now, not on an event loop when the peer first says HELLO.
            java.nio.file.Path peers = settings.storeDir.resolve("peers");
            if (java.nio.file.Files.isDirectory(peers)) {
                try (java.util.stream.Stream<java.nio.file.Path> dirs = java.nio.file.Files.list(peers)) {
                    dirs.map(d -> peerOfDirName(d.getFileName().toString())).filter(java.util.Objects::nonNull)
                            .forEach(this::dictionaryFor);
                } catch (java.io.IOException e) {
                    log.warn("wanopt {}: cannot list the chunk stores in {}: {}", settings.workerId, peers,
                            e.getMessage());
                }
            }
        }
        if (settings.tls == null) {
            log.warn("wanopt {}: the tunnel is PLAINTEXT (--insecure-plaintext): for development only",
                    settings.workerId);
        }
        if (!settings.transparent.isEmpty() && transport != Transport.EPOLL) {
            throw new IllegalStateException("transparent mode " + settings.transparent + " needs the epoll transport "
                    + "(Linux, IP_TRANSPARENT), which is unavailable: " + Transport.epollUnavailability());
        }
        group = transport.newGroup(settings.threads);
        tunnelServer = new ServerBootstrap().group(group).channel(transport.serverChannel)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new TunnelInitializer(() -> new TunnelConnection(false, hello, this::accept, null),
                        this::onConnection, settings.tls, false))
                .bind(settings.bindHost, settings.tunnelPort).sync().channel();
        for (PortForward forward : settings.forwards) {
            listeners.add(ingressListener(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast("ingress", new IngressHandler(forward.site(), forward.host(), forward.port()))
                            .addLast("holding", new StreamSplice.Holding());
                }
            }).bind(settings.bindHost, forward.listenPort()).sync().channel());
        }
        for (TransparentListener transparent : settings.transparent) {
            transparentListeners.add(bindTransparent(transparent));
        }
        if (settings.steeredPort >= 0) {
            steeredServer = ingressListener(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast("proxy-v2", new HAProxyMessageDecoder())
                            .addLast("steered", new SteeredHandler())
                            .addLast("holding", new StreamSplice.Holding());
                }
            }).bind(settings.bindHost, settings.steeredPort).sync().channel();
            log.info("wanopt {}: steered listener (PROXY protocol v2) on {}", settings.workerId, steeredAddress());
        }
        log.info("wanopt {}: tunnel endpoint on {} ({}), {} port forwards, transparent listeners {}", settings.workerId,
                tunnelAddress(), transport, settings.forwards.size(), settings.transparent);
        return this;
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
    private Channel bindTransparent(TransparentListener transparent) throws InterruptedException {
        ServerBootstrap bootstrap = ingressListener(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                InetSocketAddress destination = ch.localAddress();
                if (destination.equals(ch.parent().localAddress())) {
                    log.warn("transparent {}: {} connected to the listener itself, not intercepted: resetting it",
                            transparent, ch.remoteAddress());
                    StreamSplice.abort(ch);
                    return;
                }
                ch.pipeline().addLast("ingress", new IngressHandler(transparent.site(),
                        destination.getAddress().getHostAddress(), destination.getPort()))
                        .addLast("holding", new StreamSplice.Holding());
            }
        }).option(EpollChannelOption.IP_TRANSPARENT, true);
        try {
            return bootstrap.bind(transparent.bindHost(), transparent.port()).sync().channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("transparent listener " + transparent + ": bind failed (IP_TRANSPARENT "
                    + "needs CAP_NET_ADMIN): " + e.getMessage(), e);
        }
    }

    /** The tunnel endpoint's bound address (the worker's data endpoint). */
    public InetSocketAddress tunnelAddress() {
        return (InetSocketAddress) tunnelServer.localAddress();
    }

    /** The steered listener's bound address, or {@code null} without one. */
    public InetSocketAddress steeredAddress() {
        return steeredServer == null ? null : (InetSocketAddress) steeredServer.localAddress();
    }

    /**
     * Replaces the site map (from the controller's configuration) that steered connections' destinations
     * are looked up in. A map that does not parse is logged and the previous one kept.
     */
    public void sites(List<Site> sites) {
        try {
            siteMap = new SiteMap(sites);
        } catch (IllegalArgumentException e) {
            log.error("wanopt {}: sites not usable, keeping the previous site map: {}", settings.workerId, e.getMessage());
        }
    }

    /**
     * Replaces the flow policies (from the controller's configuration) that decide what a new flow does when no
     * peer is reachable ({@link PeerFallback}). Policies that do not compile are logged and the previous ones kept.
     */
    public void policies(List<io.slipstream.proto.v1.FlowPolicy> policies) {
        try {
            fallback = PeerFallback.of(policies);
        } catch (IllegalArgumentException e) {
            log.error("wanopt {}: policies not usable, keeping the previous ones: {}", settings.workerId, e.getMessage());
        }
    }

    /** The bound port of the {@code i}-th port forward. */
    public int forwardPort(int i) {
        return ((InetSocketAddress) listeners.get(i).localAddress()).getPort();
    }

    /** The bound port of the {@code i}-th transparent listener. */
    public int transparentPort(int i) {
        return ((InetSocketAddress) transparentListeners.get(i).localAddress()).getPort();
    }

    /** Replaces the set of peers (from the controller's configuration); keeps links that stay. */
    public synchronized void peers(List<Peer> peers) {
        peerList = List.copyOf(peers);
        Map<String, Peer> wanted = new HashMap<>();
        for (Peer p : peers) {
            wanted.put(p.getWorkerId(), p);
        }
        for (String id : new ArrayList<>(links.keySet())) {
            Peer p = wanted.get(id);
            if (p == null || !HostPort.parse(p.getDataEndpoint()).equals(links.get(id).endpoint())) {
                links.remove(id).close();
                if (p == null) {
                    PeerDictionary gone = dictionaries.remove(id); // no use now: free the memory (the disk keeps it)
                    if (gone != null) {
                        gone.close();
                    }
                }
            }
        }
        for (Peer p : peers) {
            links.computeIfAbsent(p.getWorkerId(), id -> new PeerLink(id, p.getSite(),
                    HostPort.parse(p.getDataEndpoint()), group, transport,
                    () -> new TunnelConnection(true, hello, this::refuseOpen, p.getSite() + ":" + p.getWorkerId()),
                    this::onConnection, settings.tls).start());
        }
    }

    /** Ready tunnel connections to {@code peerId}. */
    public int readyConnections(String peerId) {
        PeerLink link = links.get(peerId);
        return link == null ? 0 : link.readyConnections();
    }

    private StreamListener refuseOpen(TunnelConnection c, int id, Frames.Open open) {
        throw new IllegalStateException("not reached: the connection refuses OPEN from the accepting side");
    }

    /** The chunk dictionary shared with {@code peer}. */
    PeerDictionary dictionaryFor(String peer) {
        PeerDictionary d = dictionaries.get(peer);
        if (d != null) {
            return d;
        }
        d = dictionaries.computeIfAbsent(peer, p -> settings.storeDir == null
                ? new PeerDictionary(hello.fingerprintKey, settings.storeBytes)
                : PeerDictionary.onDisk(hello.fingerprintKey, settings.storeBytes,
                        settings.storeDir.resolve("peers").resolve(pairDirName(p))));
        storeMeters.computeIfAbsent(peer, p -> new StoreMeters(meters, p, () -> dictionaries.get(p)));
        return d;
    }

    /** The figures of every chunk store, for the load report. */
    public List<io.slipstream.proto.v1.ChunkStoreState> chunkStoreStates() {
        List<io.slipstream.proto.v1.ChunkStoreState> states = new ArrayList<>();
        for (Map.Entry<String, PeerDictionary> e : new java.util.TreeMap<>(dictionaries).entrySet()) {
            for (String store : new String[] {"sent", "received"}) {
                io.slipstream.worker.dedup.ChunkStore s = "sent".equals(store) ? e.getValue().sent : e.getValue().received;
                ChunkStoreStats st = s.stats();
                states.add(io.slipstream.proto.v1.ChunkStoreState.newBuilder().setPeerWorkerId(e.getKey())
                        .setStore(store).setAvailable(!(s instanceof io.slipstream.worker.dedup.UnavailableChunkStore))
                        .setBytesHeld(st.bytesHeld()).setMaxBytes(st.maxBytes()).setBytesOnDisk(st.bytesOnDisk())
                        .setChunks(st.chunks()).setEvictions(st.evictions()).setCorruptDropped(st.corruptDropped())
                        .setWriteFailures(st.writeFailures()).build());
            }
        }
        return states;
    }

    /** The counters of the chunk stores of a peer pair ({@code sent} or {@code received}), or null without one. */
    ChunkStoreStats storeStats(String peer, String store) {
        PeerDictionary d = dictionaries.get(peer);
        return d == null ? null : ("sent".equals(store) ? d.sent : d.received).stats();
    }

    /** Every connection's HELLO tells the peer's dictionary the peer's key and store epoch. */
    private void onConnection(TunnelConnection connection) {
        connection.ready().thenAccept(h -> {
            if (settings.dedup) {
                dictionaryFor(h.workerId).peerHello(h.storeEpoch, h.fingerprintKey);
            }
        });
    }

    private WanoptCounters countersFor(String peer, String policy) {
        return counters.computeIfAbsent(peer + "\u0000" + policy, k -> new WanoptCounters(meters, peer, policy, stats));
    }

    /** @param policy the flow's policy (counters are kept per peer and policy); empty when none matched */
    private StreamSplice newSplice(TunnelConnection connection, int credit, String policy, String description) {
        String peer = connection.peer().workerId;
        PeerDictionary dictionary = settings.dedup ? dictionaryFor(peer) : null;
        WanoptCounters peerCounters = countersFor(peer, policy);
        return new StreamSplice(connection, credit,
                new StreamEncoder(compressor.get(), dictionary, CHUNKER, peerCounters),
                new StreamDecoder(decompressor, dictionary), stats, peerCounters, description,
                settings.needTimeoutMillis);
    }

    /** Egress: the peer opened a stream; connect to its destination on the connection's event loop. */
    private StreamListener accept(TunnelConnection connection, int streamId, Frames.Open open) {
        String destination = open.host + ":" + open.port;
        StreamSplice splice = newSplice(connection, open.initialWindow, open.policy, "egress to " + destination);
        splice.streamId(streamId);
        // Connect in a later task: the stream must be registered before a failure can reset it.
        connection.channel().eventLoop().execute(() ->
            new Bootstrap().group(connection.channel().eventLoop()).channel(transport.socketChannel)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                    .handler(new StreamSplice.Holding())
                    .connect(open.host, open.port)
                    .addListener(f -> {
                        if (f.isSuccess()) {
                            splice.attach(((io.netty.channel.ChannelFuture) f).channel());
                        } else {
                            splice.connectFailed("connect to " + destination + " failed: " + f.cause().getMessage());
                        }
                    }));
        return splice;
    }

    /**
     * Ingress: a client connected to a port forward or a transparent listener; open a stream to a peer
     * at the listener's site, for the forward's destination or the connection's original one.
     */
    private final class IngressHandler extends ChannelInboundHandlerAdapter {
        private final String site;
        private final String host;
        private final int port;

        IngressHandler(String site, String host, int port) {
            this.site = site;
            this.host = host;
            this.port = port;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            ctx.pipeline().remove(this);
            ingress(client, (InetSocketAddress) client.remoteAddress(), site, host, port);
        }
    }

    /**
     * Opens a stream to a peer at {@code site} for {@code host:port} and splices {@code client} to it; without a
     * ready tunnel to that site, the flow's policy decides ({@link #peerUnavailable}).
     */
    private void ingress(Channel client, InetSocketAddress source, String site, String host, int port) {
        TunnelConnection connection = pickConnection(client, site);
        if (connection == null) {
            peerUnavailable(client, source, site, host, port);
            return;
        }
        String policy = fallback.policyOf(flowKey(source, host, port));
        connection.channel().eventLoop().execute(() -> {
            if (!connection.isReady()) {
                client.eventLoop().execute(() -> peerUnavailable(client, source, site, host, port));
                return;
            }
            StreamSplice splice = newSplice(connection, settings.window, policy,
                    "ingress " + client.remoteAddress() + " -> " + host + ":" + port);
            int id = connection.openStream(new Frames.Open(settings.window, host, port, policy), splice);
            splice.streamId(id);
            connection.flush();
            splice.attach(client);
        });
    }

    /**
     * No ready tunnel to {@code site}: bypass (connect straight to {@code host:port} and relay unoptimised) or reset
     * the client at once, as the flow's policy says. Call on the client's event loop.
     */
    private void peerUnavailable(Channel client, InetSocketAddress source, String site, String host, int port) {
        PeerFallback.Action action = fallback.decide(flowKey(source, host, port));
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
                    Channel destination = ((io.netty.channel.ChannelFuture) f).channel();
                    if (!client.isActive()) {
                        destination.close();
                        return;
                    }
                    Bypass.splice(client, destination, stats, bypassBytesUp, bypassBytesDown);
                });
    }

    /** The flow as policies see it, or {@code null} when the destination is not an address literal. */
    private FlowKey flowKey(InetSocketAddress source, String host, int port) {
        java.net.InetAddress dst = io.netty.util.NetUtil.createInetAddressFromIpAddressString(host);
        if (dst == null || source == null || source.getAddress() == null) {
            return null;
        }
        return FlowKey.tcp(source.getAddress(), source.getPort(), dst, port, settings.site);
    }

    private void countPeerUnavailable(String action, int n) {
        peerUnavailable.computeIfAbsent(action, a -> Counter.builder("slipstream.wanopt.peer.unavailable")
                .tag("action", a).description("New flows that found no reachable peer, by what was done with them")
                .register(meters)).increment(n);
    }

    /**
     * A ready connection to the preferred peer at {@code site} ({@link PeerPairing#ranked}: one far worker per
     * near worker, so their chunk stores stay warm), else to the next in that ranking.
     */
    private TunnelConnection pickConnection(Channel client, String site) {
        for (Peer peer : PeerPairing.ranked(settings.workerId, site, peerList)) {
            PeerLink link = links.get(peer.getWorkerId());
            TunnelConnection c = link == null ? null : link.connectionFor(client.eventLoop());
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /** Header wait on the steered listener: longer than a gateway keeps a pre-opened connection idle. */
    static final long STEERED_HEADER_TIMEOUT_MILLIS = 30_000;

    private void countSteered(String outcome) {
        steered.computeIfAbsent(outcome, o -> Counter.builder("slipstream.wanopt.steered.connections")
                .tag("outcome", o).description("Connections handed over by gateways on the steered listener")
                .register(meters)).increment();
    }

    /**
     * The steered listener: the PROXY v2 header names the original destination; its site (from the pushed
     * site map) is the peer site the connection goes to. No site, or this worker's own site: reset.
     */
    private final class SteeredHandler extends ChannelInboundHandlerAdapter {
        private io.netty.util.concurrent.ScheduledFuture<?> timeout;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            timeout = ctx.executor().schedule(() -> {
                log.warn("steered {}: no PROXY v2 header within {} ms: resetting", ctx.channel().remoteAddress(),
                        STEERED_HEADER_TIMEOUT_MILLIS);
                countSteered("header_timeout");
                StreamSplice.abort(ctx.channel());
            }, STEERED_HEADER_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof HAProxyMessage header)) {
                ctx.fireChannelRead(msg); // after the header: for the holding handler
                return;
            }
            timeout.cancel(false);
            Channel client = ctx.channel();
            try {
                if (header.command() == HAProxyCommand.LOCAL) {
                    countSteered("local");
                    client.close(); // a health check, no connection to carry
                    return;
                }
                if (header.protocolVersion() != HAProxyProtocolVersion.V2
                        || (header.proxiedProtocol() != HAProxyProxiedProtocol.TCP4
                        && header.proxiedProtocol() != HAProxyProxiedProtocol.TCP6)) {
                    log.warn("steered {}: header {} {} (expected: PROXY protocol v2 for TCP over IPv4 or IPv6): "
                            + "resetting", client.remoteAddress(), header.protocolVersion(), header.proxiedProtocol());
                    countSteered("bad_header");
                    StreamSplice.abort(client);
                    return;
                }
                String host = header.destinationAddress();
                int port = header.destinationPort();
                java.util.Optional<String> site;
                try {
                    site = siteMap.siteOf(java.net.InetAddress.getByName(host));
                } catch (java.net.UnknownHostException e) {
                    site = java.util.Optional.empty(); // not reached: the decoder checked the address literal
                }
                if (site.isEmpty()) {
                    log.warn("steered {}: destination {}:{} is in no site of the pushed site map: resetting (the flow "
                            + "has no far site to optimise towards)", client.remoteAddress(), host, port);
                    countSteered("no_site");
                    StreamSplice.abort(client);
                    return;
                }
                if (site.get().equals(settings.site)) {
                    log.warn("steered {}: destination {}:{} is at this worker's own site {}: resetting (nothing to "
                            + "carry across the WAN)", client.remoteAddress(), host, port, settings.site);
                    countSteered("own_site");
                    StreamSplice.abort(client);
                    return;
                }
                countSteered("accepted");
                ctx.pipeline().remove(this);
                InetSocketAddress source = null;
                java.net.InetAddress sourceAddress =
                        io.netty.util.NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
                if (sourceAddress != null) {
                    source = new InetSocketAddress(sourceAddress, header.sourcePort());
                }
                ingress(client, source, site.get(), host, port);
            } finally {
                header.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                log.warn("steered {}: input ended before a complete PROXY v2 header: resetting",
                        ctx.channel().remoteAddress());
                countSteered("bad_header");
                timeout.cancel(false);
                StreamSplice.abort(ctx.channel());
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!ctx.channel().isActive()) {
                return; // already reset for an earlier error in the same input
            }
            log.warn("steered {}: malformed PROXY header: {}: resetting", ctx.channel().remoteAddress(),
                    cause.getMessage());
            countSteered("bad_header");
            if (timeout != null) {
                timeout.cancel(false);
            }
            StreamSplice.abort(ctx.channel());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            ctx.fireChannelInactive();
        }
    }

    @Override
    public void close() {
        for (PeerLink link : links.values()) {
            link.close();
        }
        links.clear();
        for (Channel listener : listeners) {
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
            group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
        for (PeerDictionary d : dictionaries.values()) {
            d.close(); // after the event loops: no stream writes to a store any more
        }
    }
}
