package io.slipstream.worker;

import io.slipstream.proto.v1.Role;
import io.slipstream.worker.security.WorkerTls;
import java.util.Objects;

/**
 * How one worker process starts, whatever its role: identity, where it listens, how it is secured, where
 * ZooKeeper is; and its role's own settings. Built by name: {@link #of} with the defaults of the command line,
 * then the {@code with...} methods.
 *
 * @param id unique worker id in the fleet
 * @param site the site the worker belongs to
 * @param zookeeper ZooKeeper connect string
 * @param zkSessionTimeoutMillis ZooKeeper session timeout
 * @param bindHost address the control, metrics and data endpoints bind to
 * @param advertiseHost address other processes use to reach this worker
 * @param controlPort gRPC control port, 0 for an ephemeral one
 * @param metricsPort admin HTTP port (/metrics, /healthz, /readyz), 0 for an ephemeral one
 * @param dataPort data-plane port of the roles that have one (wanopt: the tunnel endpoint; cache: the proxy),
 *     0 for an ephemeral one
 * @param capacityBytesPerSecond declared capacity, the weight in placement
 * @param version software version reported in the registration
 * @param tls mutual TLS of the worker (control server and wanopt tunnel; its material is reloaded on change),
 *     or {@code null} for plaintext (development only, {@code --insecure-plaintext})
 * @param roleSettings what the worker's role runs: {@link WanOptRoleSettings}, {@link CacheRoleSettings} or
 *     {@link GatewayRoleSettings}
 */
public record WorkerSettings(
        String id,
        String site,
        String zookeeper,
        int zkSessionTimeoutMillis,
        String bindHost,
        String advertiseHost,
        int controlPort,
        int metricsPort,
        int dataPort,
        long capacityBytesPerSecond,
        String version,
        WorkerTls tls,
        RoleSettings roleSettings) {

    public WorkerSettings {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(site, "site");
        Objects.requireNonNull(zookeeper, "zookeeper");
        Objects.requireNonNull(roleSettings, "roleSettings");
        if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("id: '" + id + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        if (!site.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("site: '" + site + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        checkPort("control port", controlPort);
        checkPort("metrics port", metricsPort);
        checkPort("data port", dataPort);
        if (capacityBytesPerSecond <= 0) {
            throw new IllegalArgumentException("capacity: " + capacityBytesPerSecond + " bytes/s (expected: > 0)");
        }
    }

    /**
     * A worker on 127.0.0.1 with ephemeral ports, a 10 s ZooKeeper session, 1000 Mbit/s of capacity, this
     * build's version and no TLS (development only: see {@link #withTls}).
     */
    public static WorkerSettings of(String id, String site, String zookeeper, RoleSettings roleSettings) {
        return new WorkerSettings(id, site, zookeeper, 10_000, "127.0.0.1", "127.0.0.1", 0, 0, 0,
                1000L * 1_000_000 / 8, Versions.current(), null, roleSettings);
    }

    /** What the worker does. */
    public Role role() {
        return roleSettings.role();
    }

    public WorkerSettings withZkSessionTimeoutMillis(int millis) {
        return new WorkerSettings(id, site, zookeeper, millis, bindHost, advertiseHost, controlPort, metricsPort,
                dataPort, capacityBytesPerSecond, version, tls, roleSettings);
    }

    /** Binds to {@code bindHost} and registers {@code advertiseHost} as the address to reach this worker at. */
    public WorkerSettings withHosts(String bindHost, String advertiseHost) {
        return new WorkerSettings(id, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort,
                metricsPort, dataPort, capacityBytesPerSecond, version, tls, roleSettings);
    }

    public WorkerSettings withPorts(int controlPort, int metricsPort, int dataPort) {
        return new WorkerSettings(id, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort,
                metricsPort, dataPort, capacityBytesPerSecond, version, tls, roleSettings);
    }

    public WorkerSettings withCapacityBytesPerSecond(long capacity) {
        return new WorkerSettings(id, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort,
                metricsPort, dataPort, capacity, version, tls, roleSettings);
    }

    public WorkerSettings withVersion(String version) {
        return new WorkerSettings(id, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort,
                metricsPort, dataPort, capacityBytesPerSecond, version, tls, roleSettings);
    }

    /** Mutual TLS on the control server and the tunnel, or {@code null} for plaintext (development only). */
    public WorkerSettings withTls(WorkerTls tls) {
        return new WorkerSettings(id, site, zookeeper, zkSessionTimeoutMillis, bindHost, advertiseHost, controlPort,
                metricsPort, dataPort, capacityBytesPerSecond, version, tls, roleSettings);
    }

    static void checkPort(String what, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(what + ": " + port + " (expected: 0..65535, 0 for any free port)");
        }
    }
}
