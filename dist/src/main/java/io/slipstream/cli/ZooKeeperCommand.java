package io.slipstream.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slipstream zookeeper}: a single-node ZooKeeper for one machine (the embedded default). */
@Command(name = "zookeeper", mixinStandardHelpOptions = true,
        description = "Run an embedded single-node ZooKeeper server on 127.0.0.1 until SIGTERM.")
final class ZooKeeperCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "2181", description = "Client port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--data-dir", description = "Data directory (default: a new temporary directory)")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        Path dir = dataDir != null ? Files.createDirectories(dataDir) : Files.createTempDirectory("slipstream-zk");
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, port);
        System.out.println("ZooKeeper serving on " + zk.connectString() + " (data in " + dir + ")");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            zk.close();
            stop.countDown();
        }, "zookeeper-shutdown"));
        stop.await();
        return 0;
    }
}
