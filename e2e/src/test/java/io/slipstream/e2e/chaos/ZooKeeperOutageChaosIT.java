package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.fleet.FleetSnapshot;
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
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ZooKeeper stopped for 30 s (far longer than the workers' 4 s sessions) and restarted, with traffic through the
 * gateway and wanopt pair and HTTP through the cache all the while: no flow fails, the controller keeps its directory
 * (stale) with every worker healthy, the workers register again after the restart, the healthy set never changes,
 * and no worker is reprogrammed.
 */
@Timeout(150)
class ZooKeeperOutageChaosIT {

    static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final List<String> WORKERS = List.of("gw-a", "wan-a1", "wan-b1", "cache-a1");

    @Test
    void zooKeeperStopped30s_underTraffic_nothingLostDirectoryKeptNoFlappingNoReprogramming() throws Exception {
        long testStarted = System.nanoTime();
        Path logs = Path.of("target", "ZooKeeperOutageChaosIT-logs");
        ControlSupport.resetLogs(logs);
        try (ControlTraffic.Echo echo = new ControlTraffic.Echo(); ControlTraffic.Origin origin = new ControlTraffic.Origin();
             Fleet fleet = new Fleet(logs)) {
            FleetPolicy policy = FleetPolicy.newBuilder()
                    .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                    .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                    .addPolicies(FlowPolicy.newBuilder().setName("to-b").setIngressSite("a")
                            .setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .addDstPorts(PortRange.newBuilder().setFirst(echo.port()).setLast(echo.port())))
                    .build();
            fleet.startController(policy);
            int gatewayPort = Ports.free();
            fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayPort + "=127.0.0.1:" + echo.port());
            fleet.startWorker("wan-a1", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-b1", "wanopt", "b");
            fleet.startWorker("cache-a1", "cache", "a", "--origin", origin.url());
            fleet.awaitServingAndConfigured(WORKERS.toArray(String[]::new));
            String cacheUrl = "http://" + fleet.controller.fleet().snapshot().worker("cache-a1").record().dataEndpoint();
            // Warm: the path through the gateway and both wanopt workers carries flows, the cache answers.
            ControlSupport.untilEchoed(gatewayPort, 5);
            ControlSupport.untilFetched(cacheUrl + "/object/0");

            List<Set<String>> healthySets = new CopyOnWriteArrayList<>();
            healthySets.add(fleet.controller.fleet().snapshot().healthy());
            fleet.controller.fleet().addListener(s -> {
                if (!healthySets.get(healthySets.size() - 1).equals(s.healthy())) {
                    healthySets.add(s.healthy());
                }
            });
            Map<String, String> metricsEndpoints = new LinkedHashMap<>();
            for (String id : WORKERS) {
                metricsEndpoints.put(id, fleet.controller.fleet().snapshot().worker(id).record().metricsEndpoint());
            }
            Map<String, Double> appliesBefore = ControlSupport.configApplies(metricsEndpoints);
            double pushesBefore = pushes(fleet);
            long generationBefore = fleet.controller.fleet().snapshot().generation();
            Map<String, String> digestsBefore = ControlSupport.digests(fleet.controller.fleet().snapshot(), WORKERS);

            try (ControlTraffic traffic = new ControlTraffic()
                    .echoFlows("gateway+wanopt", gatewayPort, 64 * 1024)
                    .httpGets("cache", cacheUrl, 32)
                    .start()) {
                await().atMost(Fleet.WAIT).until(() -> traffic.ok() >= 20);

                long okAtStop = traffic.ok();
                fleet.zk.stop();
                long stoppedAt = System.nanoTime();
                FleetSnapshot stale = fleet.awaitFleet(FleetSnapshot::stale);
                // A policy PUT while ZooKeeper is away (issue 23): a clear 503, nothing half-written.
                java.net.http.HttpResponse<String> put = putPolicy(fleet, "{}");
                double putSecondsAfterStop = (System.nanoTime() - stoppedAt) / 1e9;
                // All the while: the directory keeps every worker, healthy, marked stale.
                Duration left = OUTAGE.minusNanos(System.nanoTime() - stoppedAt);
                await().during(left).atMost(left.plusSeconds(10)).until(() -> {
                    FleetSnapshot s = fleet.controller.fleet().snapshot();
                    return s.stale() && s.workers().size() == WORKERS.size() && s.healthy().size() == WORKERS.size();
                });
                long okDuringOutage = traffic.ok() - okAtStop;

                fleet.zk.restart();
                long restartedAt = System.nanoTime();
                fleet.awaitFleet(s -> !s.stale() && s.workers().size() == WORKERS.size()
                        && s.workers().stream().allMatch(w -> w.registered() && w.healthy()));
                double reRegisteredSeconds = (System.nanoTime() - restartedAt) / 1e9;
                // Traffic after the restart too, then a look at what the controller did.
                long okAtRestart = traffic.ok();
                await().atMost(Fleet.WAIT).until(() -> traffic.ok() >= okAtRestart + 40);
                traffic.close();

                FleetSnapshot after = fleet.controller.fleet().snapshot();
                String policyAfter = Metrics.get("http://127.0.0.1:" + fleet.controller.httpPort() + "/api/policy");
                String historyAfter = Metrics.get("http://127.0.0.1:" + fleet.controller.httpPort()
                        + "/api/policy/history");
                Map<String, Double> appliesAfter = ControlSupport.configApplies(metricsEndpoints);
                double pushesAfter = pushes(fleet);
                long failed = traffic.failures().size();
                String summary = String.format("CHAOS zookeeper-30s: traffic ok throughout, %d failed of %d flows "
                                + "(%d during the %d s outage), re-registered %.1f s after restart, healthy-set changes %d, "
                                + "config pushes %.0f, worker reconfigurations %.0f, generation %d -> %d, %d MiB checked, "
                                + "test %.0f s",
                        failed, traffic.ok() + failed, okDuringOutage, OUTAGE.toSeconds(), reRegisteredSeconds,
                        healthySets.size() - 1, pushesAfter - pushesBefore, ControlSupport.delta(appliesBefore, appliesAfter),
                        generationBefore, after.generation(), traffic.bytes() >> 20, (System.nanoTime() - testStarted) / 1e9);
                System.out.println(summary);
                for (ControlTraffic.Failure f : traffic.failures()) {
                    System.out.printf("CHAOS zookeeper-30s: failed flow %s %.1f s after ZooKeeper stopped: %s%n",
                            f.workload(), (f.atNanos() - stoppedAt) / 1e9, f.reason());
                }
                Files.writeString(logs.resolve("summary.txt"), summary + "\n");

                System.out.printf("CHAOS zookeeper-30s: PUT /api/policy %.1f s into the outage: %d %s%n",
                        putSecondsAfterStop, put.statusCode(), put.body().replace('\n', ' '));
                assertThat(put.statusCode()).as(put.body()).isEqualTo(503);
                assertThat(put.body()).contains("ZooKeeper").containsAnyOf("nothing was written", "nothing was changed");
                assertThat(policyAfter).as("the policy in force after the outage").contains("to-b");
                assertThat(historyAfter).as("one version, the start-up values").contains("\"current\" : 1")
                        .doesNotContain("\"version\" : 2");
                assertThat(traffic.failures()).as("failed flows").isEmpty();
                assertThat(stale.workers()).as("directory while ZooKeeper is away").hasSize(WORKERS.size());
                assertThat(okDuringOutage).as("flows during the outage").isGreaterThan(40);
                assertThat(healthySets).as("healthy set over the whole episode").hasSize(1);
                assertThat(after.healthy()).containsExactlyInAnyOrderElementsOf(WORKERS);
                assertThat(ControlSupport.digests(after, WORKERS)).as("configuration digests").isEqualTo(digestsBefore);
                assertThat(pushesAfter - pushesBefore).as("configuration pushes after the outage").isZero();
                assertThat(ControlSupport.delta(appliesBefore, appliesAfter)).as("ApplyConfig calls on workers").isZero();
                assertThat(reRegisteredSeconds).as("re-registration time, s").isLessThan(30);
            }
        }
    }

    private static java.net.http.HttpResponse<String> putPolicy(Fleet fleet, String body) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + fleet.controller.httpPort() + "/api/policy"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + Fleet.OPERATOR_TOKEN).header("If-Match", "\"1\"")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    }

    private static double pushes(Fleet fleet) {
        return fleet.controller.meters().find("slipstream.controller.config.pushes").counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }
}
