package io.slipstream.controller.fleet;

import io.slipstream.contract.FleetPaths;
import io.slipstream.contract.WorkerRecord;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the controller the workers registered in ZooKeeper (a Curator service cache) and the state
 * of the ZooKeeper connection. Instances whose payload cannot be read are skipped with a warning.
 * The caller owns the Curator client.
 */
public final class MembershipWatcher implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(MembershipWatcher.class);

    private final CuratorFramework client;
    private final FleetController controller;
    private final ServiceDiscovery<WorkerRecord> discovery;
    private final ExecutorService events;
    private volatile ServiceCache<WorkerRecord> cache;

    public MembershipWatcher(CuratorFramework client, FleetController controller) {
        this.client = client;
        this.controller = controller;
        this.discovery = ServiceDiscoveryBuilder.builder(WorkerRecord.class)
                .client(client)
                .basePath(FleetPaths.DISCOVERY_BASE_PATH)
                .serializer(new JsonInstanceSerializer<>(WorkerRecord.class))
                .build();
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "membership");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts watching. Returns once the first membership has been read, or at once if ZooKeeper is away. */
    public MembershipWatcher start() throws Exception {
        client.getConnectionStateListenable().addListener((c, state) -> {
            boolean connected = state.isConnected();
            controller.zooKeeper(connected);
            if (connected && cache != null) {
                publish();
            }
        }, events);
        controller.zooKeeper(client.getZookeeperClient().isConnected());
        discovery.start();
        cache = discovery.serviceCacheBuilder().name(FleetPaths.WORKER_SERVICE).build();
        cache.addListener(new ServiceCacheListener() {
            @Override
            public void cacheChanged() {
                publish();
            }

            @Override
            public void stateChanged(CuratorFramework c, ConnectionState state) {
                // The connection listener above handles it.
            }
        }, events);
        cache.start();
        events.execute(this::publish);
        return this;
    }

    private void publish() {
        List<WorkerRecord> records = new ArrayList<>();
        for (ServiceInstance<WorkerRecord> instance : cache.getInstances()) {
            if (instance.getPayload() == null) {
                log.warn("ignoring registration {} without a payload", instance.getId());
            } else if (!instance.getPayload().id().equals(instance.getId())) {
                log.warn("ignoring registration {} whose payload names worker {}", instance.getId(),
                        instance.getPayload().id());
            } else {
                records.add(instance.getPayload());
            }
        }
        controller.membership(records);
    }

    @Override
    public void close() {
        try {
            if (cache != null) {
                cache.close();
            }
            discovery.close();
        } catch (Exception e) {
            log.debug("closing membership watcher", e);
        }
        events.shutdownNow();
    }
}
