package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.slipstream.contract.FleetPaths;
import io.slipstream.e2e.Fleet;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.WorkerControlGrpc;
import io.slipstream.tools.net.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * ZooKeeper stopped for 30 s in the middle of a policy PUT (issue 23), the standalone controller as its own JVM with
 * two wanopt workers. To be sure PUTs are in the middle when ZooKeeper goes, three operators send PUTs back to back,
 * each with the ETag of the version it last saw (a 412 gives it the current one), each PUT a different policy, so
 * that one of them is nearly always reading or writing ZooKeeper; ZooKeeper is stopped once ten were taken. The
 * operators go on, once a second each, all through the outage and after it.
 *
 * <p>Asserted: every PUT is answered within a few seconds, never left hanging: 200, or 503 with {@code Retry-After}
 * and a message naming ZooKeeper that says nothing was written (or, for a write cut off by the connection loss,
 * that its outcome is unknown); once ZooKeeper is back, ZooKeeper's record, the controller's {@code GET
 * /api/policy} and its history hold every version answered 200 with its policy, whole, without gaps, and no other
 * version but of a PUT whose outcome was unknown, so nothing of a PUT told "nothing was written"; the controller
 * leads again, a PUT
 * after the outage is taken, and the workers run it. Prints {@code CHAOS zookeeper-policy-put}; figures in
 * docs/chaos.md.
 */
