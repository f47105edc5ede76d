package io.slipstream.common;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.BoundedExponentialBackoffRetry;

/** Builds the Curator client every Slipstream process uses, with the same retry and timeouts. */
public final class ZooKeeperClients {

    private ZooKeeperClients() {}

    /**
     * A started-on-demand client (call {@link CuratorFramework#start()}) that never gives up on
     * ZooKeeper for long: each operation retries with backoff up to two seconds apart.
     *
     * @param connectString ZooKeeper ensemble, e.g. {@code zk-0:2181,zk-1:2181}
     * @param sessionTimeoutMillis session timeout; ephemeral registrations vanish this long after a crash
     */
    public static CuratorFramework newClient(String connectString, int sessionTimeoutMillis) {
        if (connectString == null || connectString.isBlank()) {
            throw new IllegalArgumentException("zookeeper connect string: '" + connectString
                    + "' (expected: host:port[,host:port...])");
        }
        if (sessionTimeoutMillis < 1000 || sessionTimeoutMillis > 600_000) {
            throw new IllegalArgumentException("zookeeper session timeout: " + sessionTimeoutMillis
                    + " ms (expected: 1000..600000)");
        }
        return CuratorFrameworkFactory.builder()
                .connectString(connectString)
                .sessionTimeoutMs(sessionTimeoutMillis)
                .connectionTimeoutMs(Math.min(5000, sessionTimeoutMillis))
                .retryPolicy(new BoundedExponentialBackoffRetry(100, 2000, 10))
                .build();
    }
}
