package io.slipstream.worker;

import io.slipstream.common.HostPort;
import io.slipstream.contract.Roles;
import io.slipstream.proto.v1.Role;
import io.slipstream.worker.cache.policy.TargetedCacheControl;
import io.slipstream.worker.gateway.GatewayListener;
import io.slipstream.worker.security.WorkerTls;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.TransparentListener;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slipstream worker}: runs one worker until it is drained with stop, or receives SIGTERM. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run a data-plane worker (wanopt, cache or gateway) that registers in ZooKeeper.")
public final class WorkerCommand implements Callable<Integer> {

    @Option(names = "--role", required = true, description = "wanopt, cache or gateway")
    String role;

    @Option(names = "--site", required = true, description = "Site the worker belongs to, e.g. a")
    String site;

    @Option(names = "--id", description = "Worker id, unique in the fleet (default: <role>-<site>-<random>)")
    String id;

    @Option(names = "--zookeeper", defaultValue = "${env:SLIPSTREAM_ZOOKEEPER:-127.0.0.1:2181}",
            description = "ZooKeeper connect string (default: ${DEFAULT-VALUE})")
    String zookeeper;

    @Option(names = "--zk-session-timeout-ms", defaultValue = "10000",
            description = "ZooKeeper session timeout in ms (default: ${DEFAULT-VALUE})")
    int zkSessionTimeoutMillis;

