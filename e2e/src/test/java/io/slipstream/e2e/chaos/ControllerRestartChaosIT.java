package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.tools.net.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone controller as its own JVM, killed with SIGKILL under traffic and started again: the gateway, the
 * wanopt pair and the cache keep serving with their last configuration while it is down (every flow checked), and the
 * new controller rebuilds its view from ZooKeeper and the workers' status without reprogramming any of them.
 */
@Timeout(150)
class ControllerRestartChaosIT {

    private static final List<String> WORKERS = List.of("gw-a", "wan-a1", "wan-b1", "cache-a1");
    private static final Duration DOWN = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The controller's /api/fleet workers by id, or an empty map while it does not answer. */
    private static Map<String, JsonNode> view(ControlControllerProcess controller) {
        return view(controller, false);
    }

    /**
     * The controller's /api/fleet workers by id; an empty map while it does not answer, or — with
     * {@code converged} — while it still has a configuration to push: a digest seen before that is a passing one
     * (the gateway's table changes once the wanopt workers run theirs).
     */
    private static Map<String, JsonNode> view(ControlControllerProcess controller, boolean converged) {
        Map<String, JsonNode> workers = new LinkedHashMap<>();
        try {
            JsonNode fleet = JSON.readTree(Metrics.get(controller.baseUrl() + "/api/fleet"));
            if (converged && !fleet.path("converged").asBoolean(false)) {
                return Map.of();
            }
            for (JsonNode w : fleet.get("workers")) {
                workers.put(w.get("id").asText(), w);
            }
        } catch (Exception e) {
            return Map.of();
        }
        return workers;
    }

