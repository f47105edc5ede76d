package io.slipstream.worker;

import io.slipstream.proto.v1.Role;
import io.slipstream.worker.gateway.GatewayListener;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.TransparentListener;
import java.util.List;
import java.util.Objects;

/**
 * How one worker process starts: identity, where it listens, where ZooKeeper is.
 *
 * @param id unique worker id in the fleet
 * @param role what the worker does
 * @param site the site the worker belongs to
 * @param zookeeper ZooKeeper connect string
 * @param zkSessionTimeoutMillis ZooKeeper session timeout
 * @param bindHost address the control and metrics endpoints bind to
 * @param advertiseHost address other processes use to reach this worker
 * @param controlPort gRPC control port, 0 for an ephemeral one
 * @param metricsPort admin HTTP port (/metrics, /healthz, /readyz), 0 for an ephemeral one
 * @param capacityBytesPerSecond declared capacity, the weight in placement
 * @param version software version reported in the registration
 * @param dataPort data-plane port (wanopt: the tunnel endpoint), 0 for an ephemeral one
 * @param forwards wanopt explicit mode: listeners carried through the tunnel to a peer site
 * @param transparent wanopt transparent mode: TPROXY listeners, each connection carried to its original
 *        destination through the tunnel to a peer site
 * @param tunnelTls mutual TLS of the worker (control server and wanopt tunnel; its material is reloaded on
 *        change), or {@code null} for plaintext (development only, {@code --insecure-plaintext})
 * @param chunkStoreBytes wanopt: chunk store per peer and direction
 * @param chunkStoreDir wanopt: where the chunk stores are kept on disk (across restarts), or {@code null} to keep
 *     them on the heap (bounded then by a share of the heap, see {@code ChunkStoreBudget})
 * @param dataAdvertise the data endpoint to register when peers reach it through something in front of
 *     the worker (NAT, load balancer, a WAN emulator); empty: the advertise host and the bound data port
 * @param origin cache role: the origin it reverse-proxies ({@code http://host:port}), or {@code null}
 * @param cacheAdminToken cache role: the token PURGE requests must carry, or {@code null} (purge disabled)
 * @param gatewayListeners gateway role: where it accepts client connections (VIP and transparent listeners)
 * @param steeredPort wanopt role: port of the steered listener gateways hand connections to (PROXY protocol v2
 *     header first), 0 for an ephemeral one, -1 for none
 * @param clientTimeouts HTTP client head and idle timeouts (cache, gateway)
 * @param cacheTargets cache role: own targeted cache-control fields (RFC 9213), before CDN-Cache-Control
 * @param cacheDisk cache role: the disk tier's directory and bound, or {@link CacheDisk#OFF}
 */