    @Option(names = "--zk-auth-file", defaultValue = "${env:SLIPSTREAM_ZK_AUTH}",
            description = "ZooKeeper digest credentials file (user=/password= lines, or one user:password line); "
                    + "registrations then get ACLs only the fleet can change (default: SLIPSTREAM_ZK_AUTH; none: open)")
    java.nio.file.Path zkAuthFile;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "Address the control and metrics endpoints bind to (default: ${DEFAULT-VALUE})")
    String bindHost;

    @Option(names = "--advertise", defaultValue = "${env:SLIPSTREAM_ADVERTISE_HOST}",
            description = "Address others reach this worker at (default: the bind address, or SLIPSTREAM_ADVERTISE_HOST)")
    String advertiseHost;

    @Option(names = "--control-port", defaultValue = "0", description = "gRPC control port, 0 for any (default: 0)")
    int controlPort;

    @Option(names = "--metrics-port", defaultValue = "0",
            description = "HTTP port of /metrics, /healthz, /readyz; 0 for any (default: 0)")
    int metricsPort;

    @Option(names = "--data-port", defaultValue = "0",
            description = "Data-plane port (wanopt: tunnel endpoint for peers), 0 for any (default: 0)")
    int dataPort;

    @Option(names = "--forward", paramLabel = "LISTEN=HOST:PORT@SITE",
            description = "wanopt explicit mode: carry connections to LISTEN through a peer at SITE to HOST:PORT "
                    + "(repeatable), e.g. 9445=198.18.2.10:445@b")
    java.util.List<String> forwards = new java.util.ArrayList<>();

    @Option(names = {"--tls-cert", "--tunnel-cert"}, paramLabel = "PEM",
            description = "Instead of --tls-dir: this worker's certificate chain (URI SAN "
                    + "urn:slipstream:worker:<site>:<id>); --tunnel-cert is a deprecated alias")
    java.nio.file.Path tlsCert;

    @Option(names = {"--tls-key", "--tunnel-key"}, paramLabel = "PEM",
            description = "Instead of --tls-dir: its PKCS#8 private key; --tunnel-key is a deprecated alias")
    java.nio.file.Path tlsKey;

    @Option(names = {"--tls-ca", "--tunnel-ca"}, paramLabel = "PEM",
            description = "Instead of --tls-dir: the CA that signs the fleet's certificates; --tunnel-ca is a "
                    + "deprecated alias")
    java.nio.file.Path tlsCa;

    @Option(names = "--tls-dir", paramLabel = "DIR", defaultValue = "${env:SLIPSTREAM_TLS_DIR}",
            description = "Mutual TLS on the control server and the tunnel: a directory with tls.crt, tls.key "
                    + "(PKCS#8) and ca.crt, e.g. a mounted cert-manager Secret; reloaded on change "
                    + "(default: SLIPSTREAM_TLS_DIR)")
    java.nio.file.Path tlsDir;

    @Option(names = "--tls-reload-ms", defaultValue = "10000", paramLabel = "MILLIS",
            description = "How often the TLS files are checked for a change (default: ${DEFAULT-VALUE})")
    long tlsReloadMillis;

    @Option(names = "--insecure-plaintext",
            description = "Plaintext control server and tunnel, for development only (logged as a warning, "
                    + "slipstream.security.plaintext = 1)")
    boolean insecurePlaintext;

    @Option(names = "--transparent", paramLabel = "[BIND_HOST:]PORT@SITE",
            description = "wanopt transparent mode: accept connections steered to PORT by TPROXY (IP_TRANSPARENT, "
                    + "epoll) and carry each through a peer at SITE to its original destination (repeatable; "
                    + "BIND_HOST defaults to 127.0.0.1), e.g. 9000@b")
    java.util.List<String> transparent = new java.util.ArrayList<>();

    @Option(names = "--data-advertise", paramLabel = "HOST:PORT", defaultValue = "",
            description = "Data endpoint to register when peers reach this worker through NAT, a load balancer "
                    + "or a WAN emulator (default: the advertise address and the bound data port)")
    String dataAdvertise;

    @Option(names = "--chunk-store-gib", defaultValue = "${env:SLIPSTREAM_CHUNK_STORE_GIB:-4}", paramLabel = "GIB",
            description = "wanopt: chunk store on disk per peer and direction, GiB (fractions allowed; the pair's "
                    + "two stores take twice this; default: ${DEFAULT-VALUE})")
    double chunkStoreGib;

    @Option(names = "--chunk-store-dir", paramLabel = "DIR", defaultValue = "${env:SLIPSTREAM_CHUNK_STORE_DIR}",
            description = "wanopt: directory of the chunk stores, kept across restarts (default: "
                    + "SLIPSTREAM_CHUNK_STORE_DIR, else <java.io.tmpdir>/slipstream-chunk-store/<worker id>)")
    java.nio.file.Path chunkStoreDir;

    @Option(names = {"--chunk-store-memory-mib", "--chunk-store-mib"}, defaultValue = "0", paramLabel = "MIB",
            description = "wanopt: keep the chunk stores on the heap instead, MiB per peer and direction (capped at "
                    + "1/8 of the heap, lost on restart; default: 0, on disk)")
    long chunkStoreMemoryMib;

    /** Bytes per chunk store, and where the stores go ({@code null}: on the heap). */
    private long chunkStoreBytes() {
        if (chunkStoreMemoryMib < 0 || chunkStoreMemoryMib > (1 << 20)) {
            throw new IllegalArgumentException("--chunk-store-memory-mib: " + chunkStoreMemoryMib
                    + " (expected: 1..1048576, or 0 for the store on disk)");
        }
        if (chunkStoreMemoryMib > 0) {
            return chunkStoreMemoryMib << 20;
        }
        if (!(chunkStoreGib >= 0.01 && chunkStoreGib <= 1000)) {
            throw new IllegalArgumentException("--chunk-store-gib: " + chunkStoreGib + " (expected: 0.01..1000)");
        }
        return (long) (chunkStoreGib * (1L << 30));
    }

    private java.nio.file.Path chunkStoreDir(String workerId) {
        if (chunkStoreMemoryMib > 0) {
            return null;
        }
        if (chunkStoreDir != null && !chunkStoreDir.toString().isBlank()) {
            return chunkStoreDir;
        }
        return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "slipstream-chunk-store", workerId);
    }

    @Option(names = "--capacity-mbps", defaultValue = "1000",
            description = "Declared capacity in Mbit/s, the weight in placement (default: ${DEFAULT-VALUE})")
    long capacityMbps;

    private static <T> java.util.List<T> concat(java.util.List<T> a, java.util.List<T> b) {
        java.util.List<T> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private WorkerTls tunnelTls() {
        io.slipstream.common.tls.TlsFiles files = io.slipstream.common.tls.TlsFiles.fromOptions(
                tlsDir == null || tlsDir.toString().isBlank() ? null : tlsDir, tlsCert, tlsKey, tlsCa,
                "--tls-dir/--tls-cert/--tls-key/--tls-ca");
        if (files != null && insecurePlaintext) {
            throw new IllegalArgumentException("--insecure-plaintext with TLS files (expected: one or the other)");
        }
        if (files == null) {
            if (!insecurePlaintext) {
                throw new IllegalArgumentException("no transport security configured (expected: --tls-dir DIR or "
                        + "SLIPSTREAM_TLS_DIR, or --tls-cert/--tls-key/--tls-ca, for mutual TLS on the control "
                        + "server and the tunnel; or --insecure-plaintext for development)");
            }
            return null;
        }
        if (tlsReloadMillis < 100 || tlsReloadMillis > 3_600_000) {
            throw new IllegalArgumentException("--tls-reload-ms: " + tlsReloadMillis + " (expected: 100..3600000)");
        }
        io.slipstream.common.tls.TlsMaterial material = io.slipstream.common.tls.TlsMaterial.load(files);
        io.slipstream.common.tls.FleetIdentity expected = io.slipstream.common.tls.FleetIdentity.worker(site,
                id != null ? id : material.identity().name());
        if (!expected.equals(material.identity())) {
            throw new IllegalArgumentException("TLS certificate " + files.certificateChain() + " names "
                    + material.identity() + " (expected: " + expected + ", this worker's --site and --id)");
        }
        return WorkerTls.of(material, java.time.Duration.ofMillis(tlsReloadMillis));
    }

    @Option(names = "--origin", paramLabel = "URL",
            description = "cache: reverse-proxy this origin, e.g. http://127.0.0.1:8081 (default: forward proxy only)")
    String origin;

    @Option(names = "--cache-admin-token", defaultValue = "${env:SLIPSTREAM_CACHE_ADMIN_TOKEN}",
            description = "cache: token PURGE requests must send in X-Slipstream-Admin-Token "
                    + "(default: SLIPSTREAM_CACHE_ADMIN_TOKEN; none disables purge)")
    String cacheAdminToken;

    @Option(names = "--cache-targets", split = ",", paramLabel = "FIELD[,FIELD...]",
            description = "cache: own targeted cache-control fields (RFC 9213), most specific first, obeyed before "
                    + "CDN-Cache-Control and Cache-Control, e.g. Slipstream-Cache-Control (default: none)")
    java.util.List<String> cacheTargets = new java.util.ArrayList<>();

    @Option(names = "--cache-disk-dir", defaultValue = "${env:SLIPSTREAM_CACHE_DISK_DIR}", paramLabel = "DIR",
            description = "cache: directory of the disk tier (objects evicted from memory or larger than it, kept "
                    + "across restarts); created if missing (default: SLIPSTREAM_CACHE_DISK_DIR; none: memory only)")
    String cacheDiskDir;

    @Option(names = "--cache-disk-gib", defaultValue = "${env:SLIPSTREAM_CACHE_DISK_GIB:-10}", paramLabel = "GIB",
            description = "cache: bound on the disk tier's files (default: ${DEFAULT-VALUE})")
    long cacheDiskGib;

    @Option(names = "--shutdown-drain-ms", defaultValue = "${env:SLIPSTREAM_SHUTDOWN_DRAIN_MS:-10000}",
            paramLabel = "MILLIS",
            description = "On SIGTERM: stop taking new flows, leave the registry, and give open flows this long to "
                    + "finish before stopping; keep it below the pod's termination grace period (default: ${DEFAULT-VALUE})")
    long shutdownDrainMillis;

    @Option(names = "--exit-when-serving", hidden = true,
            description = "Stop as soon as the worker serves (the class-data-sharing training run at build time)")
    boolean exitWhenServing;
    @Option(names = "--listen", paramLabel = "[BIND_HOST:]PORT=HOST:PORT", converter = VipConverter.class,
            description = "gateway: accept client connections on PORT whose original destination is HOST:PORT "
                    + "(repeatable; BIND_HOST defaults to 127.0.0.1), e.g. 8080=198.18.2.10:80")
    java.util.List<io.slipstream.worker.gateway.GatewayListener> listen = new java.util.ArrayList<>();

    @Option(names = "--listen-transparent", paramLabel = "[BIND_HOST:]PORT", converter = TransparentConverter.class,
            description = "gateway: accept connections steered to PORT by TPROXY (IP_TRANSPARENT, epoll); the "
                    + "original destination is the accepted socket's local address (repeatable), e.g. 9000")
    java.util.List<io.slipstream.worker.gateway.GatewayListener> listenTransparent = new java.util.ArrayList<>();

    @Option(names = "--steered-port", defaultValue = "-1", paramLabel = "PORT",
            description = "wanopt: port where gateways hand over connections with a PROXY protocol v2 header, "
                    + "0 for any; registered as the steered endpoint (default: none)")
    int steeredPort;

    @Option(names = "--http-head-timeout-ms", defaultValue = "${env:SLIPSTREAM_HTTP_HEAD_TIMEOUT_MS:-10000}",
            paramLabel = "MILLIS", description = "cache and gateway: time a client has to send a complete HTTP "
                    + "request head, then 408 and close (default: ${DEFAULT-VALUE})")
    long httpHeadTimeoutMillis;

    @Option(names = "--http-idle-timeout-ms", defaultValue = "${env:SLIPSTREAM_HTTP_IDLE_TIMEOUT_MS:-60000}",
            paramLabel = "MILLIS", description = "cache: an idle keep-alive client connection is closed after this "
                    + "long, and a request body must arrive within it (default: ${DEFAULT-VALUE})")
    long httpIdleTimeoutMillis;

    /** {@code --cache-disk-dir} and {@code --cache-disk-gib}, checked. */
    CacheRoleSettings.Disk cacheDisk() {
        if (cacheDiskDir == null || cacheDiskDir.isBlank()) {
            return CacheRoleSettings.Disk.OFF;
        }
        if (cacheDiskGib < 1 || cacheDiskGib > (1L << 20)) {
            throw new IllegalArgumentException("--cache-disk-gib: " + cacheDiskGib + " (expected: 1..1048576)");
        }
        return new CacheRoleSettings.Disk(java.nio.file.Path.of(cacheDiskDir), cacheDiskGib << 30);
    }

    /** {@code --listen} values, with the parse error as picocli's message. */
    static final class VipConverter implements picocli.CommandLine.ITypeConverter<io.slipstream.worker.gateway.GatewayListener> {
        @Override
        public io.slipstream.worker.gateway.GatewayListener convert(String value) {
            try {
                return io.slipstream.worker.gateway.GatewayListener.parseVip(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code --listen-transparent} values, with the parse error as picocli's message. */
    static final class TransparentConverter
            implements picocli.CommandLine.ITypeConverter<io.slipstream.worker.gateway.GatewayListener> {
        @Override
        public io.slipstream.worker.gateway.GatewayListener convert(String value) {
            try {
                return io.slipstream.worker.gateway.GatewayListener.parseTransparent(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The worker's settings from the options: shared ones, and the role's own (other roles' options refused). */
    WorkerSettings settings() {
        String advertise = advertiseHost == null || advertiseHost.isBlank()
                ? ("0.0.0.0".equals(bindHost) ? "127.0.0.1" : bindHost)
                : advertiseHost;
        WorkerTls tls = tunnelTls();
        // With a certificate the worker is who its certificate says (the fleet checks it against the record).
        String workerId = id != null ? id : tls != null ? tls.material().identity().name()
                : role + "-" + site + "-" + UUID.randomUUID().toString().substring(0, 8);
        if (capacityMbps <= 0 || capacityMbps > 10_000_000) {
            throw new IllegalArgumentException("--capacity-mbps: " + capacityMbps + " (expected: 1..10000000)");
        }
        return new WorkerSettings(workerId, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertise,
                controlPort, metricsPort, dataPort, capacityMbps * 1_000_000 / 8, Versions.current(), tls,
                roleSettings(Roles.parse(role), workerId));
    }

    /**
     * The role's settings. Every option's value is checked whatever the role (the chunk store, cache and
     * timeout options have fleet-wide environment defaults); an option of another role is refused.
     */
    private RoleSettings roleSettings(Role parsedRole, String workerId) {
        List<PortForward> forwardList = forwards.stream().map(PortForward::parse).collect(Collectors.toList());
        List<TransparentListener> transparentList = transparent.stream().map(TransparentListener::parse)
                .collect(Collectors.toList());
        long storeBytes = chunkStoreBytes();
        ClientTimeouts timeouts = new ClientTimeouts(httpHeadTimeoutMillis, httpIdleTimeoutMillis);
        CacheRoleSettings.Disk disk = cacheDisk();
        List<String> targets = TargetedCacheControl.checkTargets(cacheTargets);
        if (!dataAdvertise.isEmpty()) {
            HostPort.parse(dataAdvertise);
        }
        List<GatewayListener> listeners = concat(listen, listenTransparent);
        if (parsedRole != Role.ROLE_WANOPT) {
            refuse(!forwardList.isEmpty(), "forwards: " + forwardList + " (expected: none, they are for the wanopt role)");
            refuse(!transparentList.isEmpty(), "transparent: " + transparentList
                    + " (expected: none, they are for the wanopt role)");
        }
        if (parsedRole != Role.ROLE_CACHE) {
            refuse(origin != null, "origin: " + origin + " (expected: none, it is for the cache role)");
        }
        if (parsedRole != Role.ROLE_GATEWAY) {
            refuse(!listeners.isEmpty(), "listen: " + listeners
                    + " (expected: none, --listen and --listen-transparent are for the gateway role)");
        }
        if (parsedRole != Role.ROLE_WANOPT && steeredPort != -1) {
            WorkerSettings.checkPort("steered port", steeredPort);
            throw new IllegalArgumentException("steered port: " + steeredPort
                    + " (expected: none, --steered-port is for the wanopt role)");
        }
        return switch (parsedRole) {
            case ROLE_WANOPT -> WanOptRoleSettings.defaults().withForwards(forwardList).withTransparent(transparentList)
                    .withSteeredPort(steeredPort).withDataAdvertise(dataAdvertise)
                    .withChunkStore(storeBytes, chunkStoreDir(workerId));
            case ROLE_CACHE -> CacheRoleSettings.defaults().withOrigin(origin)
                    .withAdminToken(cacheAdminToken == null || cacheAdminToken.isBlank() ? null : cacheAdminToken)
                    .withTargets(targets).withDisk(disk).withClientTimeouts(timeouts);
            case ROLE_GATEWAY -> GatewayRoleSettings.defaults().withListeners(listeners).withClientTimeouts(timeouts);
            default -> throw new IllegalArgumentException("role: " + parsedRole + " (expected: wanopt, cache or gateway)");
        };
    }

    private static void refuse(boolean refused, String message) {
        if (refused) {
            throw new IllegalArgumentException(message);
        }
    }

    @Override
    public Integer call() throws Exception {
        WorkerSettings settings = settings();
        Worker worker = Worker.start(settings, io.slipstream.common.ZooKeeperAuth.load(zkAuthFile));
        if (exitWhenServing) {
            java.util.concurrent.CountDownLatch serving = new java.util.concurrent.CountDownLatch(1);
            worker.lifecycle().onHealth(h -> {
                if (h == io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING) {
                    serving.countDown();
                }
            });
            boolean served = serving.await(60, java.util.concurrent.TimeUnit.SECONDS);
            worker.close();
            return served ? 0 : 1;
        }
        if (shutdownDrainMillis < 0 || shutdownDrainMillis > 3_600_000) {
            worker.close();
            throw new IllegalArgumentException("--shutdown-drain-ms: " + shutdownDrainMillis + " (expected: 0..3600000)");
        }
        Thread hook = new Thread(() -> worker.drainAndClose(shutdownDrainMillis), "worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        worker.awaitTermination();
        return 0;
    }
}
