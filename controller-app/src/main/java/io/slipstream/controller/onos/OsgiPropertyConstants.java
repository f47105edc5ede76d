package io.slipstream.controller.onos;

/** Names and defaults of the {@link SlipstreamManager} component configuration properties. */
public final class OsgiPropertyConstants {

    private OsgiPropertyConstants() {
    }

    public static final String ZOOKEEPER_CONNECT = "zookeeperConnect";
    public static final String ZOOKEEPER_CONNECT_DEFAULT = "127.0.0.1:2181";

    public static final String BUCKET_COUNT = "bucketCount";
    public static final int BUCKET_COUNT_DEFAULT = 256;

    public static final String ZK_SESSION_TIMEOUT_MILLIS = "zkSessionTimeoutMillis";
    public static final int ZK_SESSION_TIMEOUT_MILLIS_DEFAULT = 15000;

    public static final String LOAD_INTERVAL_MILLIS = "loadIntervalMillis";
    public static final int LOAD_INTERVAL_MILLIS_DEFAULT = 1000;
}
