package io.slipstream.worker.registry;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceType;
import org.apache.curator.x.discovery.details.InstanceSerializer;
import org.apache.curator.x.discovery.details.ServiceDiscoveryImpl;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Curator service discovery whose (re-)registration looks at who owns the instance node.
 *
 * <p>Curator's own registration deletes and re-creates the node whenever it exists, on every
 * reconnect; watchers then see the worker leave and come back although nothing happened. Here a
 * node owned by the current session is left alone (its data updated if it changed), and a node
 * owned by another session -- a stale ephemeral of a session that has not expired on the server
 * yet, e.g. after a ZooKeeper restart -- is deleted at its version and re-created, so it never
 * blocks re-registration.
 */
final class SessionAwareServiceDiscovery<T> extends ServiceDiscoveryImpl<T> {

    private static final Logger log = LoggerFactory.getLogger(SessionAwareServiceDiscovery.class);
    private static final int MAX_ATTEMPTS = 3;

    private final CuratorFramework client;
    private final String basePath;
    private final InstanceSerializer<T> serializer;

    SessionAwareServiceDiscovery(CuratorFramework client, String basePath, InstanceSerializer<T> serializer) {
        super(client, basePath, serializer, null, false);
        this.client = client;
        this.basePath = basePath;
        this.serializer = serializer;
    }

    String pathOf(ServiceInstance<T> instance) {
        return ZKPaths.makePath(basePath, instance.getName(), instance.getId());
    }

    @Override
    protected void internalRegisterService(ServiceInstance<T> service) throws Exception {
        byte[] bytes = serializer.serialize(service);
        String path = pathOf(service);
        CreateMode mode = service.getServiceType() == ServiceType.DYNAMIC ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            try {
                client.create().creatingParentContainersIfNeeded().withMode(mode).forPath(path, bytes);
                log.info("registered {} (session 0x{})", path, Long.toHexString(session));
                return;
            } catch (KeeperException.NodeExistsException e) {
                Stat stat = new Stat();
                byte[] current;
                try {
                    current = client.getData().storingStatIn(stat).forPath(path);
                } catch (KeeperException.NoNodeException gone) {
                    continue;
                }
                if (mode == CreateMode.PERSISTENT || stat.getEphemeralOwner() == session) {
                    if (!java.util.Arrays.equals(current, bytes)) {
                        client.setData().withVersion(stat.getVersion()).forPath(path, bytes);
                    }
                    return;
                }
                log.info("removing stale registration {} owned by session 0x{} (ours: 0x{})", path,
                        Long.toHexString(stat.getEphemeralOwner()), Long.toHexString(session));
                try {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                    // Someone else moved first; look again.
                }
            }
        }
        throw new IllegalStateException("could not register " + path + " after " + MAX_ATTEMPTS + " attempts");
    }
}
