package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.slipstream.contract.FleetPaths;
import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The leader of two standalone controllers (their own JVMs, one ZooKeeper) is SIGKILLed in the middle of a policy
 * change ({@code PUT /api/policy} with {@code If-Match}), four times, each time at another point of the PUT (issue
 * 23). No hook in the product: the test picks the moment from what it can see from outside.
 *
 * <ol>
 *   <li><b>sent</b>: right after the request is handed to the HTTP client (the leader may not have read it yet);
 *   <li><b>committed</b>: the moment the test's own ZooKeeper watch on the policy record fires (the transaction is
 *       in; the leader is about to answer and push, or pushing);
 *   <li><b>half-way</b>: after half the time the previous round's PUT took from send to that commit (the leader,
 *       as fresh a JVM as that one, is reading the request, parsing or writing);
 *   <li><b>pushed</b>: the moment a worker reports (GetStatus, polled without pause) the new policy (the push is
 *       under way; the answer may or may not have left).
 * </ol>
 *
 * After each kill, before the follower takes over (the dead leader's 4 s session), the test notes what ZooKeeper
 * holds and what each worker runs: which window was hit. Asserted every round: the policy the new leader serves
 * ({@code GET /api/policy}), its ETag, the history it lists and ZooKeeper's own nodes all say one version, the old
 * or the new one, whole (the new one if the dead leader answered 200 or the commit was seen); every worker ends up
 * running exactly that version's policies; a PUT with the ETag the operator had is taken (nothing was committed)
 * or refused with 412 naming the version in force (it was), and a PUT with the ETag now seen is taken and
 * reaches every worker. Over the whole run: no worker ever ran a policy that was never committed, no worker's
 * generation ever went backwards, no worker refused a configuration as stale. Each round prints a line
 * ({@code CHAOS controller-policy-kill}); figures in docs/chaos.md.
 */
@Timeout(150)
class ControllerPolicyKillChaosIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "policy-kill-operator-token-0123456789";
    private static final int SESSION_MILLIS = 4000;
    private static final String STATE_NODE = FleetPaths.CONTROLLER_STATE_PATH + "/policy";
    private static final String HISTORY_DIR = FleetPaths.CONTROLLER_HISTORY_PATH + "/policy";
    private static final List<String> WORKERS = List.of("wan-a1", "wan-b1");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    /** Per worker: the configuration generations it reported, in order (each once). */
    private final Map<String, List<Long>> generations = new ConcurrentHashMap<>();
    /** Per worker: every flow policy name it ran. */
    private final Map<String, Set<String>> policiesRun = new ConcurrentHashMap<>();
    private final List<String> samplerErrors = new CopyOnWriteArrayList<>();

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest put(String url, String etag, String body) {
        return HttpRequest.newBuilder(URI.create(url + "/api/policy")).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN).header("If-Match", etag)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private ControlControllerProcess controller(String name, TestingServer zk, Path policyFile, Path tokens, Path logs)
            throws Exception {
        return ControlControllerProcess.start("controller-" + name, zk.getConnectString(), Ports.free(), policyFile,
                20_000, null, logs, List.of("--name", name, "--zk-session-timeout-ms", Integer.toString(SESSION_MILLIS),
                        "--admin-tokens-file", tokens.toString()));
    }

    private GetStatusResponse status(String worker, String endpoint) {
        ManagedChannel ch = channels.computeIfAbsent(worker,
                w -> NettyChannelBuilder.forTarget(endpoint).usePlaintext().build());
        return WorkerControlGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS)
                .getStatus(GetStatusRequest.getDefaultInstance());
    }

    /** The flow policy names a worker runs now. */
    private List<String> running(String worker, Map<String, String> endpoints) {
        return status(worker, endpoints.get(worker)).getConfig().getPoliciesList().stream().map(FlowPolicy::getName)
                .toList();
    }

    private void sample(Map<String, String> endpoints) {
        for (String w : WORKERS) {
            try {
                GetStatusResponse s = status(w, endpoints.get(w));
                long generation = s.getConfig().getGeneration();
                List<Long> seen = generations.computeIfAbsent(w, k -> new CopyOnWriteArrayList<>());
                if (seen.isEmpty() || seen.get(seen.size() - 1) != generation) {
                    seen.add(generation);
                }
                s.getConfig().getPoliciesList().forEach(p -> policiesRun.computeIfAbsent(w,
                        k -> ConcurrentHashMap.newKeySet()).add(p.getName()));
            } catch (RuntimeException e) {
                samplerErrors.add(w + ": " + e);
            }
        }
    }

    /** What ZooKeeper itself holds in the policy's history: version to policy name. */
    private static TreeMap<Long, String> stored(CuratorFramework zk) throws Exception {
        TreeMap<Long, String> versions = new TreeMap<>();
        for (String child : zk.getChildren().forPath(HISTORY_DIR)) {
            JsonNode r = JSON.readTree(zk.getData().forPath(HISTORY_DIR + "/" + child));
            versions.put(r.path("version").asLong(), ControlSupport.policyName(r.path("content").asText()));
        }
        return versions;
    }

    private static long currentVersion(CuratorFramework zk) throws Exception {
        return JSON.readTree(zk.getData().forPath(STATE_NODE)).path("version").asLong();
    }

    private static String currentName(CuratorFramework zk) throws Exception {
        return ControlSupport.policyName(JSON.readTree(zk.getData().forPath(STATE_NODE)).path("content").asText());
    }

    @Test
    void leaderKilledAtFourPointsOfAPolicyPut_allOrNothing_workersFollowTheVersionKept_retryWorks() throws Exception {
        long testStarted = System.nanoTime();
        Path logs = Path.of("target", "ControllerPolicyKillChaosIT-logs");
        ControlSupport.resetLogs(logs);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        List<ControlControllerProcess> controllers = new ArrayList<>();
        List<String> summaries = new ArrayList<>();
        try (TestingServer zk = new TestingServer(true); Fleet fleet = new Fleet(logs, zk);
             CuratorFramework observer = CuratorFrameworkFactory.newClient(zk.getConnectString(),
                     new RetryOneTime(100))) {
            observer.start();
            Path policyFile = logs.resolve("policy.json");
            Files.writeString(policyFile, ControlSupport.namedPolicy("values", 445));
            Path tokens = logs.resolve("admin-tokens");
            Files.writeString(tokens, "ops:operator:" + TOKEN + "\n");

            ControlControllerProcess leader = controller("c1", zk, policyFile, tokens, logs);
            controllers.add(leader);
            await().atMost(Fleet.WAIT).until(leader::leads);
            ControlControllerProcess follower = controller("c2", zk, policyFile, tokens, logs);
            controllers.add(follower);
            fleet.startWorker("wan-a1", "wanopt", "a", "--insecure-plaintext");
            fleet.startWorker("wan-b1", "wanopt", "b", "--insecure-plaintext");
            ControlControllerProcess l0 = leader;
            await().atMost(Fleet.WAIT).until(() -> l0.json("/api/fleet").path("converged").asBoolean(false)
                    && l0.json("/api/fleet").path("workers").size() == WORKERS.size());
            Map<String, String> endpoints = new TreeMap<>();
            for (JsonNode w : leader.json("/api/fleet").path("workers")) {
                endpoints.put(w.path("id").asText(), w.path("control_endpoint").asText());
            }
            for (String w : WORKERS) {
                await().atMost(Fleet.WAIT).until(() -> running(w, endpoints).equals(List.of("values")));
            }
            sampler.scheduleWithFixedDelay(() -> sample(endpoints), 0, 20, TimeUnit.MILLISECONDS);

            // An uninterrupted PUT first.
            String etag0 = get(leader.baseUrl() + "/api/policy").headers().firstValue("ETag").orElseThrow();
            HttpResponse<String> warm = http.send(put(leader.baseUrl(), etag0, ControlSupport.namedPolicy("warm", 446)),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(warm.statusCode()).as(warm.body()).isEqualTo(200);
            for (String w : WORKERS) {
                await().atMost(Fleet.WAIT).until(() -> running(w, endpoints).equals(List.of("warm")));
            }
            await().atMost(Fleet.WAIT).until(() -> "c1".equals(controllers.get(1).json("/api/status")
                    .path("leader").path("name").asText()));

            String[] points = {"sent", "committed", "half-way", "pushed"};
            long commitNanos = 0;
            int next = 3;
            for (int round = 0; round < points.length; round++) {
                String point = points[round];
                String oldEtag = get(leader.baseUrl() + "/api/policy").headers().firstValue("ETag").orElseThrow();
                long oldVersion = ControlSupport.etagVersion(oldEtag);
                String oldName = currentName(observer);
                String newName = "r" + round + "-" + point;
                String body = ControlSupport.namedPolicy(newName, 1000 + round);
                assertThat(currentVersion(observer)).isEqualTo(oldVersion);

                CountDownLatch committed = new CountDownLatch(1);
                observer.getData().usingWatcher((CuratorWatcher) e -> committed.countDown()).forPath(STATE_NODE);
                long sentAt = System.nanoTime();
                CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(put(leader.baseUrl(), oldEtag, body),
                        HttpResponse.BodyHandlers.ofString());
                switch (point) {
                    case "sent" -> { }
                    case "half-way" -> await().pollDelay(Duration.ofNanos(commitNanos / 2)).until(() -> true);
                    case "committed" -> {
                        assertThat(committed.await(10, TimeUnit.SECONDS)).as("commit seen").isTrue();
                        commitNanos = System.nanoTime() - sentAt;
                    }
                    default -> await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
                            .pollDelay(Duration.ZERO).until(() -> WORKERS.stream()
                                    .anyMatch(w -> running(w, endpoints).contains(newName)));
                }
                leader.kill();
                long killedAt = System.nanoTime();
                double killMillis = (killedAt - sentAt) / 1e6;
                String answer = inFlight.handle((r, e) -> e == null ? Integer.toString(r.statusCode())
                        : "none").join();
                // Before anyone takes over: what the dead leader left in ZooKeeper and on the workers.
                boolean committedAtKill = currentVersion(observer) == oldVersion + 1;
                int workersOnNew = 0;
                for (String w : WORKERS) {
                    workersOnNew += running(w, endpoints).contains(newName) ? 1 : 0;
                }
                ControlControllerProcess spare = controller("c" + next++, zk, policyFile, tokens, logs);
                controllers.add(spare);

                ControlControllerProcess newLeader = follower;
                await().atMost(Fleet.WAIT).pollInterval(Duration.ofMillis(50)).until(newLeader::leads);
                double takeoverSeconds = (System.nanoTime() - killedAt) / 1e9;

                // One version, old or new, whole: the new leader's answer, its history, ZooKeeper's nodes.
                HttpResponse<String> inForce = get(newLeader.baseUrl() + "/api/policy");
                long kept = ControlSupport.etagVersion(inForce.headers().firstValue("ETag").orElseThrow());
                String keptName = ControlSupport.policyName(inForce.body());
                assertThat(kept).as("version kept").isIn(oldVersion, oldVersion + 1);
                assertThat(keptName).as("policy in force").isEqualTo(kept == oldVersion ? oldName : newName);
                if (answer.equals("200") || committedAtKill) {
                    assertThat(kept).as("an acknowledged or committed change is kept").isEqualTo(oldVersion + 1);
                }
                assertThat(currentVersion(observer)).as("ZooKeeper's current record").isEqualTo(kept);
                assertThat(currentName(observer)).isEqualTo(keptName);
                JsonNode history = JSON.readTree(get(newLeader.baseUrl() + "/api/policy/history").body());
                assertThat(history.path("current").asLong()).isEqualTo(kept);
                assertThat(history.path("versions").get(0).path("version").asLong()).as("newest listed").isEqualTo(kept);
                TreeMap<Long, String> stored = stored(observer);
                assertThat(stored.lastKey()).as("newest version in ZooKeeper's history").isEqualTo(kept);
                assertThat(stored.get(kept)).isEqualTo(keptName);
                assertThat(stored.keySet()).as("versions kept, without gaps").containsExactlyElementsOf(
                        java.util.stream.LongStream.rangeClosed(1, kept).boxed().toList());
                assertThat(ControlSupport.policyName(get(newLeader.baseUrl() + "/api/policy/history?version=" + kept).body()))
                        .isEqualTo(keptName);

                // Every worker runs exactly that version's policies, pushed by the new leader.
                for (String w : WORKERS) {
                    await().atMost(Fleet.WAIT).until(() -> running(w, endpoints).equals(List.of(keptName)));
                }
                double convergedSeconds = (System.nanoTime() - killedAt) / 1e9;

                // The operator retries with the ETag it had: taken if nothing was committed, else 412 naming the
                // version in force; then with the ETag it now sees.
                HttpResponse<String> retry = http.send(put(newLeader.baseUrl(), oldEtag, body),
                        HttpResponse.BodyHandlers.ofString());
                String retryOutcome = Integer.toString(retry.statusCode());
                if (kept == oldVersion) {
                    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
                } else {
                    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(412);
                    assertThat(retry.headers().firstValue("ETag")).contains("\"" + kept + "\"");
                    String seen = get(newLeader.baseUrl() + "/api/policy").headers().firstValue("ETag").orElseThrow();
                    retry = http.send(put(newLeader.baseUrl(), seen, body), HttpResponse.BodyHandlers.ofString());
                    retryOutcome += ", then " + retry.statusCode();
                    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
                }
                assertThat(JSON.readTree(retry.body()).path("version").asLong()).isEqualTo(kept + 1);
                assertThat(currentVersion(observer)).isEqualTo(kept + 1);
                for (String w : WORKERS) {
                    await().atMost(Fleet.WAIT).until(() -> running(w, endpoints).equals(List.of(newName)));
                }

                String summary = String.format("CHAOS controller-policy-kill: %s: leader SIGKILLed %.1f ms after the "
                                + "PUT was sent (answer: %s; committed at the kill: %s; workers on it at the kill: %d/%d); "
                                + "version kept %d of %d..%d (%s); new leader %.2f s, workers on the kept version %.2f s "
                                + "after the kill; retry %s", point, killMillis, answer, committedAtKill, workersOnNew,
                        WORKERS.size(), kept, oldVersion, oldVersion + 1, kept == oldVersion ? "old" : "new",
                        takeoverSeconds, convergedSeconds, retryOutcome);
                System.out.println(summary);
                summaries.add(summary);

                leader = newLeader;
                follower = spare;
                ControlControllerProcess l = leader;
                ControlControllerProcess f = follower;
                await().atMost(Fleet.WAIT).until(() -> l.leads() && f.json("/api/status").path("leader").path("name")
                        .asText().equals(l.json("/api/status").path("leader").path("name").asText()));
            }
            sampler.shutdown();
            assertThat(sampler.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

            // Over the whole run.
            Set<String> everStored = ConcurrentHashMap.newKeySet();
            everStored.addAll(stored(observer).values());
            long stale = 0;
            for (String w : WORKERS) {
                assertThat(generations.get(w)).as("generations %s ran, in order", w).isSorted();
                assertThat(policiesRun.get(w)).as("policies %s ran (never one that was not committed)", w)
                        .isSubsetOf(everStored);
                stale += (long) Metrics.sum(Metrics.scrape(metricsEndpoint(leader, w)),
                        "slipstream_worker_config_apply_total", "result=\"stale\"");
            }
            assertThat(stale).as("configurations refused by a worker as stale").isZero();
            String end = String.format("CHAOS controller-policy-kill: %d rounds, generations per worker %s, stale "
                            + "refusals %d, sampler errors %d, test %.0f s", points.length, new TreeMap<>(generations), stale,
                    samplerErrors.size(), (System.nanoTime() - testStarted) / 1e9);
            System.out.println(end);
            summaries.add(end);
            Files.write(logs.resolve("summary.txt"), summaries);
        } finally {
            sampler.shutdownNow();
            channels.values().forEach(ManagedChannel::shutdownNow);
            for (ControlControllerProcess c : controllers) {
                c.close();
            }
        }
    }

    private static String metricsEndpoint(ControlControllerProcess controller, String worker) {
        for (JsonNode w : controller.json("/api/fleet").path("workers")) {
            if (w.path("id").asText().equals(worker)) {
                return w.path("metrics_endpoint").asText();
            }
        }
        throw new AssertionError("worker " + worker + " not in the leader's fleet");
    }
}
