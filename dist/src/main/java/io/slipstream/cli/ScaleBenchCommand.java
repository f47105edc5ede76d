package io.slipstream.cli;

import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.tools.bench.BenchJsonOption;
import io.slipstream.tools.bench.BenchReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench scale}: a load step on a local autoscaled fleet ({@link ScaleScenario}),
 * timed from the step to the decision, from the decision to the new worker serving traffic, and from
 * the load drop to the scale-in; plus a worker's cold start to serving with and without the fast-start
 * measures (AppCDS archive, start-up JVM flags), measured side by side. The HorizontalPodAutoscaler's
 * documented defaults (15 s sync period, 300 s scale-down stabilisation) are the peer for the decision
 * rows: they are its configuration, not a measurement.
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = "Autoscaling: load step to decision, decision to serving, scale-in; cold start with and without fast start.")
final class ScaleBenchCommand implements Callable<Integer> {

    /** HPA's --horizontal-pod-autoscaler-sync-period default. */
    static final double HPA_SYNC_SECONDS = 15;
    /** HPA's default scale-down stabilisation window (--horizontal-pod-autoscaler-downscale-stabilization). */
    static final double HPA_SCALE_DOWN_SECONDS = 300;

    @Spec
    CommandSpec spec;

    @Mixin
    BenchJsonOption json;

    @Option(names = "--cold-starts", defaultValue = "3",
            description = "Cold starts measured per variant, median taken (default: ${DEFAULT-VALUE})")
    int coldStarts;

    @Option(names = "--scale-in-window", defaultValue = "10s",
            description = "The autoscaler's scale-in stabilisation window for the run (default: ${DEFAULT-VALUE})")
    String scaleInWindow;

    @Override
    public Integer call() throws Exception {
        if (coldStarts < 1 || coldStarts > 20) {
            throw new IllegalArgumentException("--cold-starts: " + coldStarts + " (expected: 1..20)");
        }
        Duration inWindow = DemoCommand.parseDuration(scaleInWindow);
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("slipstream-bench-scale");

        out.println("cold start (process launch -> registered and serving; -> SERVING in the controller), "
                + coldStarts + " each:");
        Path archive = LocalWorkerProcess.sharedArchiveOfThisLauncher();
        out.println("  AppCDS archive: " + (archive == null
                ? "none (run from the built jar, bin/slipstream, to use dist/target/slipstream.jsa)" : archive));
        double[] fastStart = coldStart(dir.resolve("cold-fast"), LocalWorkerProcess.DEFAULT_JVM_FLAGS, true, out);
        double[] plainStart = coldStart(dir.resolve("cold-plain"), List.of(), false, out);
        double fast = fastStart[1];
        double plain = plainStart[1];

        out.println("load step on a local fleet:");
        ScaleScenario.Result r = new ScaleScenario(Duration.ofSeconds(1), inWindow, out).run(dir.resolve("scenario"));

        BenchReport report = new BenchReport("scale");
        report.add("seconds from load step to scale-out decision", r.stepToDecisionSeconds,
                "HPA defaults: 15 s sync period (worst case)", HPA_SYNC_SECONDS, BenchReport.Better.LOWER);
        report.add(String.format(Locale.ROOT, "seconds from load drop to scale-in decision (window %.0f s)",
                        inWindow.toMillis() / 1000.0), r.dropToDecisionSeconds,
                "HPA defaults: 300 s scale-down stabilisation", HPA_SCALE_DOWN_SECONDS, BenchReport.Better.LOWER);
        report.add("seconds from scale-out decision to new worker serving traffic", r.decisionToTrafficSeconds,
                "worker without fast start: cold start to serving", plain, BenchReport.Better.LOWER);
        report.add("seconds cold start to registered and serving (median)", fastStart[0],
                "worker without fast start (no AppCDS, default JVM flags)", plainStart[0], BenchReport.Better.LOWER);
        report.add("seconds cold start to SERVING in the controller (median)", fast,
                "worker without fast start (no AppCDS, default JVM flags)", plain, BenchReport.Better.LOWER);
        report.print(out);
        out.printf(Locale.ROOT, "scale-out 1 -> %d took %.2f s from the step; scale-in %d -> %d took %.2f s from the"
                        + " drop; %d of %d flows intact (%d bytes)%n", r.peakReplicas, r.scaleOutSeconds,
                r.peakReplicas, r.finalReplicas, r.scaleInSeconds, r.flowsIntact, r.flows, r.flowBytes);
        out.flush();
        json.write(report, out);
        deleteTree(dir);
        return r.flowsIntact == r.flows && r.finalReplicas == 1 ? 0 : 1;
    }

    /**
     * Medians over {@link #coldStarts} starts of the seconds from launching the process to its registration
     * (the creation time ZooKeeper gives its node: the worker reports SERVING right after) and to SERVING in
     * a controller's view (which adds the controller noticing it and opening its health stream).
     */
    private double[] coldStart(Path dir, List<String> jvmFlags, boolean archive, PrintWriter out) throws Exception {
        List<Double> seconds = new ArrayList<>();
        List<Double> registered = new ArrayList<>();
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zookeeper"), 0);
             CuratorFramework curator = ZooKeeperClients.newClient(zk.connectString(), 10_000);
             StandaloneController controller = StandaloneController.start(ControllerSettings.builder(zk.connectString())
                     .http("127.0.0.1", 0).membershipGrace(Duration.ZERO).insecurePlaintext().build())) {
            curator.start();
            for (int i = 0; i < coldStarts; i++) {
                String id = "cold-" + (archive ? "fast" : "plain") + "-" + i;
                AtomicReference<Instant> serving = new AtomicReference<>();
                CountDownLatch up = new CountDownLatch(1);
                controller.fleet().addListener(s -> {
                    WorkerView w = s.worker(id);
                    if (w != null && w.healthy() && serving.compareAndSet(null, Instant.now())) {
                        up.countDown();
                    }
                });
                try (LocalWorkerProcess p = LocalWorkerProcess.start(id, List.of("--role", "wanopt", "--site", "a",
                        "--zookeeper", zk.connectString(), "--insecure-plaintext"), dir.resolve("logs"), jvmFlags, archive)) {
                    if (!up.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException(id + " did not serve within 60 s; see " + p.log());
                    }
                    double s = ScaleScenario.coldStart(p, serving.get());
                    Stat node = curator.checkExists().forPath(FleetPaths.instancePath(id));
                    double r = node == null ? Double.NaN
                            : Duration.between(p.launchedAt(), Instant.ofEpochMilli(node.getCtime())).toMillis() / 1000.0;
                    seconds.add(s);
                    registered.add(r);
                    out.printf(Locale.ROOT, "  %-14s registered and serving %.2f s, SERVING in the controller %.2f s%n",
                            id, r, s);
                }
            }
        }
        Collections.sort(seconds);
        Collections.sort(registered);
        return new double[] {registered.get(registered.size() / 2), seconds.get(seconds.size() / 2)};
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
