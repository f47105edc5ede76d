package io.slipstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.FleetJson;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.tools.net.Ports;
import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import io.slipstream.worker.compression.CompressionProviderRegistry;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream demo}: the whole system on one machine on embedded defaults. An embedded
 * ZooKeeper, the standalone controller and worker JVMs for two sites; the controller programs
 * them. Warm-up bulk transfers A -> B (the wanopt workers' emulated compression card fails in the
 * third), then a steady workload for {@code --duration} (near-duplicate and repeated bulk transfers,
 * Zipf web requests through the caches); half-way a cache worker is killed with SIGKILL to show how
 * fast it leaves the steering set; the rest are drained at the end. Then a load step on an autoscaled
 * fleet shows it grow and shrink ({@link ScaleScenario}). A live progress line ({@link DemoProgress})
 * runs throughout; prints the fleet and a report; {@code --json FILE} writes the report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the fleet on embedded defaults (ZooKeeper, controller, worker JVMs) and report.")
final class DemoCommand implements Callable<Integer> {

    /** Site B's hosts (the bulk-transfer sink) on loopback; site A's clients use 127.0.0.1. */
    static final String SITE_B_HOST = "127.0.0.2";
    /** The web servers (the HTTP origin) on loopback. */
    static final String WEB_HOST = "127.0.0.3";

    static final String DEMO_POLICY = "{\n"
            + "  \"policies\": [\n"
            + "    {\"name\": \"bulk-to-b\", \"protocol\": \"tcp\", \"dstPrefixes\": [\"127.0.0.2/32\"],"
            + " \"chain\": \"wanopt\"},\n"
            + "    {\"name\": \"web\", \"protocol\": \"tcp\", \"dstPrefixes\": [\"127.0.0.3/32\"], \"chain\": \"cache\"},\n"
            + "    {\"name\": \"smb-to-dc\", \"srcPrefixes\": [\"198.18.1.0/24\"], \"dstPrefixes\": [\"198.18.2.0/24\"],\n"
            + "     \"protocol\": \"tcp\", \"dstPorts\": [445], \"chain\": \"wanopt\"}\n"
            + "  ],\n"
            + "  \"sites\": [{\"name\": \"b\", \"prefixes\": [\"127.0.0.2/32\", \"198.18.2.0/24\"]}],\n"
            + "  \"compression\": {\"codec\": \"zstd\", \"level\": 3, \"minHardwareBlockBytes\": 1024},\n"
            + "  \"cache\": {\"maxBytes\": \"268435456\", \"maxObjectBytes\": \"16777216\"}\n"
            + "}\n";

    /** The demo fleet: id, role, site. */
    static final String[][] FLEET = {
        {"wanopt-a1", "wanopt", "a"},
        {"cache-a1", "cache", "a"},
        {"cache-a2", "cache", "a"},
        {"gateway-a1", "gateway", "a"},
        {"wanopt-b1", "wanopt", "b"},
    };
    static final String VICTIM = "cache-a2";
    static final String GATEWAY = "gateway-a1";
    static final String WAN_INGRESS = "wanopt-a1";
    static final String WAN_EGRESS = "wanopt-b1";
    /** The emulated WAN link between the sites. */
    static final int WAN_MBIT = 20;
    static final int WAN_DELAY_MILLIS = 40;
    static final int FILE_BYTES = 16 << 20;
    static final int HTTP_OBJECTS = 500;

    /**
     * The card emulator's fault plan on site A's wanopt worker (the one that compresses towards site B):
     * the device is lost during the third transfer, a fresh file (each fresh 16 MiB file is about
     * FILE_BYTES / 32 KiB chunks — the tunnel's average chunk — at most one card request each, since with a
     * hardware provider first literals go through the card one chunk at a time; the 1%-edited second version
     * travels as references and software-compressed deltas, adding at most a few per edit), and before that
     * one block in a thousand comes back corrupted.
     */
    static final int TUNNEL_AVERAGE_CHUNK = 32 * 1024;
    static final long CARD_FAILS_AT_REQUEST = FILE_BYTES / TUNNEL_AVERAGE_CHUNK * 3 / 2 + 2L * Workloads.EDITS;
    static final String CARD_FAULTS = "lose-device-at:" + CARD_FAILS_AT_REQUEST + ",corrupt-probability:0.001,seed:1";

