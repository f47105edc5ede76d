package io.slipstream.e2e.sdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.local.LocalWorkerProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flow steering on a real switch (issue 6). An Open vSwitch bridge (userspace datapath) joins five
 * network namespaces: a client, two site-a wanopt workers (w1, w2, each with a TPROXY rule sending
 * TCP to the service port to its transparent listener), and a server namespace holding the echo
 * server and the far-site (b) wanopt worker. This host sits on the bridge's local port, with the
 * ZooKeeper the workers register in. The ONOS app's component runs in this JVM against ONOS's
 * test doubles, with a test-only southbound that applies the FlowRules and SELECT groups it produces
 * to the bridge through {@code ovs-ofctl} (OpenFlow 1.3); a NORMAL rule at priority 0 stands in for
 * ONOS's reactive forwarding. The workers are real worker JVMs started in their namespaces.
 *
 * <p>It shows: a TCP flow from the client to the server passes through a worker (that worker's
 * {@code slipstream_wanopt_bytes_in} grows by the flow, and the server sees the connection come from
 * the far-site worker, not from the client); kill -9 of that worker re-steers new flows to the other
 * within one second (the group on the switch is rewritten when the fleet core sees the worker's
 * control stream break); deactivating the app removes every rule and group it installed.
 */
class OvsSteeringIT {

    private static final String HOST_IP = "198.18.0.254";
    private static final String CLIENT_IP = "198.18.0.1";
    private static final String W1_IP = "198.18.0.11";
    private static final String W2_IP = "198.18.0.12";
    private static final String SERVER_IP = "198.18.0.100";
    private static final int SERVICE_PORT = 5001;
    private static final int TPROXY_PORT = 9000;
    private static final int DATA_PORT = 7000;
    private static final int METRICS_PORT = 9100;
    private static final long DATAPATH_ID = 0x5a;
    private static final int FLOW_BYTES = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(45);

