package io.slipstream.cli;

import io.slipstream.tools.net.Ports;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;

/** A real single-node ZooKeeper server in this JVM (ZooKeeper's own embedded API), on loopback. */
final class EmbeddedZooKeeper implements AutoCloseable {

    private final ZooKeeperServerEmbedded server;
    private final int port;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, int port) {
        this.server = server;
        this.port = port;
    }

    /**
     * Starts a server storing its data under {@code baseDir}.
     *
     * @param port client port on 127.0.0.1, 0 for a free one
     */
    static EmbeddedZooKeeper start(Path baseDir, int port) throws Exception {
        java.nio.file.Files.createDirectories(baseDir);
        int clientPort = port == 0 ? Ports.free() : port;
        Properties config = new Properties();
        config.setProperty("clientPort", Integer.toString(clientPort));
        config.setProperty("clientPortAddress", "127.0.0.1");
        config.setProperty("tickTime", "500");
        config.setProperty("minSessionTimeout", "1000");
        config.setProperty("maxSessionTimeout", "60000");
        config.setProperty("admin.enableServer", "false");
        config.setProperty("4lw.commands.whitelist", "ruok,srvr,stat");
        ZooKeeperServerEmbedded server = ZooKeeperServerEmbedded.builder()
                .baseDir(baseDir)
                .configuration(config)
                .exitHandler(ExitHandler.LOG_ONLY)
                .build();
        server.start(30_000);
        return new EmbeddedZooKeeper(server, clientPort);
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        server.close();
    }
}
