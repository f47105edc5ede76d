package io.slipstream.cli;

import io.slipstream.worker.WorkerCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code slipstream cds-training} (hidden): the build's class-data-sharing training run. Starts an
 * embedded ZooKeeper and one worker of each role until it serves, then exits, so that a JVM started
 * with {@code -XX:ArchiveClassesAtExit} archives every class a worker loads on its way to serving.
 * {@code bin/slipstream} and the local worker processes map that archive at start.
 */
@Command(name = "cds-training", hidden = true,
        description = "Start and stop one worker of each role (class-data-sharing training run).")
final class CdsTrainingCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("slipstream-cds");
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, 0)) {
            return train(zk, dir);
        } finally {
            try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static int train(EmbeddedZooKeeper zk, Path dir) {
        {
            for (String role : new String[] {"wanopt", "cache", "gateway"}) {
                int exit = new CommandLine(new WorkerCommand()).execute("--role", role, "--site", "training",
                        "--id", role + "-training", "--zookeeper", zk.connectString(), "--exit-when-serving",
                        "--insecure-plaintext", "--chunk-store-dir", dir.resolve("chunk-store").toString());
                if (exit != 0) {
                    return exit;
                }
            }
        }
        return 0;
    }
}