    /** Every worker serving with the given digests (or any non-empty digest when {@code digests} is null). */
    private static boolean fullView(Map<String, JsonNode> view, Map<String, String> digests) {
        for (String id : WORKERS) {
            JsonNode w = view.get(id);
            if (w == null || !w.get("health").asText().equals("serving") || w.get("config_digest").asText().isEmpty()) {
                return false;
            }
            if (digests != null && !w.get("config_digest").asText().equals(digests.get(id))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void controllerKilled_underTraffic_workersKeepServing_andRestartRebuildsViewWithoutReprogramming() throws Exception {
        long testStarted = System.nanoTime();
        Path logs = Path.of("target", "ControllerRestartChaosIT-logs");
        ControlSupport.resetLogs(logs);
        try (TestingServer zk = new TestingServer(true);
             ControlTraffic.Echo echo = new ControlTraffic.Echo(); ControlTraffic.Origin origin = new ControlTraffic.Origin();
             Fleet fleet = new Fleet(logs, zk)) {
            FleetPolicy policy = FleetPolicy.newBuilder()
                    .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                    .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                    .addPolicies(FlowPolicy.newBuilder().setName("to-b").setIngressSite("a")
                            .setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .addDstPorts(PortRange.newBuilder().setFirst(echo.port()).setLast(echo.port())))
                    .build();
            Path policyFile = logs.resolve("policy.json");
            Files.writeString(policyFile, FleetPolicies.toJson(policy));
            // Both controller JVMs present the same controller certificate from the fleet's CA.
            Path controllerTls = fleet.ca().issueController("controller");
            ControlControllerProcess first = ControlControllerProcess.start("controller-1", zk.getConnectString(),
                    Ports.free(), policyFile, 20_000, controllerTls, logs);
            ControlControllerProcess second = null;
            try {
                int gatewayPort = Ports.free();
                fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayPort + "=127.0.0.1:" + echo.port());
                fleet.startWorker("wan-a1", "wanopt", "a", "--steered-port", "0");
                fleet.startWorker("wan-b1", "wanopt", "b");
                int cachePort = Ports.free();
                fleet.startWorker("cache-a1", "cache", "a", "--origin", origin.url(), "--data-port",
                        Integer.toString(cachePort));
                // The digests every worker runs once the first controller has nothing left to push.
                Map<String, JsonNode> before = await().atMost(Fleet.WAIT)
                        .until(() -> view(first, true), v -> fullView(v, null));
                Map<String, String> digests = new LinkedHashMap<>();
                Map<String, String> metricsEndpoints = new LinkedHashMap<>();
                for (String id : WORKERS) {
                    digests.put(id, before.get(id).get("config_digest").asText());
                    metricsEndpoints.put(id, before.get(id).get("metrics_endpoint").asText());
                }
                String cacheUrl = "http://127.0.0.1:" + cachePort;
                ControlSupport.untilEchoed(gatewayPort, 5);
                ControlSupport.untilFetched(cacheUrl + "/object/0");
                Map<String, Double> appliesBefore = ControlSupport.configApplies(metricsEndpoints);
                Map<String, Double> changesBefore = ControlSupport.configChanges(metricsEndpoints);

                try (ControlTraffic traffic = new ControlTraffic()
                        .echoFlows("gateway+wanopt", gatewayPort, 64 * 1024)
                        .httpGets("cache", cacheUrl, 32)
                        .start()) {
                    await().atMost(Fleet.WAIT).until(() -> traffic.ok() >= 20);
                    first.kill();
                    long killedAt = System.nanoTime();
                    assertThat(first.isAlive()).isFalse();
                    long okAtKill = traffic.ok();
                    // Down for a while: the workers serve on with their last configuration.
                    await().pollDelay(DOWN).atMost(DOWN.plusSeconds(5)).until(() -> true);
                    long okWhileDown = traffic.ok() - okAtKill;
                    int failedWhileDown = traffic.failures().size();

                    ControlControllerProcess restarted = ControlControllerProcess.start("controller-2",
                            zk.getConnectString(), Ports.free(), policyFile, 20_000, controllerTls, logs);
                    second = restarted;
                    long restartedAt = System.nanoTime();
                    try {
                        await().atMost(Fleet.WAIT).until(() -> fullView(view(restarted), digests));
                    } catch (org.awaitility.core.ConditionTimeoutException e) {
                        throw new AssertionError("no full view with the digests " + digests
                                + " from the restarted controller; its view: " + view(restarted), e);
                    }
                    double fullViewSeconds = (System.nanoTime() - restartedAt) / 1e9;
                    // Past the controller's settle window (10 s at most), when it would push if it meant to.
                    long okAtView = traffic.ok();
                    await().pollDelay(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(20))
                            .until(() -> traffic.ok() > okAtView);
                    traffic.close();

                    Map<String, Double> appliesAfter = ControlSupport.configApplies(metricsEndpoints);
                    Map<String, Double> changesAfter = ControlSupport.configChanges(metricsEndpoints);
                    String controllerMetrics = Metrics.get(restarted.baseUrl() + "/metrics");
                    double pushes = Metrics.sum(controllerMetrics, "slipstream_controller_config_pushes_total");
                    long failed = traffic.failures().size();
                    String summary = String.format("CHAOS controller-kill: traffic ok throughout, %d failed of %d flows "
                                    + "(%d flows while the controller was down %.0f s), full view %.1f s after restart "
                                    + "(%d workers, digests unchanged), ApplyConfig calls after restart %.0f "
                                    + "(reconfigurations %.0f), controller pushes %.0f, %d MiB checked, test %.0f s",
                            failed, traffic.ok() + failed, okWhileDown, (restartedAt - killedAt) / 1e9, fullViewSeconds,
                            WORKERS.size(), ControlSupport.delta(appliesBefore, appliesAfter),
                            ControlSupport.delta(changesBefore, changesAfter), pushes, traffic.bytes() >> 20,
                            (System.nanoTime() - testStarted) / 1e9);
                    System.out.println(summary);
                    for (ControlTraffic.Failure f : traffic.failures()) {
                        System.out.printf("CHAOS controller-kill: failed flow %s %.1f s after the kill: %s%n",
                                f.workload(), (f.atNanos() - killedAt) / 1e9, f.reason());
                    }
                    Files.writeString(logs.resolve("summary.txt"), summary + "\n");

                    assertThat(traffic.failures()).as("failed flows").isEmpty();
                    assertThat(failedWhileDown).isZero();
                    assertThat(okWhileDown).as("flows while the controller was down").isGreaterThan(20);
                    assertThat(ControlSupport.delta(changesBefore, changesAfter)).as("workers reconfigured").isZero();
                    // Not even a no-op push: the restarted controller asks each worker what it runs and waits for
                    // the answer (before the fix, every worker but the first to answer got its configuration again).
                    for (String id : WORKERS) {
                        assertThat(appliesAfter.get(id) - appliesBefore.get(id)).as("ApplyConfig calls on %s", id)
                                .isZero();
                    }
                    assertThat(pushes).as("configuration pushes by the restarted controller").isZero();
                    assertThat(fullViewSeconds).as("time to the full view, s").isLessThan(30);
                }
            } finally {
                first.close();
                if (second != null) {
                    second.close();
                }
            }
        }
    }
}
