package io.slipstream.worker.wanopt;

import io.slipstream.worker.net.Transport;

import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.ChunkStoreState;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.Site;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkStoreStats;
import io.slipstream.worker.dedup.GearChunker;
import io.slipstream.worker.security.WorkerTls;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.StreamListener;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import io.slipstream.worker.wanopt.tunnel.TunnelInitializer;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wanopt role of a worker: the tunnel endpoint peers connect to (its data endpoint), the
 * persistent connections to its peers, and the listeners whose connections it carries to a peer site:
 * explicit mode (port forwards, a fixed destination) and transparent mode (TPROXY, the original
 * destination of each connection). Runs on the epoll transport where available (transparent mode
 * requires it), else on NIO. The facade of the role, and where its parts are wired:
 * {@link WanoptServer} (event loops and listeners, their pipelines built by the {@code *Initializer} classes),
 * {@link Ingress} and {@link Egress} (streams opened by a listener's client or by a peer, made by {@link Splices};
 * the per-stream logic is in {@link StreamSplice}), {@link PeerLinks} (tunnel connections to the peers) and
 * {@link ChunkStores} (the chunk dictionaries shared with them).
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

    /**
     * 32 KiB average chunks (8..256 KiB): a changed chunk travels as a delta against its old version,
     * so an edit costs little more than itself whatever the chunk size, and a reference (21 bytes)
     * costs 0.06% of its chunk. Measured against 4, 8, 16 and 64 KiB in docs/dedup.md.
     */
    static final GearChunker CHUNKER = GearChunker.builder().minSize(8192).averageSize(32768).maxSize(256 * 1024)
            .build();

    private final Settings settings;
    private final Frames.Hello hello;
    private final Transport transport = Transport.best();
    private final ChunkStores stores;
    private final PeerLinks links;
    private final Ingress ingress;
    private final WanoptServer server;
    private final TunnelInitializer tunnel;
    private final SteeredInitializer steered;
    private volatile SiteDecision siteDecision;

    /**
     * @param compressor the switch for the applied configuration, read per stream ({@code null}: send raw)
     * @param decompressor decodes whatever codec a peer used
     */
    public WanOptimizer(Settings settings, MeterRegistry meters, DataPlaneStats stats,
                        Supplier<ResilientCompressor> compressor, ResilientCompressor decompressor) {
        this.settings = settings;
        this.stores = new ChunkStores(settings.workerId, settings.storeDir, settings.storeBytes, meters);
        this.hello = new Frames.Hello(Frames.VERSION, settings.workerId, settings.site, stores.storeEpoch(),
                stores.fingerprintKey());
        this.server = new WanoptServer(settings, transport);
        this.links = new PeerLinks(settings.workerId, p -> new PeerLink(p.getWorkerId(), p.getSite(),
                HostPort.parse(p.getDataEndpoint()), server.group(), transport,
                () -> new TunnelConnection(true, hello, WanOptimizer::refuseOpen, p.getSite() + ":" + p.getWorkerId()),
                this::onConnection, settings.tls).start(), stores::drop);
        Splices splices = new Splices(stores, settings.dedup, compressor, decompressor, stats, meters,
                settings.needTimeoutMillis);
        this.ingress = new Ingress(settings.site, settings.window, transport, links, splices, stats, meters);
        Egress egress = new Egress(transport, splices);
        this.siteDecision = SiteDecision.none(settings.site);
        this.steered = new SteeredInitializer(() -> siteDecision, new SteeredOutcomes(meters), ingress);
        this.tunnel = new TunnelInitializer(() -> new TunnelConnection(false, hello, egress, null),
                this::onConnection, settings.tls, false);
    }

    public WanOptimizer start() throws InterruptedException {
        if (settings.dedup) {
            stores.reopen();
        }
        if (settings.tls == null) {
            log.warn("wanopt {}: the tunnel is PLAINTEXT (--insecure-plaintext): for development only",
                    settings.workerId);
        }
        server.start(tunnel, ingress, steered);
        return this;
    }

    /** The tunnel endpoint's bound address (the worker's data endpoint). */
    public InetSocketAddress tunnelAddress() {
        return server.tunnelAddress();
    }

    /** The steered listener's bound address, or {@code null} without one. */
    public InetSocketAddress steeredAddress() {
        return server.steeredAddress();
    }

    /**
     * Replaces the site map (from the controller's configuration) that steered connections' destinations
     * are looked up in. A map that does not parse is logged and the previous one kept.
     */
    public void sites(List<Site> sites) {
        try {
            siteDecision = SiteDecision.of(sites, settings.site);
        } catch (IllegalArgumentException e) {
            log.error("wanopt {}: sites not usable, keeping the previous site map: {}", settings.workerId, e.getMessage());
        }
    }

    /**
     * Replaces the flow policies (from the controller's configuration) that decide what a new flow does when no
     * peer is reachable ({@link PeerFallback}). Policies that do not compile are logged and the previous ones kept.
     */
    public void policies(List<FlowPolicy> policies) {
        try {
            ingress.fallback(PeerFallback.of(policies));
        } catch (IllegalArgumentException e) {
            log.error("wanopt {}: policies not usable, keeping the previous ones: {}", settings.workerId, e.getMessage());
        }
    }

    /** The bound port of the {@code i}-th port forward. */
    public int forwardPort(int i) {
        return server.forwardPort(i);
    }

    /** The bound port of the {@code i}-th transparent listener. */
    public int transparentPort(int i) {
        return server.transparentPort(i);
    }

    /** Replaces the set of peers (from the controller's configuration); keeps links that stay. */
    public void peers(List<Peer> peers) {
        links.replace(peers);
    }

    /** Ready tunnel connections to {@code peerId}. */
    public int readyConnections(String peerId) {
        return links.readyConnections(peerId);
    }

    private static StreamListener refuseOpen(TunnelConnection c, int id, Frames.Open open) {
        throw new IllegalStateException("not reached: the connection refuses OPEN from the accepting side");
    }

    /** The chunk dictionary shared with {@code peer}. */
    PeerDictionary dictionaryFor(String peer) {
        return stores.dictionaryFor(peer);
    }

    /** The figures of every chunk store, for the load report. */
    public List<ChunkStoreState> chunkStoreStates() {
        return stores.states();
    }

    /** The counters of the chunk stores of a peer pair ({@code sent} or {@code received}), or null without one. */
    ChunkStoreStats storeStats(String peer, String store) {
        return stores.stats(peer, store);
    }

    /** Every connection's HELLO tells the peer's dictionary the peer's key and store epoch. */
    private void onConnection(TunnelConnection connection) {
        connection.ready().thenAccept(h -> {
            if (settings.dedup) {
                stores.dictionaryFor(h.workerId).peerHello(h.storeEpoch, h.fingerprintKey);
            }
        });
    }

    @Override
    public void close() {
        links.close();
        server.close();
        stores.close(); // after the event loops: no stream writes to a store any more
    }
}