    @Spec
    CommandSpec spec;

    @Option(names = "--duration", defaultValue = "2m",
            description = "How long the steady workload runs once the fleet serves, e.g. 60s, 2m (default: ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--json", description = "Write the report as JSON to this file")
    Path json;

    @Option(names = "--work-dir", description = "Where ZooKeeper data and worker logs go (default: a temporary directory)")
    Path workDir;

    @Option(names = "--skip-scale-step",
            description = "Skip the autoscaling part (a load step on an autoscaled fleet that grows and shrinks)")
    boolean skipScaleStep;

    @Option(names = "--quiet", description = "No live progress line (events and results are still printed)")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        Duration runFor = parseDuration(duration);
        PrintWriter out = spec.commandLine().getOut();
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("slipstream-demo");
        List<LocalWorkerProcess> workers = new ArrayList<>();
        ShapingRelay wanLink = null;
        Thread cleanup = new Thread(() -> workers.forEach(LocalWorkerProcess::kill), "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        long started = System.nanoTime();
        ObjectNode report = FleetJson.mapper().createObjectNode();
        // Issue 10: the admin API needs a token; the demo makes one for this run and prints it.
        String adminToken = java.util.UUID.randomUUID().toString();
        DemoTally tally = new DemoTally();
        DemoProgress progress = null;
        // Mutual TLS everywhere, from a throwaway CA made for this run (certificates in <dir>/tls).
        io.slipstream.controller.local.FleetCa ca = io.slipstream.controller.local.FleetCa.create(dir.resolve("tls"),
                "demo");
        try (DigestSink sink = new DigestSink(java.net.InetAddress.getByName(SITE_B_HOST), true);
             DemoOrigin origin = new DemoOrigin(WEB_HOST);
             EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir.resolve("zookeeper"), 0);
             StandaloneController controller = StandaloneController.start(
                     ControllerSettings.builder(zk.connectString())
                             .http("127.0.0.1", 0)
                             .membershipGrace(Duration.ofSeconds(10))
                             .policy(FleetPolicies.parse(DEMO_POLICY))
                             .adminAccess(io.slipstream.controller.standalone.AdminAccess.of(
                                     io.slipstream.controller.standalone.AdminTokens.parse("demo:operator:" + adminToken),
                                     false, false))
                             .devCa(ca)
                             .build())) {
            progress = new DemoProgress(out, System.console() != null, quiet, () -> controller.fleet().snapshot(),
                    tally, origin.requests::get, started);
            out.printf("ZooKeeper %s, controller API http://127.0.0.1:%d/api/fleet (status page /status/), logs in %s%n",
                    zk.connectString(), controller.httpPort(), dir);
            out.printf("admin token for this run (operator: PUT /api/policy, drain, the status page's buttons): %s%n",
                    adminToken);
            // Clients at site A reach everything through the gateway: one VIP for the bulk sink at site B,
            // one for the web servers; it classifies each connection by the fleet policy and hands it to
            // the worker placement chose (a wanopt worker, or the cache worker owning the request's key).
            int gatewayBulkPort = Ports.free();
            int gatewayWebPort = Ports.free();
            int tunnelPortB = Ports.free();
            wanLink = new ShapingRelay(new java.net.InetSocketAddress("127.0.0.1", tunnelPortB),
                    WAN_MBIT * 1_000_000L / 8, WAN_DELAY_MILLIS);
            out.printf("WAN link between the sites: %d Mbit/s, %d ms one way (user-space emulator)%n", WAN_MBIT,
                    WAN_DELAY_MILLIS);
            out.printf("wanopt workers compress on an emulated hardware card; %s's card: %s%n", WAN_INGRESS, CARD_FAULTS);
            for (String[] w : FLEET) {
                List<String> args = new ArrayList<>(List.of("--role", w[1], "--site", w[2],
                        "--zookeeper", zk.connectString(), "--zk-session-timeout-ms", "5000"));
                List<String> jvmFlags = new ArrayList<>(LocalWorkerProcess.DEFAULT_JVM_FLAGS);
                if (w[1].equals("gateway")) {
                    args.addAll(List.of("--listen", gatewayBulkPort + "=" + SITE_B_HOST + ":" + sink.port(),
                            "--listen", gatewayWebPort + "=" + WEB_HOST + ":" + origin.port()));
                }
                if (w[1].equals("wanopt")) {
                    jvmFlags.add("-D" + CompressionProviderRegistry.EMULATOR_PROPERTY + "=true");
                    // On disk beside the logs, not on the 192 MiB heap: 1 GiB per peer and direction holds more
                    // than the 20 Mbit/s link carries in ten minutes, so nothing the demo sends is evicted.
                    args.addAll(List.of("--chunk-store-gib", "1"));
                }
                if (w[0].equals(WAN_INGRESS)) {
                    args.addAll(List.of("--steered-port", "0"));
                    jvmFlags.add("-D" + CompressionProviderRegistry.EMULATOR_FAULTS_PROPERTY + "=" + CARD_FAULTS);
                }
                if (w[1].equals("cache")) {
                    args.addAll(List.of("--origin", origin.url()));
                }
                if (w[0].equals(WAN_EGRESS)) {
                    // Site A reaches site B's tunnel endpoint only across the emulated WAN link.
                    args.addAll(List.of("--data-port", Integer.toString(tunnelPortB),
                            "--data-advertise", "127.0.0.1:" + wanLink.port()));
                }
                args.addAll(io.slipstream.controller.local.FleetCa.tlsArgs(ca.issueWorker(w[2], w[0])));
                workers.add(LocalWorkerProcess.start(w[0], args, dir.resolve("logs"), jvmFlags, true));
            }
            out.printf("started %d worker JVMs; waiting for them to register and serve ...%n", workers.size());
            out.flush();
            progress.start();
            boolean serving = await(controller, s -> s.healthy().size() == FLEET.length && s.converged(),
                    Duration.ofSeconds(60));
            double servingSeconds = (System.nanoTime() - started) / 1e9;
            if (!serving) {
                FleetSnapshot now = controller.fleet().snapshot();
                progress.say("not every worker came up and was configured within 60 s (converged: " + now.converged()
                        + "); see the logs in " + dir.resolve("logs"));
                printFleet(out, now);
                for (LocalWorkerProcess p : workers) {
                    if (!now.healthy().contains(p.id())) {
                        printLogTail(out, p, 20);
                    }
                }
                return 1;
            }
            progress.event("serving", String.format(Locale.ROOT, "fleet serving and configured %.1f s after start"
                    + " (generation %d)", servingSeconds, controller.fleet().snapshot().generation()));
            printFleet(out, controller.fleet().snapshot());

            // Bulk transfers from site A to site B through the wanopt pair.
            String metrics = "http://" + controller.fleet().snapshot().worker(WAN_INGRESS).record().metricsEndpoint()
                    + "/metrics";
            BulkTransfers bulk = new BulkTransfers(progress, tally, gatewayBulkPort, metrics);
            progress.phase("warm-up", null);
            report.setAll(bulk.warmUp(sink));

            // The steady workload for --duration: near-duplicate and repeated bulk transfers from A to B, and
            // Zipf-distributed web requests through site A's caches (which share the key space by rendezvous
            // hashing), both continuously; half-way a cache worker is killed without warning.
            String cacheUrl = "http://127.0.0.1:" + gatewayWebPort;
            progress.phase("steady", runFor);
            progress.say(String.format(Locale.ROOT, "steady workload for %d s: bulk transfers A -> B and Zipf HTTP"
                    + " requests over %d objects, through the gateway", runFor.toSeconds(), HTTP_OBJECTS));
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.ExecutorService loops = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "demo-workload");
                t.setDaemon(true);
                return t;
            });
            java.util.concurrent.Future<?> bulkLoop = loops.submit(() -> {
                bulk.steady(stop);
                return null;
            });
            java.util.concurrent.Future<?> webLoop = loops.submit(() -> {
                ZipfWorkload web = new ZipfWorkload(HTTP_OBJECTS, 1.0);
                for (long seed = 1; !stop.get(); seed++) {
                    tally.http(web.run(cacheUrl, 200, 4, seed));
                }
                return null;
            });
            double detection;
            long killedAt;
            long reSteeredAt;
            java.util.concurrent.CompletableFuture<Double> dataPlaneFailover;
            try {
                pause(runFor.dividedBy(2));
                // Half-way: kill a worker without warning; time how fast it leaves the steering set, how fast the
                // gateway steers around it, and how fast a key it owned is served again (by the survivor).
                LocalWorkerProcess victim = workers.stream().filter(p -> p.id().equals(VICTIM)).findFirst().orElseThrow();
                FleetSnapshot before = controller.fleet().snapshot();
                List<String> victimPaths = pathsOwnedBy(before, VICTIM, gatewayWebPort);
                String gatewayDigest = before.worker(GATEWAY).configDigest();
                killedAt = System.nanoTime();
                victim.kill();
                long startedProbe = killedAt;
                dataPlaneFailover = java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> firstSuccess(cacheUrl, victimPaths, startedProbe, Duration.ofSeconds(20)));
                boolean detected = await(controller, s -> !s.healthy().contains(VICTIM), Duration.ofSeconds(10));
                detection = (System.nanoTime() - killedAt) / 1e9;
                progress.event("kill", String.format(Locale.ROOT, "killed %s (SIGKILL, pid %d): %s after %.0f ms",
                                VICTIM, victim.pid(), detected ? "out of the steering set" : "STILL in the steering set",
                                detection * 1000))
                        .put("worker", VICTIM).put("detected", detected).put("detection_seconds", detection);
                // The kill window ends when the gateway runs a table without the victim (its ApplyConfig answered).
                reSteeredAt = awaitAt(controller, s -> !s.healthy().contains(VICTIM) && s.converged()
                        && !s.worker(GATEWAY).configDigest().equals(gatewayDigest), Duration.ofSeconds(10));
                if (reSteeredAt >= 0) {
                    progress.event("re-steered", String.format(Locale.ROOT, "the gateway steers around %s %.0f ms"
                            + " after the kill", VICTIM, (reSteeredAt - killedAt) / 1e6));
                }
                pause(runFor.minus(Duration.ofNanos(System.nanoTime() - progress.phaseStartNanos())));
            } finally {
                stop.set(true);
                loops.shutdown();
            }
            // The loops finish the transfer or batch in flight.
            bulkLoop.get(120, TimeUnit.SECONDS);
            webLoop.get(60, TimeUnit.SECONDS);
            progress.phase("finish", null);
            String gatewayMetrics = "http://" + controller.fleet().snapshot().worker(GATEWAY).record().metricsEndpoint()
                    + "/metrics";
            double dispatched = scrape(gatewayMetrics, "slipstream_gateway_connections");
            progress.say(String.format(Locale.ROOT, "the gateway dispatched %.0f client connections by policy and"
                    + " placement", dispatched));
            report.put("gateway_connections", dispatched);
            long httpRequests = tally.httpRequests.get();
            long originRequests = origin.requests.get();
            long clientBytes = tally.httpBytes.get();
            report.put("http_requests", httpRequests);
            long httpFailures = tally.httpFailures.get();
            long inKillWindow = reSteeredAt < 0 ? 0 : tally.httpFailuresBetween(killedAt, reSteeredAt);
            report.put("http_failures", httpFailures);
            report.put("http_failures_in_kill_window", inKillWindow);
            report.put("http_failures_unexpected", httpFailures - inKillWindow);
            report.put("kill_window_seconds", reSteeredAt < 0 ? -1 : (reSteeredAt - killedAt) / 1e9);
            double dataPlaneSeconds = dataPlaneFailover.get(30, TimeUnit.SECONDS);
            report.put("failover_data_plane_seconds", dataPlaneSeconds);
            // Both by request: the caches' own counters (hits / lookups, each client request counted once, by the
            // worker owning its key) and the origin's (requests it did not have to serve).
            report.put("cache_hit_ratio", httpRequests == 0 ? 0 : Math.max(0, 1 - (double) originRequests / httpRequests));
            report.put("origin_requests", originRequests);
            report.put("origin_bytes", origin.bytes.get());
            report.put("origin_bytes_saved_ratio", clientBytes == 0 ? 0
                    : Math.max(0, 1 - (double) origin.bytes.get() / clientBytes));
            report.put("latency_ms_p50", tally.latencyMillis(0.50));
            report.put("latency_ms_p99", tally.latencyMillis(0.99));
            bulk.totals(report);

            // Let a load report after the last transfer reach the controller, then read the fallbacks from it.
            pause(Duration.ofMillis(1500));
            long fallbacks = progress.compressionFallbacks();
            report.put("compression_fallbacks", fallbacks);
            progress.say("compression fallbacks (hardware -> software blocks, from the wanopt workers' load reports): "
                    + fallbacks);
            FleetSnapshot last = controller.fleet().snapshot();
            progress.close();
            out.println("fleet at the end of the run:");
            printFleet(out, last);

            report.put("duration_seconds", (System.nanoTime() - started) / 1e9);
            report.put("steady_seconds", runFor.toSeconds());
            report.put("zookeeper", zk.connectString());
            report.put("serving_seconds", servingSeconds);
            report.put("failover_seconds", detection);
            report.put("generation", last.generation());
            ArrayNode list = report.putArray("workers");
            for (WorkerView v : last.workers()) {
                list.add(FleetJson.worker(v));
            }
            report.set("events", progress.events());

            // Make-before-break exit: drain every live worker and let it stop by itself.
            List<LocalWorkerProcess> live = new ArrayList<>();
            for (LocalWorkerProcess p : workers) {
                if (p.isAlive()) {
                    live.add(p);
                    controller.fleet().drain(p.id(), DrainRequest.newBuilder()
                            .setTimeoutMillis(5000).setStopWhenDrained(true).build())
                            .exceptionally(e -> null).get(10, TimeUnit.SECONDS);
                }
            }
            int stopped = 0;
            for (LocalWorkerProcess p : live) {
                if (p.waitFor(10, TimeUnit.SECONDS)) {
                    stopped++;
                }
            }
            out.printf("drained and stopped %d of %d live workers%n", stopped, live.size());
            report.put("workers_stopped_cleanly", stopped);
        } finally {
            if (progress != null) {
                progress.close();
            }
            if (wanLink != null) {
                wanLink.close();
            }
            workers.forEach(LocalWorkerProcess::close);
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
        if (!skipScaleStep) {
            scaleStep(out, dir.resolve("scale"), report);
        }
        List<String> failures = failures(report);
        ArrayNode failureList = report.putArray("failures");
        failures.forEach(failureList::add);
        printReport(out, report);
        if (json != null) {
            Path parent = json.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(json, FleetJson.write(report) + "\n");
            out.println("report written to " + json);
        }
        if (!failures.isEmpty()) {
            out.println("demo FAILED:");
            failures.forEach(f -> out.println("  - " + f));
            out.flush();
            return 1;
        }
        out.flush();
        return 0;
    }

    /** What went wrong in a run (empty when nothing did): lost or corrupted bytes, unexpected HTTP failures. */
    static List<String> failures(JsonNode report) {
        List<String> reasons = new ArrayList<>();
        if (report.path("lost_bytes").asLong() > 0) {
            reasons.add(report.path("lost_bytes").asLong() + " bulk bytes lost (a transfer never got through or"
                    + " arrived short; see the WAN transfer lines)");
        }
        if (report.path("corrupted_bytes").asLong() > 0) {
            reasons.add(report.path("corrupted_bytes").asLong() + " bulk bytes arrived with a wrong digest");
        }
        if (report.path("http_failures_unexpected").asLong() > 0) {
            reasons.add(report.path("http_failures_unexpected").asLong() + " HTTP requests failed outside the kill"
                    + " window (from the SIGKILL to the gateway's re-steer)");
        }
        if (report.path("kill_window_seconds").asDouble() < 0) {
            reasons.add("the gateway never got a steering table without the killed worker");
        }
        if (report.path("failover_data_plane_seconds").asDouble() < 0) {
            reasons.add("no key the killed worker owned was served again");
        }
        return reasons;
    }

    /** The paths of the demo's objects whose key the gateway sends to {@code owner} (cache rendezvous hashing). */
    static List<String> pathsOwnedBy(FleetSnapshot snapshot, String owner, int gatewayWebPort) {
        List<io.slipstream.proto.v1.Peer> members = new ArrayList<>();
        for (WorkerView v : snapshot.workers()) {
            if (v.steerable() && v.record().role().equals("cache") && v.record().site().equals("a")) {
                members.add(io.slipstream.controller.placement.SteeringPlanner.member(v));
            }
        }
        List<String> paths = new ArrayList<>();
        if (members.isEmpty()) {
            return paths;
        }
        for (int i = 0; i < HTTP_OBJECTS; i++) {
            String path = "/obj/" + i;
            String key = io.slipstream.worker.gateway.HttpHead.parse("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + gatewayWebPort + "\r\n\r\n", null).cacheKey();
            if (io.slipstream.worker.cache.CacheShards.owner(key, members).getWorkerId().equals(owner)) {
                paths.add(path);
            }
        }
        return paths;
    }

    /**
     * Seconds from {@code sinceNanos} to the first successful GET of one of {@code paths} (asked in turn, every
     * few milliseconds), or -1 when none succeeded within {@code limit}.
     */
    static double firstSuccess(String base, List<String> paths, long sinceNanos, Duration limit) {
        if (paths.isEmpty()) {
            return -1;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        for (int i = 0; System.nanoTime() - sinceNanos < limit.toNanos(); i++) {
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base + paths.get(i % paths.size())))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() == 200 && r.body().length == DemoOrigin.OBJECT_BYTES) {
                    return (System.nanoTime() - sinceNanos) / 1e9;
                }
            } catch (java.io.IOException e) {
                // refused or reset while the victim is still steered to: ask again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
            try {
                pause(Duration.ofMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }
        return -1;
    }

    /**
     * Autoscaling: a separate fleet (own ZooKeeper and controller) whose site A wanopt workers the
     * autoscaler grows 1 -> 3 under a load step and shrinks back to 1 when it falls, draining the
     * leaving workers while flows are still open on them.
     */
    private static void scaleStep(PrintWriter out, Path dir, ObjectNode report) throws Exception {
        out.println("autoscaling: a load step on an autoscaled local fleet (scale-out after 1 s of overload,"
                + " scale-in after 5 s of low load)");
        out.flush();
        ScaleScenario.Result r = new ScaleScenario(Duration.ofSeconds(1), Duration.ofSeconds(5), out).run(dir);
        report.put("scale_out_seconds", r.scaleOutSeconds);
        report.put("scale_in_seconds", r.scaleInSeconds);
        ObjectNode scale = report.putObject("scale");
        scale.put("cold_start_seconds", r.coldStartSeconds);
        scale.put("step_to_decision_seconds", r.stepToDecisionSeconds);
        scale.put("decision_to_serving_seconds", r.decisionToServingSeconds);
        scale.put("decision_to_traffic_seconds", r.decisionToTrafficSeconds);
        scale.put("drop_to_decision_seconds", r.dropToDecisionSeconds);
        scale.put("peak_replicas", r.peakReplicas);
        scale.put("final_replicas", r.finalReplicas);
        scale.put("flows", r.flows);
        scale.put("flows_intact", r.flowsIntact);
        ArrayNode timeline = scale.putArray("timeline");
        r.timeline.forEach(timeline::add);
    }

    /** Sums the samples of a Prometheus counter family (all tags) from a worker's /metrics. */
    static double scrape(String url, String family) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        double sum = 0;
        for (String line : response.body().split("\n")) {
            if (line.startsWith(family) && !line.startsWith("#")) {
                String name = line.substring(0, line.indexOf(line.contains("{") ? '{' : ' '));
                if (name.endsWith("_total")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return sum;
    }

    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return positive(Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))), text);
            } else if (t.endsWith("s")) {
                return positive(Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1))), text);
            } else if (t.endsWith("m")) {
                return positive(Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1))), text);
            }
            return positive(Duration.ofSeconds(Long.parseLong(t)), text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--duration: '" + text + "' (expected: e.g. 30s, 2m or 500ms)");
        }
    }

    private static Duration positive(Duration d, String text) {
        if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("--duration: '" + text + "' (expected: more than 0, at most 24h)");
        }
        return d;
    }

    /**
     * Waits until the controller's snapshot satisfies {@code condition}; returns the {@link System#nanoTime()}
     * of the snapshot that first did, or -1 after {@code timeout}.
     */
    private static long awaitAt(StandaloneController controller, Predicate<FleetSnapshot> condition, Duration timeout)
            throws InterruptedException {
        java.util.concurrent.atomic.AtomicLong metAt = new java.util.concurrent.atomic.AtomicLong(-1);
        CountDownLatch met = new CountDownLatch(1);
        controller.fleet().addListener(s -> {
            if (met.getCount() > 0 && condition.test(s)) {
                metAt.compareAndSet(-1, System.nanoTime());
                met.countDown();
            }
        });
        if (condition.test(controller.fleet().snapshot())) {
            return System.nanoTime();
        }
        return met.await(timeout.toMillis(), TimeUnit.MILLISECONDS) ? metAt.get() : -1;
    }

    /** Waits until the controller's snapshot satisfies {@code condition}, woken by every change. */
    private static boolean await(StandaloneController controller, Predicate<FleetSnapshot> condition, Duration timeout)
            throws InterruptedException {
        CountDownLatch met = new CountDownLatch(1);
        controller.fleet().addListener(s -> {
            if (condition.test(s)) {
                met.countDown();
            }
        });
        if (condition.test(controller.fleet().snapshot())) {
            return true;
        }
        return met.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    static void pause(Duration d) throws InterruptedException {
        new CountDownLatch(1).await(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last {@code lines} lines of a worker's log, and whether its process is still alive. */
    static void printLogTail(PrintWriter out, LocalWorkerProcess p, int lines) {
        out.printf("--- %s (pid %d, %s), last lines of %s:%n", p.id(), p.pid(), p.isAlive() ? "alive" : "exited",
                p.log());
        try {
            List<String> all = Files.readAllLines(p.log(), java.nio.charset.StandardCharsets.UTF_8);
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(out::println);
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            out.println("(cannot read it: " + e.getMessage() + ")");
        }
        out.flush();
    }

    static void printFleet(PrintWriter out, FleetSnapshot s) {
        out.printf("  %-12s %-8s %-4s %-12s %6s %12s %12s %6s %6s  %s%n",
                "id", "role", "site", "health", "cpu%", "in B/s", "out B/s", "flows", "queue", "config");
        for (WorkerView v : s.workers()) {
            out.printf(Locale.ROOT, "  %-12s %-8s %-4s %-12s %6.1f %12.0f %12.0f %6d %6d  %s%n",
                    v.id(), v.record().role(), v.record().site(), v.health().label(),
                    v.load().getCpu() * 100, v.load().getBytesInPerSecond(), v.load().getBytesOutPerSecond(),
                    v.load().getActiveFlows(), v.load().getQueueDepth(),
                    v.configDigest().isEmpty() ? "-" : v.configDigest().substring(0, 12));
        }
        out.flush();
    }

    private static void printReport(PrintWriter out, ObjectNode report) {
        out.println("report:");
        out.printf(Locale.ROOT, "  fleet serving and configured after   %.2f s%n", report.path("serving_seconds").asDouble());
        out.printf(Locale.ROOT, "  killed worker out of steering after  %.0f ms%n",
                report.path("failover_seconds").asDouble() * 1000);
        out.printf(Locale.ROOT, "  workers drained and stopped cleanly  %d%n", report.path("workers_stopped_cleanly").asInt());
        out.printf(Locale.ROOT, "  WAN bytes / application bytes        %.3f (%d of %d bytes)%n",
                report.path("wan_reduction_ratio").asDouble(), report.path("wan_bytes").asLong(),
                report.path("app_bytes").asLong());
        out.printf(Locale.ROOT, "  edited file over the WAN: speed-up   %.1fx%n", report.path("wan_speedup").asDouble());
        out.printf(Locale.ROOT, "  cache hit ratio                      %.3f (origin bytes saved %.3f)%n",
                report.path("cache_hit_ratio").asDouble(), report.path("origin_bytes_saved_ratio").asDouble());
        out.printf(Locale.ROOT, "  HTTP latency p50 / p99                %.2f / %.2f ms%n",
                report.path("latency_ms_p50").asDouble(), report.path("latency_ms_p99").asDouble());
        out.printf(Locale.ROOT, "  HTTP failed in the kill window (%.0f ms) %d; unexpected %d; of %d%n",
                report.path("kill_window_seconds").asDouble() * 1000, report.path("http_failures_in_kill_window").asLong(),
                report.path("http_failures_unexpected").asLong(), report.path("http_requests").asLong());
        out.printf(Locale.ROOT, "  a killed worker's key served again   %.0f ms after the SIGKILL%n",
                report.path("failover_data_plane_seconds").asDouble() * 1000);
        out.printf(Locale.ROOT, "  bulk transfers checked by digest     %d (%d bytes sent, %d received)%n",
                report.path("bulk_transfers").asLong(), report.path("bulk_bytes_sent").asLong(),
                report.path("bulk_bytes_received").asLong());
        out.printf(Locale.ROOT, "  corrupted bytes / lost bytes         %d / %d%n", report.path("corrupted_bytes").asLong(),
                report.path("lost_bytes").asLong());
        out.printf(Locale.ROOT, "  compression fallbacks to software    %d%n", report.path("compression_fallbacks").asLong());
        out.printf(Locale.ROOT, "  configuration generation             %d%n", report.path("generation").asLong());
        if (report.has("scale_out_seconds")) {
            JsonNode scale = report.path("scale");
            out.printf(Locale.ROOT, "  autoscaling 1 -> %d after load step   %.2f s (decision %.2f s after the step)%n",
                    scale.path("peak_replicas").asInt(), report.path("scale_out_seconds").asDouble(),
                    scale.path("step_to_decision_seconds").asDouble());
            out.printf(Locale.ROOT, "  autoscaling back to %d after drop     %.2f s, %d of %d flows intact%n",
                    scale.path("final_replicas").asInt(), report.path("scale_in_seconds").asDouble(),
                    scale.path("flows_intact").asInt(), scale.path("flows").asInt());
            out.printf(Locale.ROOT, "  worker cold start to serving         %.2f s%n", scale.path("cold_start_seconds").asDouble());
        }
        out.flush();
    }
}
