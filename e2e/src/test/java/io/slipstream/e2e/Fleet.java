package io.slipstream.e2e;

import static org.awaitility.Awaitility.await;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.local.FleetCa;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.proto.v1.FleetPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.curator.test.TestingServer;

/**
 * A test fleet: a real ZooKeeper, the standalone controller in this JVM, worker JVMs. Closed in reverse. Public for
 * the chaos suite ({@code io.slipstream.e2e.chaos}).
 */
public final class Fleet implements AutoCloseable {

    public static final Duration WAIT = Duration.ofSeconds(60);
    public static final int WORKER_SESSION_TIMEOUT_MILLIS = 4000;
    /** The operator token of {@link #startController(FleetPolicy)}'s admin API (issue 10). */
    public static final String OPERATOR_TOKEN = "e2e-operator-token-0123456789";

    public final TestingServer zk;
    private final boolean ownsZooKeeper;
    private FleetCa ca;
    final Path logs;
    final List<LocalWorkerProcess> workers = new ArrayList<>();
    public StandaloneController controller;

    public Fleet(Path logs) throws Exception {
        this(logs, new TestingServer(true), true);
    }

    /**
     * A fleet whose worker logs go under {@code target/<scenario>-logs}, emptied first and kept after the run to
     * diagnose a failure (the chaos suite).
     */
    public static Fleet inTarget(String scenario) throws Exception {
        Path logs = Path.of("target", scenario + "-logs");
        resetLogs(logs);
        return new Fleet(logs);
    }

    /**
     * Empties (or creates) a scenario's log directory: logs, the CA's certificates and the workers' chunk stores
     * (directories) of an earlier run, deepest first.
     */
    public static void resetLogs(Path logs) throws java.io.IOException {
        if (java.nio.file.Files.exists(logs)) {
            try (var old = java.nio.file.Files.walk(logs)) {
                for (Path f : (Iterable<Path>) old.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    if (!f.equals(logs)) {
                        java.nio.file.Files.delete(f);
                    }
                }
            }
        }
        java.nio.file.Files.createDirectories(logs);
    }

    /** A fleet on a ZooKeeper the caller owns (and closes). */
    public Fleet(Path logs, TestingServer zk) {
        this(logs, zk, false);
    }

    private Fleet(Path logs, TestingServer zk, boolean ownsZooKeeper) {
        this.zk = zk;
        this.ownsZooKeeper = ownsZooKeeper;
        this.logs = logs;
    }

    /** A controller with settings of the caller's. */
    public StandaloneController startController(ControllerSettings settings) throws Exception {
        controller = StandaloneController.start(settings);
        return controller;
    }

    public StandaloneController startController(FleetPolicy policy) throws Exception {
        controller = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .membershipGrace(Duration.ofSeconds(20))
                .loadIntervalMillis(200)
                .policy(policy)
                .adminAccess(io.slipstream.controller.standalone.AdminAccess.of(
                        io.slipstream.controller.standalone.AdminTokens.parse("e2e:operator:" + OPERATOR_TOKEN),
                        false, false))
                .devCa(ca())
                .build());
        return controller;
    }

    public LocalWorkerProcess startWorker(String id, String role, String site, String... extraArgs) throws Exception {
        return startWorker(id, role, site, List.of(), extraArgs);
    }

    /** A worker JVM with the launcher's default flags plus {@code extraJvmFlags} (later flags win). */
    public LocalWorkerProcess startWorker(String id, String role, String site, List<String> extraJvmFlags,
                                          String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--role", role, "--site", site,
                "--zookeeper", zk.getConnectString(),
                "--zk-session-timeout-ms", Integer.toString(WORKER_SESSION_TIMEOUT_MILLIS)));
        args.addAll(List.of(extraArgs));
        if (!args.contains("--insecure-plaintext")) {
            args.addAll(FleetCa.tlsArgs(ca().issueWorker(site, id)));
        }
        List<String> flags = new ArrayList<>(LocalWorkerProcess.DEFAULT_JVM_FLAGS);
        flags.addAll(extraJvmFlags);
        LocalWorkerProcess p = LocalWorkerProcess.start(id, args, logs, flags, true);
        workers.add(p);
        return p;
    }

    /** The fleet's throwaway CA (mutual TLS between the controller and the workers), made on first use. */
    public synchronized FleetCa ca() throws java.io.IOException {
        if (ca == null) {
            ca = FleetCa.create(logs.resolve("tls"), "e2e");
        }
        return ca;
    }

    public FleetSnapshot awaitFleet(Predicate<FleetSnapshot> condition) {
        try {
            return await().atMost(WAIT).until(() -> controller.fleet().snapshot(), condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Say what the fleet looked like and what the workers last logged: the logs may be in a @TempDir.
            StringBuilder why = new StringBuilder(e.getMessage()).append("\nfleet: ")
                    .append(io.slipstream.controller.standalone.FleetJson.write(
                            io.slipstream.controller.standalone.FleetJson.render(controller.fleet().snapshot())));
            for (LocalWorkerProcess p : workers) {
                why.append("\n--- ").append(p.id()).append(p.isAlive() ? " (alive)" : " (exited)").append(", log tail:\n");
                try {
                    List<String> lines = java.nio.file.Files.readAllLines(p.log());
                    lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> why.append(l).append('\n'));
                } catch (java.io.IOException unreadable) {
                    why.append(unreadable).append('\n');
                }
            }
            throw new AssertionError(why.toString(), e);
        }
    }

    /** Every named worker serving and running the configuration the controller wants. */
    public FleetSnapshot awaitServingAndConfigured(String... ids) {
        return awaitFleet(s -> {
            for (String id : ids) {
                var w = s.worker(id);
                if (w == null || !w.healthy() || w.configDigest().isEmpty()) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The worker's Prometheus text from its /metrics endpoint (as registered). */
    public String metrics(String id) throws java.io.IOException, InterruptedException {
        return Metrics.scrape(controller.fleet().snapshot().worker(id).record().metricsEndpoint());
    }

    /** Whether the worker's log mentions {@code text} (e.g. OutOfMemoryError). */
    public static boolean logMentions(LocalWorkerProcess p, String text) throws java.io.IOException {
        return java.nio.file.Files.exists(p.log()) && new String(java.nio.file.Files.readAllBytes(p.log()), java.nio.charset.StandardCharsets.UTF_8).contains(text);
    }

    @Override
    public void close() throws Exception {
        for (LocalWorkerProcess p : workers) {
            p.kill();
        }
        for (LocalWorkerProcess p : workers) {
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        if (controller != null) {
            controller.close();
        }
        if (ownsZooKeeper) {
            zk.close();
        }
    }
}
