package io.slipstream.common;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the Curator client every Slipstream process uses, with the same retry and timeouts. */
public final class ZooKeeperClients {

    private static final Logger log = LoggerFactory.getLogger(ZooKeeperClients.class);
    private static final AtomicBoolean OPEN_WARNED = new AtomicBoolean();

    private ZooKeeperClients() {}

    /**
     * A started-on-demand client (call {@link CuratorFramework#start()}) that never gives up on
     * ZooKeeper for long: each operation retries with backoff up to two seconds apart.
     *
     * @param connectString ZooKeeper ensemble, e.g. {@code zk-0:2181,zk-1:2181}
     * @param sessionTimeoutMillis session timeout; ephemeral registrations vanish this long after a crash
     */
    public static CuratorFramework newClient(String connectString, int sessionTimeoutMillis) {
        return newClient(connectString, sessionTimeoutMillis, ZooKeeperAuth.none());
    }

    /**
     * As {@link #newClient(String, int)}, authenticated with {@code auth}'s digest credentials and
     * creating every node (parents included) with its ACLs. Without credentials it warns once that
     * the fleet directory is open to anyone who can reach ZooKeeper.
     */
    public static CuratorFramework newClient(String connectString, int sessionTimeoutMillis, ZooKeeperAuth auth) {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException("zookeeper connect string: '" + connectString
                    + "' (expected: host:port[,host:port...])");
        }
        if (sessionTimeoutMillis < 1000 || sessionTimeoutMillis > 600_000) {
            throw new IllegalArgumentException("zookeeper session timeout: " + sessionTimeoutMillis
                    + " ms (expected: 1000..600000)");
        }
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs(sessionTimeoutMillis)
                .connectionTimeoutMs(Math.min(5000, sessionTimeoutMillis))
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 2000, 10));
        if (auth.enabled()) {
            builder.authorization("digest", auth.secret()).aclProvider(auth.aclProvider());
            log.info("ZooKeeper {}: authenticating as {}", connectString, auth);
        } else if (OPEN_WARNED.compareAndSet(false, true)) {
            log.warn("ZooKeeper {}: no credentials configured (--zk-auth-file or {}): the fleet directory is open "
                    + "to anyone who can reach ZooKeeper; use this only for development", connectString, ZooKeeperAuth.ENV);
        }
        return builder.build();
    }
}
