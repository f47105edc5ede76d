package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.contract.FleetPaths;
import io.slipstream.e2e.Fleet;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two standalone controllers as their own JVMs on one ZooKeeper, scaling local worker processes (issue 23); the
 * leader is killed with SIGKILL in the middle of a scale-out, and during a drain:
 *
 * <ul>
 *   <li>scale-out: killed once it has started workers and before all of them registered; the new leader adopts
 *       them (they outlive the controller that started them) and finishes the scale-out: exactly the target count
 *       of worker processes and registrations, no id ever run by two processes, no process it does not own (closing
 *       it stops every one);
 *   <li>drain: killed while a wanopt worker with flows in progress drains for a scale-in; the new leader takes the
 *       drain over from the intent recorded in ZooKeeper, the flows through the draining worker end intact, and the
 *       worker is then removed: the scale-in completes, nothing else is started or stopped.
 * </ul>
 * Figures are printed ({@code CHAOS controller-scaling-failover}) and kept in docs/chaos.md.
 */
@Timeout(120)
class ControllerScalingFailoverChaosIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "scaling-failover-operator-token-0123";
    private static final int SESSION_MILLIS = 4000;
    private static final String WORKER_MAIN = "io.slipstream.worker.WorkerMain";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Pins {@code role} at {@code site} to exactly {@code replicas} through {@code controller}'s API. */
    private void pin(ControlControllerProcess controller, String role, String site, int replicas) throws Exception {
        String url = controller.baseUrl() + "/api/scaling/overrides";
        HttpResponse<String> current = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        String body = String.format("{\"role\":\"%s\",\"site\":\"%s\",\"minReplicas\":%d,\"maxReplicas\":%d}", role,
                site, replicas, replicas);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN)
                .header("If-Match", current.headers().firstValue("ETag").orElseThrow())
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static List<String> args(String name, Path tokens, Path config) {
        return List.of("--name", name, "--zk-session-timeout-ms", Integer.toString(SESSION_MILLIS),
                "--admin-tokens-file", tokens.toString(), "--config", config.toString());
    }

    private static Map<Long, String> workerProcesses(TestingServer zk, String prefix) {
        return workerProcesses(zk.getConnectString(), prefix);
    }

    /**
     * Live (not zombie) worker processes of this machine of the fleet on {@code zookeeper} whose id starts with
     * {@code prefix}: pid to id. (Other tests on this machine may run workers of the same ids on their own ZooKeeper.)
     */
    private static Map<Long, String> workerProcesses(String zookeeper, String prefix) {
        Map<Long, String> found = new TreeMap<>();
        ProcessHandle.allProcesses().forEach(h -> {
            String[] a;
            try {
                // The JDK's ProcessHandle.Info#arguments() is empty for a command line this long.
                a = Files.readString(Paths.get("/proc", Long.toString(h.pid()), "cmdline")).split("\0");
            } catch (IOException e) {
                return;
            }
            List<String> args = Arrays.asList(a);
            int main = args.indexOf(WORKER_MAIN);
            int zk = args.indexOf("--zookeeper");
            if (main < 0 || zk < main || zk + 1 >= a.length || !a[zk + 1].equals(zookeeper)) {
                return;
            }
            for (int i = main + 1; i + 1 < a.length; i++) {
                if (a[i].equals("--id") && a[i + 1].startsWith(prefix) && running(h)) {
                    found.put(h.pid(), a[i + 1]);
                    return;
                }
            }
        });
        return found;
    }

    /** Alive and not a zombie (a killed controller's children are reaped by whoever inherits them). */
    private static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Paths.get("/proc", Long.toString(h.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /** Ids registered in ZooKeeper discovery that start with {@code prefix}. */
    private static Set<String> registered(CuratorFramework zk, String prefix) throws Exception {
        Set<String> ids = new TreeSet<>();
        String dir = FleetPaths.DISCOVERY_BASE_PATH + "/" + FleetPaths.WORKER_SERVICE;
        if (zk.checkExists().forPath(dir) == null) {
            return ids;
        }
        for (String id : zk.getChildren().forPath(dir)) {
            if (id.startsWith(prefix)) {
                ids.add(id);
            }
        }
        return ids;
    }

    /**
     * Samples the worker processes of {@code prefix} every 20 ms: the most alive at once, and every pid each id
     * ever ran as (an id with two pids was started twice).
     */
    private static final class ProcessWatch implements AutoCloseable {
        final Map<String, Set<Long>> pidsById = new ConcurrentHashMap<>();
        final AtomicInteger most = new AtomicInteger();
        private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();

        ProcessWatch(String zookeeper, String prefix) {
            sampler.scheduleWithFixedDelay(() -> {
                Map<Long, String> now = workerProcesses(zookeeper, prefix);
                most.accumulateAndGet(now.size(), Math::max);
                now.forEach((pid, id) -> pidsById.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(pid));
            }, 0, 20, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() throws InterruptedException {
            sampler.shutdown();
            sampler.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void leaderKilledMidScaleOut_newLeaderAdoptsAndFinishes_noWorkerTwice_noneOrphaned() throws Exception {
        Path logs = Path.of("target", "ControllerScalingFailoverChaosIT-scale-out-logs");
        ControlSupport.resetLogs(logs);
        String prefix = "cache-z-";
        try (TestingServer zk = new TestingServer(true);
             CuratorFramework client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100));
             ProcessWatch watch = new ProcessWatch(zk.getConnectString(), prefix)) {
            client.start();
            Path policyFile = logs.resolve("policy.json");
            Files.writeString(policyFile, "{\"sites\":[{\"name\":\"z\",\"prefixes\":[\"198.18.9.0/24\"]}],"
                    + "\"policies\":[]}");
            Path config = logs.resolve("controller.json");
            Files.writeString(config, "{\"scaling\":{\"enabled\":true,\"intervalMillis\":100,\"target\":\"local\","
                    + "\"rules\":[{\"role\":\"cache\",\"site\":\"z\",\"minReplicas\":0,\"maxReplicas\":3,"
                    + "\"maxStep\":3}]}}");
            Path tokens = logs.resolve("admin-tokens");
            Files.writeString(tokens, "ops:operator:" + TOKEN + "\n");
            ControlControllerProcess first = ControlControllerProcess.start("controller-1", zk.getConnectString(),
                    Ports.free(), policyFile, 20_000, null, logs, args("c1", tokens, config));
            ControlControllerProcess second = null;
            try {
                await().atMost(Fleet.WAIT).until(() -> first.leads());
                ControlControllerProcess follower = ControlControllerProcess.start("controller-2",
                        zk.getConnectString(), Ports.free(), policyFile, 20_000, null, logs, args("c2", tokens, config));
                second = follower;
                await().atMost(Fleet.WAIT).until(() -> "c1".equals(follower.json("/api/status")
                        .path("leader").path("name").asText()));

                // The scale-out: 0 -> 3. The kill lands once a worker process runs, before all three registered.
                pin(first, "cache", "z", 3);
                await().atMost(Fleet.WAIT).pollInterval(Duration.ofMillis(10))
                        .until(() -> !workerProcesses(zk, prefix).isEmpty());
                first.kill();
                long killedAt = System.nanoTime();
                Map<Long, String> atKill = workerProcesses(zk, prefix);
                Set<String> registeredAtKill = registered(client, prefix);
                assertThat(registeredAtKill).as("registered when the leader was killed").hasSizeLessThan(3);

                // The new leader: all three registered, its scale target runs them, and it decided with 3 current.
                await().atMost(Fleet.WAIT).until(() -> follower.leads());
                long ledAt = System.nanoTime();
                await().atMost(Fleet.WAIT).until(() -> registered(client, prefix).size() == 3);
                long registeredAt = System.nanoTime();
                await().atMost(Fleet.WAIT).until(() -> {
                    JsonNode d = follower.json("/api/scaling").path("decisions");
                    return d.size() == 1 && d.get(0).path("current").asInt() == 3
                            && d.get(0).path("desired").asInt() == 3;
                });
                // A few more intervals: it starts nothing more.
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> workerProcesses(zk, prefix).size() == 3);

                Map<Long, String> running = workerProcesses(zk, prefix);
                Set<String> ids = new TreeSet<>(running.values());
                assertThat(ids).as("one process per id").hasSize(3);
                assertThat(registered(client, prefix)).isEqualTo(ids);
                assertThat(ids).as("the workers the killed leader started are adopted, not replaced")
                        .containsAll(atKill.values());
                assertThat(watch.most.get()).as("worker processes alive at once, ever").isEqualTo(3);
                watch.pidsById.forEach((id, pids) -> assertThat(pids).as("processes that ran %s", id).hasSize(1));
                assertThat(Files.readString(follower.log())).contains("adopted local worker");

                // None orphaned: the new leader owns every one, so stopping it stops them all.
                follower.close();
                await().atMost(Duration.ofSeconds(20)).until(() -> workerProcesses(zk, prefix).isEmpty());

                String summary = String.format("CHAOS controller-scaling-failover: leader SIGKILLed mid scale-out "
                                + "0 -> 3 (%d worker process(es) started, %d registered at the kill); new leader %.2f s "
                                + "after the kill, all 3 registered %.2f s after the kill; %d processes at most, none started "
                                + "twice, none orphaned (ZooKeeper session %d ms)", atKill.size(),
                        registeredAtKill.size(), (ledAt - killedAt) / 1e9, (registeredAt - killedAt) / 1e9,
                        watch.most.get(), SESSION_MILLIS);
                System.out.println(summary);
                Files.writeString(logs.resolve("summary.txt"), summary + "\n");
            } finally {
                first.close();
                if (second != null) {
                    second.close();
                }
                workerProcesses(zk, prefix).keySet().forEach(pid -> ProcessHandle.of(pid).ifPresent(
                        ProcessHandle::destroyForcibly));
            }
        }
    }

    /** The workers named {@code prefix}... that the controller's placement steers to at {@code site}. */
    private static Set<String> steered(ControlControllerProcess controller, String site, String prefix) {
        Set<String> ids = new TreeSet<>();
        for (JsonNode entry : controller.json("/api/status").path("placement")) {
            if (site.equals(entry.path("site").asText())) {
                for (JsonNode member : entry.path("members")) {
                    if (member.path("id").asText().startsWith(prefix)) {
                        ids.add(member.path("id").asText());
                    }
                }
            }
        }
        return ids;
    }

    /** A flow through the gateway held open: bytes sent so far are echoed back and checked. */
    private static final class HeldFlow implements AutoCloseable {
        final Socket socket;
        final Random random;
        long sent;

        HeldFlow(int port, long seed) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            random = new Random(seed);
        }

        /** Sends {@code n} bytes and checks they come back. */
        boolean roundTrip(int n) throws IOException {
            byte[] data = new byte[n];
            random.nextBytes(data);
            socket.getOutputStream().write(data);
            sent += n;
            byte[] back = socket.getInputStream().readNBytes(n);
            return Arrays.equals(back, data);
        }

        /** Half-closes and checks the echo ends cleanly (EOF, no byte more). */
        boolean finish() throws IOException {
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            return in.read() == -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void leaderKilledDuringDrain_newLeaderFinishesIt_flowsEndIntact_workerRemoved() throws Exception {
        Path logs = Path.of("target", "ControllerScalingFailoverChaosIT-drain-logs");
        ControlSupport.resetLogs(logs);
        String prefix = "wanopt-a-";
        List<HeldFlow> flows = new ArrayList<>();
        try (TestingServer zk = new TestingServer(true);
             CuratorFramework client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100));
             ControlTraffic.Echo echo = new ControlTraffic.Echo();
             Fleet fleet = new Fleet(logs, zk);
             ProcessWatch watch = new ProcessWatch(zk.getConnectString(), prefix)) {
            client.start();
            Path policyFile = logs.resolve("policy.json");
            Files.writeString(policyFile, "{\"sites\":[{\"name\":\"a\",\"prefixes\":[\"198.18.1.0/24\"]},"
                    + "{\"name\":\"b\",\"prefixes\":[\"127.0.0.0/8\"]}],\"policies\":[{\"name\":\"to-b\","
                    + "\"ingressSite\":\"a\",\"dstPorts\":[{\"first\":" + echo.port() + ",\"last\":" + echo.port()
                    + "}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}]}");
            Path config = logs.resolve("controller.json");
            Files.writeString(config, "{\"scaling\":{\"enabled\":true,\"intervalMillis\":100,\"target\":\"local\","
                    + "\"rules\":[{\"role\":\"wanopt\",\"site\":\"a\",\"minReplicas\":2,\"maxReplicas\":2,"
                    + "\"maxStep\":2,\"drainTimeoutSeconds\":60}]}}");
            Path tokens = logs.resolve("admin-tokens");
            Files.writeString(tokens, "ops:operator:" + TOKEN + "\n");
            ControlControllerProcess first = ControlControllerProcess.start("controller-1", zk.getConnectString(),
                    Ports.free(), policyFile, 20_000, null, logs, args("d1", tokens, config));
            ControlControllerProcess second = null;
            try {
                await().atMost(Fleet.WAIT).until(() -> first.leads());
                ControlControllerProcess follower = ControlControllerProcess.start("controller-2",
                        zk.getConnectString(), Ports.free(), policyFile, 20_000, null, logs, args("d2", tokens, config));
                second = follower;
                int gatewayPort = Ports.free();
                fleet.startWorker("gw-a", "gateway", "a", "--insecure-plaintext", "--listen",
                        gatewayPort + "=127.0.0.1:" + echo.port());
                fleet.startWorker("wan-b1", "wanopt", "b", "--insecure-plaintext");
                await().atMost(Fleet.WAIT).until(() -> "d1".equals(follower.json("/api/status")
                        .path("leader").path("name").asText()));
                await().atMost(Fleet.WAIT).until(() -> registered(client, prefix).size() == 2);
                // Steering in force before any flow: both wanopt workers of site a in the leader's placement and
                // every worker holding it. Before that the gateway forwards straight to the echo server (no table
                // yet), then has a table whose policy has no member yet and resets new flows (fail-fast): an echo
                // seen then says nothing.
                await().atMost(Fleet.WAIT).until(() -> steered(first, "a", prefix).size() == 2
                        && first.json("/api/fleet").path("converged").asBoolean(false));
                ControlSupport.untilEchoed(gatewayPort, 5);

                // Flows held open until both wanopt workers at site a carry at least one.
                long seed = 1;
                boolean both = false;
                while (!both) {
                    assertThat(flows).as("flows needed to reach both workers").hasSizeLessThan(24);
                    HeldFlow f = new HeldFlow(gatewayPort, seed++);
                    flows.add(f);
                    assertThat(f.roundTrip(4096)).as("flow %d echoed", flows.size()).isTrue();
                    if (flows.size() >= 4) {
                        try {
                            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
                                    .until(() -> activeFlows(first, prefix), m -> m.size() == 2 && !m.containsValue(0));
                            both = true;
                        } catch (org.awaitility.core.ConditionTimeoutException e) {
                            // the flows so far all hash to one worker: one more
                        }
                    }
                }
                Set<String> before = new TreeSet<>(workerProcesses(zk, prefix).values());

                // The scale-in 2 -> 1: the kill lands once the leader has recorded and started the drain.
                pin(first, "wanopt", "a", 1);
                String victim = await().atMost(Fleet.WAIT).pollInterval(Duration.ofMillis(20))
                        .until(() -> first.json("/api/scaling").path("draining"), d -> d.size() == 1)
                        .get(0).asText();
                first.kill();
                long killedAt = System.nanoTime();

                // The new leader takes the drain over (the victim left ZooKeeper: it knows it from the intent).
                await().atMost(Fleet.WAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
                    JsonNode d = follower.json("/api/scaling").path("draining");
                    return d.size() == 1 && d.get(0).asText().equals(victim);
                });
                long tookOverAt = System.nanoTime();
                assertThat(workerProcesses(zk, prefix).values()).as("the victim drains, it is not stopped yet")
                        .contains(victim);

                // Traffic through the draining worker (and the other) goes on, then ends cleanly.
                for (HeldFlow f : flows) {
                    assertThat(f.roundTrip(16 * 1024)).as("flow echoed after the takeover").isTrue();
                    assertThat(f.finish()).as("flow ended cleanly").isTrue();
                    f.close();
                }
                long flowsEndedAt = System.nanoTime();

                // The drain completes under the new leader: the victim is stopped, nothing else changes.
                await().atMost(Fleet.WAIT).until(() -> !workerProcesses(zk, prefix).containsValue(victim));
                long removedAt = System.nanoTime();
                await().atMost(Fleet.WAIT).until(() -> follower.json("/api/scaling").path("draining")
                        .isEmpty());
                Set<String> after = new TreeSet<>(workerProcesses(zk, prefix).values());
                Set<String> expected = new TreeSet<>(before);
                expected.remove(victim);
                assertThat(after).as("wanopt workers at site a after the scale-in").isEqualTo(expected);
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> new TreeSet<>(workerProcesses(zk, prefix).values()).equals(expected));
                assertThat(watch.most.get()).as("wanopt workers at site a alive at once, ever").isEqualTo(2);
                watch.pidsById.forEach((id, pids) -> assertThat(pids).as("processes that ran %s", id).hasSize(1));
                // The intent is cleared after the scale-in, once the victim is gone from the target's view.
                await().atMost(Fleet.WAIT).untilAsserted(() -> {
                    String intent = new String(client.getData().forPath(FleetPaths.CONTROLLER_SCALING_PATH
                            + "/intent"), StandardCharsets.UTF_8);
                    JsonNode role = JSON.readTree(intent).path("roles").path("wanopt@a");
                    assertThat(role.path("replicas").asInt()).as(intent).isEqualTo(1);
                    assertThat(role.path("drain").isNull()).as(intent).isTrue();
                });
                assertThat(Files.readString(follower.log())).contains("taking over the drain of [" + victim + "]");
                ControlSupport.untilEchoed(gatewayPort, 3);

                String summary = String.format("CHAOS controller-scaling-failover: leader SIGKILLed during the drain "
                                + "of %s (%d flows held through site a); new leader took the drain over %.2f s after "
                                + "the kill, flows ended intact %.2f s after the kill, victim removed %.2f s after "
                                + "the flows ended (ZooKeeper session %d ms)", victim, flows.size(),
                        (tookOverAt - killedAt) / 1e9, (flowsEndedAt - killedAt) / 1e9,
                        (removedAt - flowsEndedAt) / 1e9, SESSION_MILLIS);
                System.out.println(summary);
                Files.writeString(logs.resolve("summary.txt"), summary + "\n");
            } finally {
                for (HeldFlow f : flows) {
                    f.close();
                }
                first.close();
                if (second != null) {
                    second.close();
                }
                workerProcesses(zk, prefix).keySet().forEach(pid -> ProcessHandle.of(pid).ifPresent(
                        ProcessHandle::destroyForcibly));
            }
        }
    }

    /** Active flows of each worker of {@code prefix} as {@code controller} sees them. */
    private Map<String, Integer> activeFlows(ControlControllerProcess controller, String prefix) {
        Map<String, Integer> flows = new TreeMap<>();
        for (JsonNode w : controller.json("/api/fleet").path("workers")) {
            if (w.path("id").asText().startsWith(prefix)) {
                flows.put(w.path("id").asText(), w.path("active_flows").asInt());
            }
        }
        return flows;
    }
}