    private final List<Node> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    @Timeout(value = 115, unit = TimeUnit.SECONDS)
    void app_steersTcpThroughAWorker_andAroundItsDeathWithinOneSecond(@TempDir Path tmp) throws Exception {
        Optional<String> unavailable = OvsSwitch.unavailable();
        assumeTrue(unavailable.isEmpty(), () -> "OvsSteeringIT skipped: " + unavailable.orElse(""));
        try (OvsSwitch ovs = OvsSwitch.start(tmp.resolve("ovs"), DATAPATH_ID, HOST_IP + "/24")) {
            OvsSwitch.Host client = ovs.addHost("client", CLIENT_IP + "/24", 1);
            OvsSwitch.Host w1 = ovs.addHost("w1", W1_IP + "/24", 2);
            OvsSwitch.Host w2 = ovs.addHost("w2", W2_IP + "/24", 3);
            OvsSwitch.Host server = ovs.addHost("server", SERVER_IP + "/24", 4);
            ovs.transparentProxy(w1, SERVICE_PORT, TPROXY_PORT);
            ovs.transparentProxy(w2, SERVICE_PORT, TPROXY_PORT);
            // ONOS's reactive forwarding, standing in: what the app does not steer is switched normally.
            ovs.ofctl("add-flow", "table=0,priority=0,actions=NORMAL");

            InstanceSpec spec = new InstanceSpec(null, -1, -1, -1, true, -1, -1, -1, null, HOST_IP);
            try (TestingServer zk = new TestingServer(spec, true)) {
                String zkConnect = zk.getConnectString();  // HOST_IP:port: on the bridge, reachable from the namespaces
                Node echo = start("echo", server, NamespaceNode.class.getName(), "echo", SERVER_IP,
                        String.valueOf(SERVICE_PORT));
                echo.await(l -> l.startsWith("READY"), 30);
                start("far-b", server, LocalWorkerProcess.WORKER_MAIN, worker("far-b", "b", SERVER_IP, zkConnect));
                Node n1 = start("w1", w1, LocalWorkerProcess.WORKER_MAIN, worker("w1", "a", W1_IP, zkConnect));
                Node n2 = start("w2", w2, LocalWorkerProcess.WORKER_MAIN, worker("w2", "a", W2_IP, zkConnect));

                SwitchView view = new SwitchView(ovs);
                OvsFlowRuleService flows = new OvsFlowRuleService(ovs, view.deviceId());
                OvsGroupService groups = new OvsGroupService(ovs, view.deviceId(), flows.log());
                SwitchBackedOnos onos = SwitchBackedOnos.activate(flows, groups, view.hostService(),
                        view.deviceService(), netcfg(view, zkConnect), zkConnect);
                try {
                    // Both site-a workers serving, both in the group on the switch.
                    awaitGroupBuckets(ovs, w1, w2);
                    System.out.println("OvsSteeringIT: switch programmed:\n" + ovs.ofctl("dump-groups")
                            + ovs.ofctl("dump-flows", "--no-stats"));
                    // Serving and configured (the site-a workers know their far-site peer).
                    Awaitility.await("w1, w2 and far-b serving and configured").atMost(WAIT)
                            .pollInterval(Duration.ofMillis(100))
                            .until(() -> onos.service().workers().stream().filter(w -> w.health() == Health.SERVING
                                    && !w.configDigest().isEmpty()).map(w -> w.id()).collect(Collectors.toSet())
                                    .containsAll(List.of("w1", "w2", "far-b")));

                    Node clientNode = start("client", client, NamespaceNode.class.getName(), "client", SERVER_IP,
                            String.valueOf(SERVICE_PORT));
                    clientNode.await(l -> l.startsWith("READY"), 30);

                    // One flow: through which worker?
                    Map<String, Long> before = Map.of("w1", bytesIn(W1_IP), "w2", bytesIn(W2_IP));
                    // The first one may come before the worker's tunnel to its peer is up: a few tries.
                    List<String> tries = new ArrayList<>();
                    String flow = null;
                    while (flow == null && tries.size() < 20) {
                        String r = clientNode.ask("flow " + FLOW_BYTES, 20);
                        tries.add(r);
                        flow = r.startsWith("FLOW ok ") ? r : null;
                    }
                    assertThat(flow).as("a first flow; tries " + tries).isNotNull();
                    String accept = echo.lines.stream().filter(l -> l.startsWith("ACCEPT")).reduce((x, y) -> y)
                            .orElseThrow(() -> new AssertionError("the echo server accepted nothing"));
                    assertThat(accept).as("the server sees the far-site worker (beside it), not the client")
                            .matches("ACCEPT /" + SERVER_IP.replace(".", "\\.") + ":" + SERVICE_PORT + " /"
                                    + SERVER_IP.replace(".", "\\.") + ":\\d+");
                    String via = awaitCarried(before, FLOW_BYTES);
                    String other = via.equals("w1") ? "w2" : "w1";
                    System.out.println("OvsSteeringIT: " + flow + " carried by " + via + " (" + accept + "), after "
                            + (tries.size() - 1) + " failed tries");

                    // kill -9 of that worker: new flows go through the other one.
                    Node victim = via.equals("w1") ? n1 : n2;
                    OvsSwitch.Host survivor = via.equals("w1") ? w2 : w1;
                    int logMark = flows.log().size();
                    long killedNanos = System.nanoTime();
                    long killedMillis = System.currentTimeMillis();
                    victim.process.destroyForcibly();
                    long survivorBefore = bytesIn(survivor.ip());
                    // New flows, one after another, for two seconds. Each new connection hashes to a bucket:
                    // until the group changes, those that hash to the dead worker fail; after, none may.
                    List<String> attempts = new ArrayList<>();
                    while (System.nanoTime() - killedNanos < TimeUnit.SECONDS.toNanos(2)) {
                        attempts.add(clientNode.ask("flow 65536", 15));
                    }
                    OvsFlowRuleService.Applied regroup = flows.log().subList(logMark, flows.log().size()).stream()
                            .filter(a -> a.operation().equals("mod-group") || a.operation().equals("add-group"))
                            .findFirst().orElseThrow(() -> new AssertionError("no group change after the kill: "
                                    + flows.log()));
                    double groupMillis = (regroup.nanoTime() - killedNanos) / 1e6;
                    // Flows started after the group changed must all pass (through the survivor); earlier ones
                    // that hashed to the dead worker fail (reset, or no answer while it was dying).
                    long regroupedAt = killedMillis + Math.round(Math.ceil(groupMillis));
                    List<String> beforeChange = new ArrayList<>();
                    List<String> after = new ArrayList<>();
                    for (String attempt : attempts) {
                        (Long.parseLong(attempt.split(" ")[2]) >= regroupedAt ? after : beforeChange).add(attempt);
                    }
                    String lastFailedStart = attempts.stream().filter(l -> !l.startsWith("FLOW ok "))
                            .mapToLong(l -> Long.parseLong(l.split(" ")[2]) - killedMillis).max()
                            .stream().mapToObj(ms -> "the last failed one started " + ms + " ms after the kill")
                            .findFirst().orElse("none failed");
                    System.out.printf("OvsSteeringIT: RESTEER kill -9 of %s -> group rewritten on the switch after"
                                    + " %.1f ms (%s); new flows in the 2 s after the kill: %d started before the"
                                    + " change (%d failed), %d after it (%d failed); %s%n", via, groupMillis,
                            regroup.spec(), beforeChange.size(),
                            beforeChange.stream().filter(l -> !l.startsWith("FLOW ok ")).count(), after.size(),
                            after.stream().filter(l -> !l.startsWith("FLOW ok ")).count(), lastFailedStart);
                    assertThat(regroup.spec()).contains(survivor.mac().toString())
                            .doesNotContain(victim == n1 ? w1.mac().toString() : w2.mac().toString());
                    assertThat(groupMillis).as("kill -> group without the dead worker, ms").isLessThan(1000);
                    assertThat(after).as("new flows started after the group changed; all " + attempts)
                            .hasSizeGreaterThan(2).allMatch(l -> l.startsWith("FLOW ok "));
                    // Carried by the survivor (its counters), and the server again sees the far-site worker.
                    Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                            .until(() -> bytesIn(survivor.ip()) >= survivorBefore + 65536L * after.size());
                    String lastAccept = echo.lines.stream().filter(l -> l.startsWith("ACCEPT"))
                            .reduce((a, b) -> b).orElseThrow();
                    assertThat(lastAccept).as("the server sees the far-site worker again")
                            .startsWith("ACCEPT /" + SERVER_IP + ":" + SERVICE_PORT + " /" + SERVER_IP + ":");

                    // Deactivate: every rule and group the app installed leaves the switch.
                    onos.close();
                    String flowsLeft = ovs.ofctl("dump-flows", "--no-stats");
                    String groupsLeft = ovs.ofctl("dump-groups");
                    assertThat(flowsLeft.lines().filter(l -> l.contains("actions="))).as(flowsLeft)
                            .containsExactly(" priority=0 actions=NORMAL");
                    assertThat(groupsLeft).as(groupsLeft).doesNotContain("group_id=");
                } finally {
                    onos.close();  // idempotent: a failure above still deactivates the app
                }
            } catch (Throwable t) {
                for (Node n : nodes) {
                    System.err.println("OvsSteeringIT: " + n.describe());
                }
                throw t;
            } finally {
                stopNodes();
            }
        }
    }