@Timeout(150)
class ZooKeeperPolicyPutChaosIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "zk-policy-put-operator-token-0123456789";
    private static final int SESSION_MILLIS = 4000;
    /** How long a PUT may take to be answered, ZooKeeper up or not. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(6);
    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final int OPERATORS = 3;
    private static final String STATE_NODE = FleetPaths.CONTROLLER_STATE_PATH + "/policy";
    private static final String HISTORY_DIR = FleetPaths.CONTROLLER_HISTORY_PATH + "/policy";
    private static final List<String> WORKERS = List.of("wan-a1", "wan-b1");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** One PUT and its answer. */
    private record Put(String name, long ifMatch, long sentNanos, long answeredNanos, int status, String body,
                       String retryAfter, String etag) {

        long etagVersion() {
            return ControlSupport.etagVersion(etag);
        }

        double seconds() {
            return (answeredNanos - sentNanos) / 1e9;
        }

        /** The version a 200 answer names. */
        long version() {
            try {
                return JSON.readTree(body).path("version").asLong();
            } catch (java.io.IOException e) {
                throw new AssertionError("answer to " + name + " is not JSON: " + body, e);
            }
        }

        boolean unknownOutcome() {
            return status == 503 && body.contains("outcome is unknown");
        }
    }

    private Put put(String base, long ifMatch, String name, int port) {
        long sent = System.nanoTime();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/policy"))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + TOKEN)
                    .header("If-Match", "\"" + ifMatch + "\"").PUT(HttpRequest.BodyPublishers.ofString(
                            ControlSupport.namedPolicy(name, port))).build(), HttpResponse.BodyHandlers.ofString());
            return new Put(name, ifMatch, sent, System.nanoTime(), r.statusCode(), r.body(),
                    r.headers().firstValue("Retry-After").orElse(""), r.headers().firstValue("ETag").orElse("\"0\""));
        } catch (Exception e) {
            return new Put(name, ifMatch, sent, System.nanoTime(), -1, e.toString(), "", "\"0\"");
        }
    }

    @Test
    void zooKeeperStopped30sDuringPolicyPuts_clear503_nothingHalfWritten_putAfterRecoveryWorks() throws Exception {
        long testStarted = System.nanoTime();
        Path logs = Path.of("target", "ZooKeeperPolicyPutChaosIT-logs");
        ControlSupport.resetLogs(logs);
        List<ManagedChannel> channels = new ArrayList<>();
        try (TestingServer zk = new TestingServer(true); Fleet fleet = new Fleet(logs, zk)) {
            Path policyFile = logs.resolve("policy.json");
            Files.writeString(policyFile, ControlSupport.namedPolicy("values", 445));
            Path tokens = logs.resolve("admin-tokens");
            Files.writeString(tokens, "ops:operator:" + TOKEN + "\n");
            try (ControlControllerProcess controller = ControlControllerProcess.start("controller", zk.getConnectString(),
                    Ports.free(), policyFile, 20_000, null, logs, List.of("--name", "c1", "--zk-session-timeout-ms",
                            Integer.toString(SESSION_MILLIS), "--admin-tokens-file", tokens.toString()))) {
                await().atMost(Fleet.WAIT).until(controller::leads);
                fleet.startWorker("wan-a1", "wanopt", "a", "--insecure-plaintext");
                fleet.startWorker("wan-b1", "wanopt", "b", "--insecure-plaintext");
                await().atMost(Fleet.WAIT).until(() -> controller.json("/api/fleet").path("converged").asBoolean(false)
                        && controller.json("/api/fleet").path("workers").size() == WORKERS.size());
                Map<String, ManagedChannel> byWorker = new TreeMap<>();
                for (JsonNode w : controller.json("/api/fleet").path("workers")) {
                    ManagedChannel ch = NettyChannelBuilder.forTarget(w.path("control_endpoint").asText())
                            .usePlaintext().build();
                    channels.add(ch);
                    byWorker.put(w.path("id").asText(), ch);
                }

                // Three operators: PUTs back to back while ZooKeeper is up (so that some PUT is always talking to
                // ZooKeeper), then one a second each.
                List<Put> puts = new CopyOnWriteArrayList<>();
                AtomicLong taken = new AtomicLong();
                AtomicBoolean paced = new AtomicBoolean();
                AtomicBoolean stop = new AtomicBoolean();
                List<CompletableFuture<Void>> operators = new ArrayList<>();
                for (int o = 1; o <= OPERATORS; o++) {
                    String prefix = "o" + o + "-";
                    int ports = 1000 * o;
                    operators.add(CompletableFuture.runAsync(
                            () -> operate(controller.baseUrl(), prefix, ports, puts, taken, paced, stop)));
                }
                CompletableFuture<Void> all = CompletableFuture.allOf(operators.toArray(CompletableFuture[]::new));
                await().atMost(Fleet.WAIT).until(() -> taken.get() >= 10 || all.isDone());

                long stoppingAt = System.nanoTime();
                zk.stop();
                long stoppedAt = System.nanoTime();
                paced.set(true);
                // ZooKeeper stays away for the whole outage; the controller process lives on.
                await().atMost(OUTAGE.plusSeconds(10)).pollDelay(OUTAGE.minusNanos(System.nanoTime() - stoppedAt))
                        .until(controller::isAlive);
                zk.restart();
                long restartedAt = System.nanoTime();
                await().atMost(Fleet.WAIT).until(() -> all.isDone() || puts.stream()
                        .anyMatch(p -> p.sentNanos() > restartedAt && p.status() == 200));
                stop.set(true);
                all.get(ANSWER_WITHIN.toSeconds() + 5, TimeUnit.SECONDS);
                try (java.io.Writer w = Files.newBufferedWriter(logs.resolve("puts.txt"))) {
                    for (Put p : puts) {
                        w.write(String.format("%+.3f s after the stop began: %s %d in %.3f s %s%n",
                                (p.sentNanos() - stoppingAt) / 1e9, p.name(), p.status(), p.seconds(),
                                p.body().replace('\n', ' ')));
                    }
                }

                // Every PUT answered promptly and clearly.
                for (Put p : puts) {
                    assertThat(p.seconds()).as("answer time of %s", p).isLessThan(ANSWER_WITHIN.toSeconds());
                    assertThat(p.status()).as("%s", p).isIn(200, 412, 503);
                    if (p.status() == 503) {
                        assertThat(p.retryAfter()).as("Retry-After of %s", p).isNotEmpty();
                        assertThat(p.body()).as("%s", p).contains("ZooKeeper")
                                .containsAnyOf("nothing was written", "nothing was changed", "outcome is unknown");
                    }
                }
                long unknown = puts.stream().filter(Put::unknownOutcome).count();
                // In flight while ZooKeeper was being stopped (sent before the stop was done, answered after it began).
                List<Put> inFlight = puts.stream()
                        .filter(p -> p.sentNanos() < stoppedAt && p.answeredNanos() > stoppingAt).toList();
                assertThat(inFlight).as("PUTs in flight while ZooKeeper stopped").isNotEmpty();
                List<Put> during = puts.stream().filter(p -> p.sentNanos() > stoppedAt && p.sentNanos() < restartedAt)
                        .toList();
                assertThat(during).as("PUTs during the outage").hasSizeGreaterThanOrEqualTo(20 * OPERATORS).allMatch(p -> p.status() == 503);
                Put firstAfter = puts.stream().filter(p -> p.sentNanos() > restartedAt && p.status() == 200).findFirst()
                        .orElseThrow(() -> new AssertionError("no PUT taken after the outage: " + puts));

                // Nothing half-written: ZooKeeper holds every version answered 200 with its policy, whole and in
                // order; each other version is a PUT whose outcome was unknown; nothing of a PUT told nothing was
                // written.
                TreeMap<Long, String> history = new TreeMap<>();
                long current;
                try (CuratorFramework observer = CuratorFrameworkFactory.newClient(zk.getConnectString(),
                        new RetryOneTime(100))) {
                    observer.start();
                    for (String child : observer.getChildren().forPath(HISTORY_DIR)) {
                        JsonNode r = JSON.readTree(observer.getData().forPath(HISTORY_DIR + "/" + child));
                        history.put(r.path("version").asLong(), ControlSupport.policyName(r.path("content").asText()));
                    }
                    JsonNode record = JSON.readTree(observer.getData().forPath(STATE_NODE));
                    current = record.path("version").asLong();
                    assertThat(history.keySet()).as("versions, without gaps").containsExactlyElementsOf(
                            java.util.stream.LongStream.rangeClosed(1, current).boxed().toList());
                    assertThat(history.get(current)).isEqualTo(ControlSupport.policyName(record.path("content").asText()));
                    assertThat(history.get(1L)).isEqualTo("values");
                }
                Map<String, Put> byName = new TreeMap<>();
                puts.forEach(p -> byName.put(p.name(), p));
                for (Put p : puts) {
                    if (p.status() == 200) {
                        assertThat(history.get(p.version())).as("version %d, acknowledged to %s", p.version(), p.name())
                                .isEqualTo(p.name());
                    }
                }
                long unknownKept = 0;
                for (Map.Entry<Long, String> v : history.tailMap(2L).entrySet()) {
                    Put p = byName.get(v.getValue());
                    assertThat(p).as("version %d (%s) was sent", v.getKey(), v.getValue()).isNotNull();
                    if (p.status() != 200) {
                        assertThat(p.unknownOutcome()).as("version %d kept for %s", v.getKey(), p).isTrue();
                        unknownKept++;
                    }
                }
                long kept = current;
                HttpResponse<String> served = get(controller.baseUrl() + "/api/policy");
                assertThat(ControlSupport.etagVersion(served.headers().firstValue("ETag").orElseThrow())).isEqualTo(kept);
                assertThat(ControlSupport.policyName(served.body())).isEqualTo(history.get(kept));
                assertThat(JSON.readTree(get(controller.baseUrl() + "/api/policy/history").body()).path("current")
                        .asLong()).isEqualTo(kept);
                assertThat(controller.leads()).isTrue();
                String last = history.get(kept);
                for (ManagedChannel ch : byWorker.values()) {
                    await().atMost(Fleet.WAIT).until(() -> WorkerControlGrpc.newBlockingStub(ch)
                            .withDeadlineAfter(2, TimeUnit.SECONDS).getStatus(GetStatusRequest.getDefaultInstance())
                            .getConfig().getPoliciesList().stream().map(FlowPolicy::getName).toList()
                            .equals(List.of(last)));
                }

                double maxDuring = during.stream().mapToDouble(Put::seconds).max().orElse(0);
                String summary = String.format("CHAOS zookeeper-policy-put: ZooKeeper stopped %d s while %d operators "
                                + "PUT back to back (%d taken before; the stop took %.2f s); in flight during the stop: %s; %d PUTs during the "
                                + "outage: all 503 in at most %.3f s (%s); first PUT taken %.2f s after the restart; "
                                + "versions kept %d (%d acknowledged, %d of %d of unknown outcome); test %.0f s",
                        OUTAGE.toSeconds(), OPERATORS, puts.stream().filter(p -> p.status() == 200
                                && p.answeredNanos() < stoppingAt).count(), (stoppedAt - stoppingAt) / 1e9,
                        inFlight.stream().map(p -> p.status() + " in " + String.format("%.3f s", p.seconds())
                                + (p.status() == 503 ? " (" + p.body().replace('\n', ' ') + ")" : "")).toList(),
                        during.size(), maxDuring, during.get(during.size() - 1).body().replace('\n', ' '),
                        (firstAfter.answeredNanos() - restartedAt) / 1e9, kept,
                        puts.stream().filter(p -> p.status() == 200).count(), unknownKept, unknown,
                        (System.nanoTime() - testStarted) / 1e9);
                System.out.println(summary);
                Files.writeString(logs.resolve("summary.txt"), summary + "\n");
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /** PUTs until {@code stop}, back to back until {@code paced}, then one a second; a 412 takes the ETag it names. */
    private void operate(String base, String prefix, int ports, List<Put> puts, AtomicLong taken, AtomicBoolean paced,
                         AtomicBoolean stop) {
        long known = ControlSupport.etagVersion(get(base + "/api/policy").headers().firstValue("ETag").orElseThrow());
        for (int n = 1; !stop.get(); n++) {
            Put p = put(base, known, prefix + n, ports + n % 1000);
            puts.add(p);
            if (p.status() == 200) {
                known = p.version();
                taken.incrementAndGet();
            } else if (p.status() == 412) {
                known = p.etagVersion();
            }
            if (paced.get()) {
                await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
            }
        }
    }

    private HttpResponse<String> get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
