package io.slipstream.worker.registry;

import io.slipstream.contract.FleetPaths;
import io.slipstream.contract.WorkerRecord;
import java.io.Closeable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this worker registered in ZooKeeper as an ephemeral Curator service-discovery instance
 * (JSON payload: {@link WorkerRecord}) until it is {@linkplain #unregister() unregistered} or closed.
 *
 * <p>Registration is asynchronous: the worker starts even while ZooKeeper is away. On every
 * (re)connection and every {@code verifyInterval} the node is checked: it must exist and be owned
 * by the current session; otherwise it is registered again. The first success calls
 * {@code onRegistered}. The caller owns the Curator client and closes it after this.
 */
public final class WorkerRegistration implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(WorkerRegistration.class);

    private final CuratorFramework client;
    private final SessionAwareServiceDiscovery<WorkerRecord> discovery;
    private final ServiceInstance<WorkerRecord> instance;
    private final String path;
    private final Runnable onRegistered;
    private final long verifyIntervalMillis;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean wanted = new AtomicBoolean(true);
    private final AtomicBoolean announced = new AtomicBoolean();
    private volatile long registeredSession;

    public WorkerRegistration(CuratorFramework client, WorkerRecord record, Runnable onRegistered,
                              long verifyIntervalMillis) {
        this.client = client;
        this.onRegistered = onRegistered;
        this.verifyIntervalMillis = verifyIntervalMillis;
        this.discovery = new SessionAwareServiceDiscovery<>(client, FleetPaths.DISCOVERY_BASE_PATH,
                new JsonInstanceSerializer<>(WorkerRecord.class));
        try {
            this.instance = ServiceInstance.<WorkerRecord>builder()
                    .name(FleetPaths.WORKER_SERVICE)
                    .id(record.id())
                    .address(record.controlEndpoint().substring(0, record.controlEndpoint().lastIndexOf(':')))
                    .port(Integer.parseInt(record.controlEndpoint().substring(record.controlEndpoint().lastIndexOf(':') + 1)))
                    .serviceType(ServiceType.DYNAMIC)
                    .payload(record)
                    .build();
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot describe worker " + record, e);
        }
        this.path = discovery.pathOf(instance);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "registration-" + record.id());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts registering; returns at once. */
    public WorkerRegistration start() throws Exception {
        discovery.start();
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.CONNECTED || state == ConnectionState.RECONNECTED) {
                executor.execute(this::ensureRegistered);
            }
        }, executor);
        executor.scheduleWithFixedDelay(this::ensureRegistered, 0, verifyIntervalMillis, TimeUnit.MILLISECONDS);
        return this;
    }

    /** The ZooKeeper path of this worker's instance node. */
    public String path() {
        return path;
    }

    /** The session that owns the registration, 0 before the first one. */
    public long registeredSession() {
        return registeredSession;
    }

    private void ensureRegistered() {
        if (!wanted.get() || !client.getZookeeperClient().isConnected()) {
            return;
        }
        try {
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            Stat stat = client.checkExists().forPath(path);
            if (stat == null || stat.getEphemeralOwner() != session) {
                discovery.registerService(instance);
            }
            if (!wanted.get()) {
                // Unregistered while we were registering: undo.
                discovery.unregisterService(instance);
                return;
            }
            registeredSession = session;
            if (announced.compareAndSet(false, true)) {
                onRegistered.run();
            }
        } catch (Exception e) {
            log.warn("registration of {} not confirmed yet: {}", path, e.toString());
        }
    }

    /** Removes the registration and keeps it removed (drain). */
    public void unregister() {
        if (wanted.compareAndSet(true, false)) {
            try {
                executor.submit(() -> {
                    discovery.unregisterService(instance);
                    log.info("unregistered {}", path);
                    return null;
                }).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("could not unregister {} now; the ephemeral node goes with the session: {}", path, e.toString());
            }
        }
    }

    @Override
    public void close() {
        unregister();
        executor.shutdownNow();
        try {
            discovery.close();
        } catch (Exception e) {
            log.debug("closing discovery", e);
        }
    }
}