    private static List<String> worker(String id, String site, String ip, String zk) {
        List<String> args = new ArrayList<>(List.of("--id", id, "--role", "wanopt", "--site", site,
                "--zookeeper", zk, "--zk-session-timeout-ms", "4000", "--bind", ip,
                "--data-port", String.valueOf(DATA_PORT), "--metrics-port", String.valueOf(METRICS_PORT),
                // The ONOS app here links to the workers in plaintext (development configuration).
                "--insecure-plaintext"));
        if (site.equals("a")) {
            args.addAll(List.of("--transparent", TPROXY_PORT + "@b"));
        }
        return args;
    }

    /** The app's network configuration: the bridge is site a's edge; the policy steers client -> server:5001. */
    private static JsonNode netcfg(SwitchView view, String zk) throws IOException {
        return new ObjectMapper().readTree("{\"zookeeper\":\"" + zk + "\","
                + "\"edgeDevices\":[{\"device\":\"" + view.deviceId() + "\",\"site\":\"a\"}],"
                + "\"policy\":{\"policies\":[{\"name\":\"bulk\",\"srcPrefixes\":[\"" + CLIENT_IP + "/32\"],"
                + "\"dstPrefixes\":[\"" + SERVER_IP + "/32\"],\"protocol\":\"PROTOCOL_TCP\","
                + "\"dstPorts\":[{\"first\":" + SERVICE_PORT + ",\"last\":" + SERVICE_PORT + "}],"
                + "\"chain\":\"SERVICE_CHAIN_WANOPT\"}],\"bucketCount\":64}}");
    }