public record WorkerSettings(
        String id,
        Role role,
        String site,
        String zookeeper,
        int zkSessionTimeoutMillis,
        String bindHost,
        String advertiseHost,
        int controlPort,
        int metricsPort,
        long capacityBytesPerSecond,
        String version,
        int dataPort,
        List<PortForward> forwards,
        List<TransparentListener> transparent,
        io.slipstream.worker.security.WorkerTls tunnelTls,
        long chunkStoreBytes,
        String dataAdvertise,
        String origin,
        String cacheAdminToken,
        List<GatewayListener> gatewayListeners,
        int steeredPort,
        ClientTimeouts clientTimeouts,
        java.nio.file.Path chunkStoreDir,
        List<String> cacheTargets,
        CacheDisk cacheDisk) {

    /** The cache role's disk tier: its directory and bound, or {@link #OFF}. */
    public record CacheDisk(java.nio.file.Path dir, long bytes) {
        public static final CacheDisk OFF = new CacheDisk(null, 0);

        public CacheDisk {
            if (dir != null && bytes < (1 << 20)) {
                throw new IllegalArgumentException("cache disk: " + bytes + " bytes (expected: >= 1 MiB)");
            }
        }
    }

    /** Settings without a cache disk tier. */
    public WorkerSettings(String id, Role role, String site, String zookeeper, int zkSessionTimeoutMillis,
                          String bindHost, String advertiseHost, int controlPort, int metricsPort,
                          long capacityBytesPerSecond, String version, int dataPort, List<PortForward> forwards,
                          List<TransparentListener> transparent,
                          io.slipstream.worker.security.WorkerTls tunnelTls, long chunkStoreBytes,
                          String dataAdvertise, String origin, String cacheAdminToken,
                          List<GatewayListener> gatewayListeners, int steeredPort, ClientTimeouts clientTimeouts,
                          java.nio.file.Path chunkStoreDir, List<String> cacheTargets) {
        this(id, role, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort, metricsPort,
                capacityBytesPerSecond, version, dataPort, forwards, transparent, tunnelTls, chunkStoreBytes,
                dataAdvertise, origin, cacheAdminToken, gatewayListeners, steeredPort, clientTimeouts, chunkStoreDir,
                cacheTargets, CacheDisk.OFF);
    }

    /** Settings with the chunk stores on the heap and without own targeted cache-control fields. */
    public WorkerSettings(String id, Role role, String site, String zookeeper, int zkSessionTimeoutMillis,
                          String bindHost, String advertiseHost, int controlPort, int metricsPort,
                          long capacityBytesPerSecond, String version, int dataPort, List<PortForward> forwards,
                          List<TransparentListener> transparent,
                          io.slipstream.worker.security.WorkerTls tunnelTls, long chunkStoreBytes,
                          String dataAdvertise, String origin, String cacheAdminToken,
                          List<GatewayListener> gatewayListeners, int steeredPort, ClientTimeouts clientTimeouts) {
        this(id, role, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort, metricsPort,
                capacityBytesPerSecond, version, dataPort, forwards, transparent, tunnelTls, chunkStoreBytes,
                dataAdvertise, origin, cacheAdminToken, gatewayListeners, steeredPort, clientTimeouts, null, List.of());
    }

    /** Settings with the default HTTP client timeouts. */
    public WorkerSettings(String id, Role role, String site, String zookeeper, int zkSessionTimeoutMillis,
                          String bindHost, String advertiseHost, int controlPort, int metricsPort,
                          long capacityBytesPerSecond, String version, int dataPort, List<PortForward> forwards,
                          List<TransparentListener> transparent,
                          io.slipstream.worker.security.WorkerTls tunnelTls, long chunkStoreBytes,
                          String dataAdvertise, String origin, String cacheAdminToken,
                          List<GatewayListener> gatewayListeners, int steeredPort) {
        this(id, role, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort, metricsPort,
                capacityBytesPerSecond, version, dataPort, forwards, transparent, tunnelTls, chunkStoreBytes,
                dataAdvertise, origin, cacheAdminToken, gatewayListeners, steeredPort, ClientTimeouts.DEFAULT);
    }

    /** Settings without gateway listeners or a steered port. */
    public WorkerSettings(String id, Role role, String site, String zookeeper, int zkSessionTimeoutMillis,
                          String bindHost, String advertiseHost, int controlPort, int metricsPort,
                          long capacityBytesPerSecond, String version, int dataPort, List<PortForward> forwards,
                          List<TransparentListener> transparent,
                          io.slipstream.worker.security.WorkerTls tunnelTls, long chunkStoreBytes,
                          String dataAdvertise, String origin, String cacheAdminToken) {
        this(id, role, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort, metricsPort,
                capacityBytesPerSecond, version, dataPort, forwards, transparent, tunnelTls, chunkStoreBytes,
                dataAdvertise, origin, cacheAdminToken, List.of(), -1);
    }

    public WorkerSettings {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(zookeeper, "zookeeper");
        clientTimeouts = clientTimeouts == null ? ClientTimeouts.DEFAULT : clientTimeouts;
        cacheDisk = cacheDisk == null ? CacheDisk.OFF : cacheDisk;
        cacheTargets = io.slipstream.worker.cache.policy.TargetedCacheControl.checkTargets(
                cacheTargets == null ? List.of() : cacheTargets);
        if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("id: '" + id + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        if (!site.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("site: '" + site + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
            throw new IllegalArgumentException("role: " + role + " (expected: wanopt, cache or gateway)");
        }
        checkPort("control port", controlPort);
        checkPort("metrics port", metricsPort);
        checkPort("data port", dataPort);
        dataAdvertise = dataAdvertise == null ? "" : dataAdvertise;
        if (!dataAdvertise.isEmpty()) {
            io.slipstream.common.HostPort.parse(dataAdvertise);
        }
        if (chunkStoreBytes < (1 << 20)) {
            throw new IllegalArgumentException("chunk store: " + chunkStoreBytes + " bytes (expected: >= 1 MiB)");
        }
        forwards = List.copyOf(forwards);
        if (!forwards.isEmpty() && role != Role.ROLE_WANOPT) {
            throw new IllegalArgumentException("forwards: " + forwards + " (expected: none, they are for the wanopt role)");
        }
        transparent = List.copyOf(transparent);
        if (!transparent.isEmpty() && role != Role.ROLE_WANOPT) {
            throw new IllegalArgumentException("transparent: " + transparent
                    + " (expected: none, they are for the wanopt role)");
        }
        if (origin != null && role != Role.ROLE_CACHE) {
            throw new IllegalArgumentException("origin: " + origin + " (expected: none, it is for the cache role)");
        }
        if (origin != null) {
            io.slipstream.worker.cache.CacheProxySettings.parseOrigin(origin);
        }
        gatewayListeners = List.copyOf(gatewayListeners);
        if (!gatewayListeners.isEmpty() && role != Role.ROLE_GATEWAY) {
            throw new IllegalArgumentException("listen: " + gatewayListeners
                    + " (expected: none, --listen and --listen-transparent are for the gateway role)");
        }
        if (steeredPort != -1) {
            checkPort("steered port", steeredPort);
            if (role != Role.ROLE_WANOPT) {
                throw new IllegalArgumentException("steered port: " + steeredPort
                        + " (expected: none, --steered-port is for the wanopt role)");
            }
        }
        if (capacityBytesPerSecond <= 0) {
            throw new IllegalArgumentException("capacity: " + capacityBytesPerSecond + " bytes/s (expected: > 0)");
        }
    }

    private static void checkPort(String what, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + ": " + port + " (expected: 0..65535, 0 for any free port)");
        }
    }
}
