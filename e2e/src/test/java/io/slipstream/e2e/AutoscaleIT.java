package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.local.LocalProcessScaleTarget;
import io.slipstream.controller.scale.ScalingConfig;
import io.slipstream.controller.scale.ScalingRule;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.tools.net.Ports;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.PacedFlow;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Autoscaling on one machine, end to end: real ZooKeeper, the standalone controller with its
 * autoscaler, wanopt worker JVMs at site A started and stopped by the local-process scale target, one
 * at site B, and paced TCP flows through site A's port forwards to a digest sink behind site B.
 * Load steps up (12 flows on one worker) and the fleet grows 1 -> 3; it falls to one flow per worker
 * and the fleet shrinks 3 -> 1, draining the two least-loaded workers while their flows are still
 * open: those flows complete with every byte intact.
 */
class AutoscaleIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void localFleet_loadStepUpThenDown_scales1To3To1_andFlowsOpenDuringScaleInComplete(@TempDir Path dir)
            throws Exception {
        ScheduledExecutorService pacer = Executors.newScheduledThreadPool(2);
        Map<String, Integer> forwardPorts = new ConcurrentHashMap<>();
        List<PacedFlow> flows = new ArrayList<>();
        try (TestingServer zk = new TestingServer(true);
             DigestSink sink = new DigestSink();
             Fleet siteB = new Fleet(dir.resolve("logs"), zk)) {
            LocalProcessScaleTarget target = new LocalProcessScaleTarget(dir.resolve("logs"), (role, site, id) -> {
                int port = Ports.free();
                forwardPorts.put(id, port);
                List<String> args = new ArrayList<>(List.of("--role", role, "--site", site, "--zookeeper",
                        zk.getConnectString(), "--zk-session-timeout-ms", "4000",
                        "--forward", port + "=127.0.0.1:" + sink.port() + "@b"));
                args.addAll(io.slipstream.controller.local.FleetCa.tlsArgs(siteB.ca().issueWorker(site, id)));
                return args;
            });
            ScalingRule rule = ScalingRule.builder("wanopt", "a").replicas(1, 3).targetUtilisation(0.75)
                    .tolerance(0.1).scaleOutWindow(Duration.ofSeconds(1)).scaleInWindow(Duration.ofSeconds(6))
                    .maxStep(2).cpuPerWorker(0).queueLimit(0).flowsPerWorker(4)
                    .drainTimeout(Duration.ofSeconds(30)).build();
            StandaloneController controller = siteB.startController(ControllerSettings.builder(zk.getConnectString())
                    .http("127.0.0.1", 0).membershipGrace(Duration.ofSeconds(20)).loadIntervalMillis(200)
                    .policy(FleetPolicy.getDefaultInstance()).devCa(siteB.ca())
                    .scaling(new ScalingConfig(true, Duration.ofMillis(250), "local", List.of(rule)))
                    .scaleTarget(target).build());
            siteB.startWorker("wanopt-b1", "wanopt", "b");

            // Below the minimum at start: the autoscaler starts the first site A worker itself.
            FleetSnapshot one = await().atMost(WAIT).until(controller.fleet()::snapshot,
                    s -> servingAt(s, "a").size() == 1 && configured(s));
            String first = servingAt(one, "a").get(0);

            // Load step: 12 flows on the one worker, three times what it may carry at the target.
            for (int i = 0; i < 12; i++) {
                flows.add(openWithRetry(forwardPorts.get(first), i, pacer));
            }
            FleetSnapshot three = await().atMost(WAIT).until(controller.fleet()::snapshot,
                    s -> servingAt(s, "a").size() == 3 && configured(s));
            List<String> all = servingAt(three, "a");

            // Load falls: one long flow on each worker (needs one worker), the 12 finish intact.
            List<PacedFlow> longFlows = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                longFlows.add(openWithRetry(forwardPorts.get(all.get(i)), 100 + i, pacer));
            }
            for (PacedFlow f : flows) {
                assertThat(f.finish()).as("flow of the load step intact").isTrue();
            }
            flows.clear();
            flows.addAll(longFlows);

            // Scale-in drains workers while their flows are open; they keep sending meanwhile. The first decision
            // drains two, or one when a load report taken while the step's flows ended asked for two workers within
            // the scale-in window (the policy then shrinks 3 -> 2 -> 1; seen in CI, as in ScaleScenario).
            await().atMost(WAIT).until(() -> !controller.autoscaler().draining().isEmpty());
            List<String> victims = controller.autoscaler().draining();
            assertThat(victims).isNotEmpty().hasSizeLessThanOrEqualTo(2).isSubsetOf(all);
            for (String v : victims) {
                assertThat(target.process(v).isAlive()).as("victim %s still running while it drains", v).isTrue();
            }
            long before = longFlows.stream().mapToLong(PacedFlow::bytes).sum();
            await().atMost(WAIT).until(() -> longFlows.stream().mapToLong(PacedFlow::bytes).sum() > before + 3 * 40_000);
            for (PacedFlow f : longFlows) {
                assertThat(f.finish()).as("flow open during scale-in intact").isTrue();
            }
            flows.clear();

            FleetSnapshot last = await().atMost(WAIT).until(controller.fleet()::snapshot,
                    s -> servingAt(s, "a").size() == 1 && target.workers("wanopt", "a").size() == 1);
            assertThat(target.workers("wanopt", "a")).containsExactlyElementsOf(servingAt(last, "a"))
                    .doesNotContainAnyElementsOf(victims);
            assertThat(controller.autoscaler().desired("wanopt", "a")).isEqualTo(1);
            assertThat(reasonCount(controller, "overload")).isGreaterThanOrEqualTo(1);
            assertThat(reasonCount(controller, "underload")).isGreaterThanOrEqualTo(1);
            // The gauge is the autoscaler's own count, taken at its next evaluation (every 250 ms here): it may
            // still say 3 for one tick after the fleet view shows one worker (seen once under CPU load).
            await().atMost(WAIT).until(() -> controller.meters().get("slipstream.autoscaler.replicas.current")
                    .tags("role", "wanopt", "site", "a").gauge().value() == 1);
            // Operators see the same through the HTTP API.
            String scaling = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + controller.httpPort() + "/api/scaling")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertThat(scaling).contains("\"role\" : \"wanopt\"", "\"desired\" : 1", "\"draining\" : [ ]");
        } finally {
            flows.forEach(PacedFlow::abort);
            pacer.shutdownNow();
        }
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count())
                .as("worker processes left behind").isZero();
    }

    private static double reasonCount(StandaloneController c, String reason) {
        return c.meters().find("slipstream.autoscaler.decisions").tag("reason", reason).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private static List<String> servingAt(FleetSnapshot s, String site) {
        return s.workers().stream().filter(w -> w.healthy() && w.record().site().equals(site))
                .map(WorkerView::id).sorted().collect(Collectors.toList());
    }

    /** Every serving worker runs the controller's configuration (site A's know their peer at B). */
    private static boolean configured(FleetSnapshot s) {
        return s.workers().stream().filter(WorkerView::healthy).allMatch(w -> !w.configDigest().isEmpty())
                && s.workers().stream().anyMatch(w -> w.healthy() && w.record().site().equals("b"));
    }

    /** A flow through a worker once a short flow through it came back intact (its tunnel may still be connecting). */
    private static PacedFlow openWithRetry(int port, long seed, ScheduledExecutorService pacer) throws Exception {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            PacedFlow probe = PacedFlow.open(port, seed, pacer);
            return probe.finish();
        });
        return PacedFlow.open(port, seed, pacer);
    }

}