    /** Waits until the switch's group holds a bucket for each given worker (by MAC) and no other. */
    private static void awaitGroupBuckets(OvsSwitch ovs, OvsSwitch.Host... workers) {
        try {
            Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
                String groups = ovs.ofctl("dump-groups");
                long buckets = groups.split("bucket=", -1).length - 1;
                for (OvsSwitch.Host w : workers) {
                    if (!groups.toLowerCase().contains(w.mac().toString().toLowerCase())) {
                        return false;
                    }
                }
                return buckets == workers.length;
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the switch never got a group over " + List.of(workers) + ": "
                    + ovs.ofctl("dump-groups") + ovs.ofctl("dump-flows"), e);
        }
    }

    /** Which site-a worker's input counter grew by at least {@code bytes}. */
    private String awaitCarried(Map<String, Long> before, long bytes) {
        return Awaitility.await("a worker's slipstream_wanopt_bytes_in grows by the flow")
                .atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100)).until(() -> {
                    if (bytesIn(W1_IP) - before.get("w1") >= bytes) {
                        return "w1";
                    }
                    if (bytesIn(W2_IP) - before.get("w2") >= bytes) {
                        return "w2";
                    }
                    return null;
                }, Objects::nonNull);
    }

    /** Sum of a worker's {@code slipstream_wanopt_bytes_in*} samples, from its /metrics; 0 if unreachable. */
    private long bytesIn(String ip) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + ip + ":" + METRICS_PORT
                    + "/metrics")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return (long) r.body().lines().filter(l -> l.startsWith("slipstream_wanopt_bytes_in"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private Node start(String name, OvsSwitch.Host ns, String main, String... args) throws IOException {
        return start(name, ns, main, List.of(args));
    }

    /** A JVM on this test's classpath, inside a namespace; stdout lines kept, stderr to a log file. */
    private Node start(String name, OvsSwitch.Host ns, String main, List<String> args) throws IOException {
        Path log = Files.createTempFile("ovs-steering-" + name, ".log");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns.namespace(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(LocalWorkerProcess.DEFAULT_JVM_FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        command.addAll(args);
        Process p = Commands.builder(command).redirectError(log.toFile()).start();
        Node node = new Node(name, p, log);
        nodes.add(node);
        return node;
    }

    private void stopNodes() {
        boolean interrupted = Thread.interrupted();  // a timeout: stop them all the same
        for (Node n : nodes) {
            try {
                n.process.getOutputStream().close();
            } catch (IOException ignored) {
                // gone
            }
            n.process.destroyForcibly();
        }
        for (Node n : nodes) {
            try {
                n.process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
            try {
                Files.deleteIfExists(n.log);
            } catch (IOException ignored) {
                // best effort
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A process in a namespace: its stdout lines; {@link #ask} writes a command and waits for the next line. */
    private static final class Node {
        final String name;
        final Process process;
        final Path log;
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final BlockingQueue<String> fresh = new LinkedBlockingQueue<>();

        Node(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                        fresh.add(line);
                    }
                } catch (IOException ignored) {
                    // ended
                }
            }, "node-" + name);
            reader.setDaemon(true);
            reader.start();
        }

        String ask(String command, int seconds) throws Exception {
            fresh.clear();
            OutputStream out = process.getOutputStream();
            out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String line = fresh.poll(seconds, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("no answer to '" + command + "' within " + seconds + " s from " + describe());
            }
            return line;
        }

        int count(Predicate<String> p) {
            return (int) lines.stream().filter(p).count();
        }

        String await(Predicate<String> condition, int seconds) {
            return await(condition, 0, seconds);
        }

        /** The first line matching after skipping {@code skip} earlier matches. */
        String await(Predicate<String> condition, int skip, int seconds) {
            try {
                return Awaitility.await().atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofMillis(20))
                        .until(() -> lines.stream().filter(condition).skip(skip).findFirst().orElse(null),
                                Objects::nonNull);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("timed out after " + seconds + " s waiting on " + describe(), e);
            }
        }

        String describe() {
            String err;
            try {
                List<String> all = Files.readAllLines(log);
                err = String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
            } catch (IOException e) {
                err = e.toString();
            }
            return name + " (alive " + process.isAlive() + "), stdout " + lines.stream().limit(20)
                    .collect(Collectors.toList()) + ", log tail:\n" + err;
        }
    }
}
