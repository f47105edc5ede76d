package io.slipstream.cli;

import static io.slipstream.cli.DemoCommand.FLEET;
import static io.slipstream.cli.DemoCommand.GATEWAY;
import static io.slipstream.cli.DemoCommand.HTTP_OBJECTS;
import static io.slipstream.cli.DemoCommand.VICTIM;
import static io.slipstream.cli.DemoCommand.WAN_EGRESS;
import static io.slipstream.cli.DemoCommand.WAN_INGRESS;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.local.FleetCa;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.controller.standalone.AdminAccess;
import io.slipstream.controller.standalone.AdminTokens;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.FleetJson;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.Peer;
import io.slipstream.tools.net.Ports;
import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.worker.cache.CacheShards;
import io.slipstream.worker.compression.emulator.CardEmulatorFaults;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.gateway.HttpHead;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
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
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * One run of the demo's fleet, phase by phase: {@link #start} (a throwaway CA, the bulk sink behind site B, the
 * web origin, ZooKeeper, the controller, the WAN link, the worker JVMs), {@link #awaitServing}, {@link #warmUp},
 * {@link #steady} (a cache worker killed half-way), the totals ({@link #traffic}, {@link #bulkTotals},
 * {@link #compressionFallbacks}, {@link #fleetAtEnd}) and {@link #drain}. {@link #close} stops what it started,
 * last started first; a shutdown hook kills the workers if the JVM exits before that.
 */
final class DemoRun implements AutoCloseable {

    /**
     * What the kill half-way through the steady phase measured: seconds until the victim left the steering set,
     * the {@link System#nanoTime()} of the SIGKILL and of the gateway's re-steer (-1: none), and the probe for
     * the first successful GET of a key the victim owned (seconds after the SIGKILL, -1: none).
     */
    record Failover(double detectionSeconds, long killedAt, long reSteeredAt,
                    CompletableFuture<Double> dataPlaneSeconds) {
    }

    private final PrintWriter out;
    private final Path dir;
    private final List<LocalWorkerProcess> workers = new ArrayList<>();
    private final Thread cleanup = new Thread(() -> workers.forEach(LocalWorkerProcess::kill), "demo-cleanup");
    private final long started;
    private final DemoTally tally = new DemoTally();
    private DigestSink sink;
    private DemoOrigin origin;
    private DemoChainOrigin chainOrigin;
    private ChainWorkload chain;
    /** The workers' metrics endpoints as the steady phase starts (the victim's is gone after the kill). */
    private final Map<String, String> metricsUrls = new TreeMap<>();
    /** The victim's metrics just before the SIGKILL (its chain counters die with it). */
    private volatile String victimMetrics = "";
    private EmbeddedZooKeeper zk;
    private StandaloneController controller;
    private DemoProgress progress;
    private ShapingRelay wanLink;
    private int gatewayBulkPort;
    private int gatewayWebPort;
    private int gatewayChainPort;
    private double servingSeconds;
    private BulkTransfers bulk;

    /** Nothing runs yet; ZooKeeper data, certificates and worker logs will go in {@code dir}. */
    DemoRun(PrintWriter out, Path dir) {
        this.out = out;
        this.dir = dir;
        Runtime.getRuntime().addShutdownHook(cleanup);
        this.started = System.nanoTime();
    }

    /**
     * Starts everything and the progress display; the workers are still coming up when it returns. Clients at
     * site A reach everything through the gateway: one VIP for the bulk sink at site B, one for the web servers;
     * it classifies each connection by the fleet policy and hands it to the worker placement chose (a wanopt
     * worker, or the cache worker owning the request's key).
     */
    void start(boolean quiet) throws Exception {
        // Issue 10: the admin API needs a token; the demo makes one for this run and prints it.
        String adminToken = UUID.randomUUID().toString();
        // Mutual TLS everywhere, from a throwaway CA made for this run (certificates in <dir>/tls).
        FleetCa ca = FleetCa.create(dir.resolve("tls"), "demo");
        sink = new DigestSink(InetAddress.getByName(DemoCommand.SITE_B_HOST), true);
        origin = new DemoOrigin(DemoCommand.WEB_HOST);
        chainOrigin = new DemoChainOrigin(DemoCommand.CHAIN_HOST);
        zk = EmbeddedZooKeeper.start(dir.resolve("zookeeper"), 0);
        controller = StandaloneController.start(ControllerSettings.builder(zk.connectString())
                .http("127.0.0.1", 0)
                .membershipGrace(Duration.ofSeconds(10))
                .policy(FleetPolicies.parse(DemoCommand.DEMO_POLICY))
                .adminAccess(AdminAccess.of(AdminTokens.parse("demo:operator:" + adminToken), false, false))
                .devCa(ca)
                .build());
        progress = new DemoProgress(out, System.console() != null, quiet, () -> controller.fleet().snapshot(),
                tally, origin.requests::get, started);
        out.printf("ZooKeeper %s, controller API http://127.0.0.1:%d/api/fleet (status page /status/), logs in %s%n",
                zk.connectString(), controller.httpPort(), dir);
        out.printf("admin token for this run (operator: PUT /api/policy, drain, the status page's buttons): %s%n",
                adminToken);
        gatewayBulkPort = Ports.free();
        gatewayWebPort = Ports.free();
        gatewayChainPort = Ports.free();
        int tunnelPortB = Ports.free();
        wanLink = new ShapingRelay(new InetSocketAddress("127.0.0.1", tunnelPortB),
                DemoCommand.WAN_MBIT * 1_000_000L / 8, DemoCommand.WAN_DELAY_MILLIS);
        out.printf("WAN link between the sites: %d Mbit/s, %d ms one way (user-space emulator)%n",
                DemoCommand.WAN_MBIT, DemoCommand.WAN_DELAY_MILLIS);
        out.printf("wanopt workers compress on an emulated hardware card; %s's card: %s%n", WAN_INGRESS,
                DemoCommand.CARD_FAULTS);
        for (DemoCommand.FleetMember w : FLEET) {
            workers.add(startWorker(w, ca, tunnelPortB));
        }
        out.printf("started %d worker JVMs; waiting for them to register and serve ...%n", workers.size());
        out.flush();
        progress.start();
    }

    /** One worker JVM with its role's arguments, registered in the run's ZooKeeper, its log under logs/. */
    private LocalWorkerProcess startWorker(DemoCommand.FleetMember w, FleetCa ca, int tunnelPortB)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("--role", w.role(), "--site", w.site(),
                "--zookeeper", zk.connectString(), "--zk-session-timeout-ms", "5000"));
        List<String> jvmFlags = new ArrayList<>(LocalWorkerProcess.DEFAULT_JVM_FLAGS);
        if (w.role().equals("gateway")) {
            args.addAll(List.of("--listen", gatewayBulkPort + "=" + DemoCommand.SITE_B_HOST + ":" + sink.port(),
                    "--listen", gatewayWebPort + "=" + DemoCommand.WEB_HOST + ":" + origin.port(),
                    "--listen", gatewayChainPort + "=" + DemoCommand.CHAIN_HOST + ":" + chainOrigin.port()));
        }
        if (w.role().equals("wanopt")) {
            jvmFlags.add("-D" + CardEmulatorProvider.PROPERTY + "=true");
            // On disk beside the logs, not on the 192 MiB heap: 1 GiB per peer and direction holds more
            // than the 20 Mbit/s link carries in ten minutes, so nothing the demo sends is evicted.
            args.addAll(List.of("--chunk-store-gib", "1"));
        }
        if (w.id().equals(WAN_INGRESS)) {
            args.addAll(List.of("--steered-port", "0"));
            jvmFlags.add("-D" + CardEmulatorFaults.PROPERTY + "=" + DemoCommand.CARD_FAULTS);
        }
        // Caches: no --origin, so explicit forward proxies. The clients name the origin (site A's web server or the
        // one behind site B) in their requests, and the gateway is their proxy; a cache fetches the one named, the
        // one behind site B through site A's wanopt worker (policy web-b, cache+wanopt).
        if (w.id().equals(WAN_EGRESS)) {
            // Site A reaches site B's tunnel endpoint only across the emulated WAN link.
            args.addAll(List.of("--data-port", Integer.toString(tunnelPortB),
                    "--data-advertise", "127.0.0.1:" + wanLink.port()));
        }
        args.addAll(FleetCa.tlsArgs(ca.issueWorker(w.site(), w.id())));
        return LocalWorkerProcess.start(w.id(), args, dir.resolve("logs"), jvmFlags, true);
    }

    /**
     * Waits up to 60 s until every worker is healthy and the fleet has converged on its configuration. When it
     * has not, prints the fleet and the log tails of the workers that are not healthy and returns false.
     */
    boolean awaitServing() throws InterruptedException {
        boolean serving = await(controller, s -> s.healthy().size() == FLEET.size() && s.converged(),
                Duration.ofSeconds(60));
        servingSeconds = (System.nanoTime() - started) / 1e9;
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
            return false;
        }
        progress.event("serving", String.format(Locale.ROOT, "fleet serving and configured %.1f s after start"
                + " (generation %d)", servingSeconds, controller.fleet().snapshot().generation()));
        printFleet(out, controller.fleet().snapshot());
        return true;
    }

    /** Warm-up: bulk transfers from site A to site B through the wanopt pair ({@link BulkTransfers#warmUp}). */
    DemoReport.WarmUp warmUp() throws Exception {
        String metrics = "http://" + controller.fleet().snapshot().worker(WAN_INGRESS).record().metricsEndpoint()
                + "/metrics";
        bulk = new BulkTransfers(progress, tally, gatewayBulkPort, metrics);
        progress.phase("warm-up", null);
        return bulk.warmUp(sink);
    }

    /**
     * The steady workload for {@code steadyFor}: near-duplicate and repeated bulk transfers from A to B, and
     * Zipf-distributed web requests through site A's caches (which share the key space by rendezvous hashing),
     * both continuously; half-way a cache worker is killed without warning ({@link #killVictim}). Returns when
     * both loops have finished the transfer or batch in flight.
     */
    Failover steady(Duration steadyFor) throws Exception {
        InetSocketAddress webProxy = new InetSocketAddress("127.0.0.1", gatewayWebPort);
        for (WorkerView v : controller.fleet().snapshot().workers()) {
            metricsUrls.put(v.id(), "http://" + v.record().metricsEndpoint() + "/metrics");
        }
        chain = new ChainWorkload(chainOrigin, new InetSocketAddress("127.0.0.1", gatewayChainPort));
        progress.phase("steady", steadyFor);
        progress.say(String.format(Locale.ROOT, "steady workload for %d s: bulk transfers A -> B and Zipf HTTP"
                + " requests over %d objects, through the gateway", steadyFor.toSeconds(), HTTP_OBJECTS));
        progress.say(String.format(Locale.ROOT, "chained web traffic (%s, cache+wanopt): %d clients, Zipf over %d"
                        + " objects of %d KiB at %s behind site B, %d of them changed every %d s, through the gateway"
                        + " and site A's caches, misses through the wanopt pair", DemoCommand.CHAIN_POLICY,
                ChainWorkload.CLIENTS, DemoChainOrigin.OBJECTS, DemoChainOrigin.OBJECT_BYTES / 1024,
                DemoCommand.CHAIN_HOST, DemoChainOrigin.CHANGED_PER_ROUND, DemoChainOrigin.CHANGE_MILLIS / 1000));
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService loops = Executors.newFixedThreadPool(3, r -> {
            Thread t = new Thread(r, "demo-workload");
            t.setDaemon(true);
            return t;
        });
        Future<?> bulkLoop = loops.submit(() -> {
            bulk.steady(stop);
            return null;
        });
        Future<?> webLoop = loops.submit(() -> {
            ZipfWorkload web = new ZipfWorkload(HTTP_OBJECTS, 1.0);
            for (long seed = 1; !stop.get(); seed++) {
                tally.http(web.run(origin.url(), webProxy, 200, 4, seed));
            }
            return null;
        });
        Future<?> chainLoop = loops.submit(() -> {
            chain.run(stop);
            return null;
        });
        Failover failover;
        try {
            pause(steadyFor.dividedBy(2));
            failover = killVictim(webProxy);
            pause(steadyFor.minus(Duration.ofNanos(System.nanoTime() - progress.phaseStartNanos())));
        } finally {
            stop.set(true);
            loops.shutdown();
        }
        // The loops finish the transfer or batch in flight.
        bulkLoop.get(120, TimeUnit.SECONDS);
        webLoop.get(60, TimeUnit.SECONDS);
        chainLoop.get(60, TimeUnit.SECONDS);
        return failover;
    }

    /**
     * Kills {@link DemoCommand#VICTIM} with SIGKILL and times how fast it leaves the steering set, how fast the
     * gateway steers around it, and (on its own thread) how fast a key it owned is served again by the survivor.
     */
    private Failover killVictim(InetSocketAddress webProxy) throws InterruptedException {
        LocalWorkerProcess victim = workers.stream().filter(p -> p.id().equals(VICTIM)).findFirst().orElseThrow();
        FleetSnapshot before = controller.fleet().snapshot();
        List<String> victimPaths = pathsOwnedBy(before, VICTIM, origin.url());
        String gatewayDigest = before.worker(GATEWAY).configDigest();
        try {
            victimMetrics = metricsText(metricsUrls.get(VICTIM));
        } catch (Exception e) {
            progress.say("could not read " + VICTIM + "'s metrics before the kill (its chain counters are lost): " + e);
        }
        long killedAt = System.nanoTime();
        victim.kill();
        CompletableFuture<Double> dataPlaneFailover = CompletableFuture.supplyAsync(
                () -> firstSuccess(webProxy, origin.url(), victimPaths, killedAt, Duration.ofSeconds(20)));
        boolean detected = await(controller, s -> !s.healthy().contains(VICTIM), Duration.ofSeconds(10));
        double detection = (System.nanoTime() - killedAt) / 1e9;
        progress.event("kill", String.format(Locale.ROOT, "killed %s (SIGKILL, pid %d): %s after %.0f ms",
                        VICTIM, victim.pid(), detected ? "out of the steering set" : "STILL in the steering set",
                        detection * 1000),
                new DemoReport.Kill(VICTIM, detected, detection));
        // The kill window ends when the gateway runs a table without the victim (its ApplyConfig answered).
        long reSteeredAt = awaitAt(controller, s -> !s.healthy().contains(VICTIM) && s.converged()
                && !s.worker(GATEWAY).configDigest().equals(gatewayDigest), Duration.ofSeconds(10));
        if (reSteeredAt >= 0) {
            progress.event("re-steered", String.format(Locale.ROOT, "the gateway steers around %s %.0f ms"
                    + " after the kill", VICTIM, (reSteeredAt - killedAt) / 1e6));
        }
        return new Failover(detection, killedAt, reSteeredAt, dataPlaneFailover);
    }

    /**
     * Finish: how many connections the gateway dispatched, the clients' HTTP totals, failures inside and outside
     * the kill window, and by request both the caches' savings (each client request counted once, by the worker
     * owning its key) and the origin's (requests it did not have to serve).
     */
    DemoReport.Traffic traffic(Failover failover) throws Exception {
        progress.phase("finish", null);
        String gatewayMetrics = "http://" + controller.fleet().snapshot().worker(GATEWAY).record().metricsEndpoint()
                + "/metrics";
        double dispatched = scrape(gatewayMetrics, "slipstream_gateway_connections");
        progress.say(String.format(Locale.ROOT, "the gateway dispatched %.0f client connections by policy and"
                + " placement", dispatched));
        long httpRequests = tally.httpRequests.get();
        long originRequests = origin.requests.get();
        long clientBytes = tally.httpBytes.get();
        long httpFailures = tally.httpFailures.get();
        long killedAt = failover.killedAt();
        long reSteeredAt = failover.reSteeredAt();
        long inKillWindow = reSteeredAt < 0 ? 0 : tally.httpFailuresBetween(killedAt, reSteeredAt);
        double killWindowSeconds = reSteeredAt < 0 ? -1 : (reSteeredAt - killedAt) / 1e9;
        double dataPlaneSeconds = failover.dataPlaneSeconds().get(30, TimeUnit.SECONDS);
        double cacheHitRatio = httpRequests == 0 ? 0 : Math.max(0, 1 - (double) originRequests / httpRequests);
        long originBytes = origin.bytes.get();
        double originBytesSavedRatio = clientBytes == 0 ? 0 : Math.max(0, 1 - (double) origin.bytes.get() / clientBytes);
        return new DemoReport.Traffic(dispatched, httpRequests, httpFailures, inKillWindow, httpFailures - inKillWindow,
                killWindowSeconds, dataPlaneSeconds, cacheHitRatio, originRequests, originBytes, originBytesSavedRatio,
                tally.latencyMillis(0.50), tally.latencyMillis(0.99));
    }

    /**
     * The chained web traffic: the clients' requests and failures (inside and outside the kill window), the
     * origin's count, and the chain counters of site A's caches (the victim's as read just before the SIGKILL)
     * and the policy's WAN bytes on both wanopt workers.
     */
    DemoReport.Chain chain(Failover failover) throws Exception {
        long missesViaTunnel = 0;
        long bypassed = 0;
        long hopFailures = 0;
        long originBytes = 0;
        for (DemoCommand.FleetMember w : FLEET) {
            if (!w.role().equals("cache")) {
                continue;
            }
            String text = w.id().equals(VICTIM) ? victimMetrics : metricsText(metricsUrls.get(w.id()));
            missesViaTunnel += (long) sum(text, "slipstream_cache_chain_fetches", "route=\"tunnel\"");
            bypassed += (long) sum(text, "slipstream_cache_chain_fetches", "route=\"bypass\"");
            hopFailures += (long) sum(text, "slipstream_cache_chain_hop_failures", "");
            originBytes += (long) sum(text, "slipstream_cache_chain_origin_bytes", "");
        }
        String policyTag = "policy=\"" + DemoCommand.CHAIN_POLICY + "\"";
        String ingress = metricsText(metricsUrls.get(WAN_INGRESS));
        String egress = metricsText(metricsUrls.get(WAN_EGRESS));
        long wanBytes = (long) (sum(ingress, "slipstream_wanopt_bytes_wan", policyTag)
                + sum(egress, "slipstream_wanopt_bytes_wan", policyTag));
        StringBuilder byKind = new StringBuilder();
        for (String kind : List.of("reference", "delta", "literal", "raw")) {
            byKind.append(String.format(Locale.ROOT, "%s%s %.2f/%.2f", byKind.length() == 0 ? "" : ", ", kind,
                    kindBytes(egress, "slipstream_wanopt_chunk_bytes", policyTag, kind) / 1048576.0,
                    kindBytes(egress, "slipstream_wanopt_encoded_bytes", policyTag, kind) / 1048576.0));
        }
        long requests = chain.requests.get();
        long failures = chain.failures();
        long inKillWindow = failover.reSteeredAt() < 0 ? 0
                : chain.failuresBetween(failover.killedAt(), failover.reSteeredAt());
        long hits = Math.max(0, requests - chainOrigin.requests.get());
        DemoReport.Chain result = new DemoReport.Chain(requests, hits, missesViaTunnel, bypassed, hopFailures,
                chainOrigin.notModified.get(), chainOrigin.changes(), originBytes, wanBytes,
                originBytes == 0 ? 0 : (double) wanBytes / originBytes, inKillWindow, failures - inKillWindow);
        progress.say(String.format(Locale.ROOT, "chained web traffic: %d requests (%d failed), %d hits, %d misses"
                        + " through the tunnel (%d bypassed), %d revalidated unchanged; %.2f MiB from the origin,"
                        + " %.2f MiB on the WAN (answers B -> A by encoding, MiB application/WAN: %s)", requests,
                failures, hits, missesViaTunnel, bypassed, chainOrigin.notModified.get(), originBytes / 1048576.0,
                wanBytes / 1048576.0, byKind));
        return result;
    }

    /** A wanopt counter family's samples for {@code policyTag} and encoding {@code kind}. */
    private static double kindBytes(String metrics, String family, String policyTag, String kind) {
        double total = 0;
        for (String line : metrics.split("\n")) {
            if (line.contains(policyTag) && line.contains("kind=\"" + kind + "\"")) {
                total += sum(line, family, "");
            }
        }
        return total;
    }

    /** The bulk transfers' totals ({@link BulkTransfers#totals}). */
    DemoReport.Bulk bulkTotals() {
        return bulk.totals();
    }

    /** Lets a load report after the last transfer reach the controller, then reads the fallbacks from it. */
    long compressionFallbacks() throws InterruptedException {
        pause(Duration.ofMillis(1500));
        long fallbacks = progress.compressionFallbacks();
        progress.say("compression fallbacks (hardware -> software blocks, from the wanopt workers' load reports): "
                + fallbacks);
        return fallbacks;
    }

    /** Stops the progress display and prints the fleet as the run ends; its timings, workers and events. */
    DemoReport.Fleet fleetAtEnd(Duration steadyFor, Failover failover) {
        FleetSnapshot last = controller.fleet().snapshot();
        progress.close();
        out.println("fleet at the end of the run:");
        printFleet(out, last);
        List<ObjectNode> workerViews = new ArrayList<>();
        for (WorkerView v : last.workers()) {
            workerViews.add(FleetJson.worker(v));
        }
        return new DemoReport.Fleet((System.nanoTime() - started) / 1e9, steadyFor.toSeconds(), zk.connectString(),
                servingSeconds, failover.detectionSeconds(), last.generation(), workerViews, progress.events());
    }

    /** Make-before-break exit: drains every live worker and lets it stop by itself; how many did. */
    int drain() throws Exception {
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
        return stopped;
    }

    /**
     * Stops, last started first, what {@link #start} started (as far as it got): the controller, ZooKeeper, the
     * origin and the sink; then the progress display, the WAN link and the workers; then drops the shutdown hook.
     */
    @Override
    @SuppressWarnings("try") // the resources are there only to be closed
    public void close() throws IOException {
        try (Closeable hook = () -> Runtime.getRuntime().removeShutdownHook(cleanup);
             Closeable workerJvms = () -> workers.forEach(LocalWorkerProcess::close);
             ShapingRelay link = wanLink;
             DemoProgress display = progress;
             DigestSink bulkSink = sink;
             DemoOrigin web = origin;
             DemoChainOrigin chainWeb = chainOrigin;
             EmbeddedZooKeeper zooKeeper = zk;
             StandaloneController fleetController = controller) {
            // closed in reverse order, each even when one closed before it failed
        }
    }

    /**
     * The paths of the demo's objects at {@code originUrl} whose key the gateway sends to {@code owner} (cache
     * rendezvous hashing), asked in absolute form through the gateway as the web clients ask them.
     */
    static List<String> pathsOwnedBy(FleetSnapshot snapshot, String owner, String originUrl) {
        List<Peer> members = new ArrayList<>();
        for (WorkerView v : snapshot.workers()) {
            if (v.steerable() && v.record().role().equals("cache") && v.record().site().equals("a")) {
                members.add(SteeringPlanner.member(v));
            }
        }
        List<String> paths = new ArrayList<>();
        if (members.isEmpty()) {
            return paths;
        }
        for (int i = 0; i < HTTP_OBJECTS; i++) {
            String path = "/obj/" + i;
            String key = HttpHead.parse("GET " + originUrl + path + " HTTP/1.1\r\nHost: "
                    + URI.create(originUrl).getRawAuthority() + "\r\n\r\n", null).cacheKey();
            if (CacheShards.owner(key, members).getWorkerId().equals(owner)) {
                paths.add(path);
            }
        }
        return paths;
    }

    /**
     * Seconds from {@code sinceNanos} to the first successful GET of one of {@code paths} at {@code base} through
     * the HTTP proxy {@code proxy} (asked in turn, every few milliseconds), or -1 when none succeeded within
     * {@code limit}.
     */
    static double firstSuccess(InetSocketAddress proxy, String base, List<String> paths, long sinceNanos,
            Duration limit) {
        if (paths.isEmpty()) {
            return -1;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.of(proxy)).connectTimeout(Duration.ofSeconds(1)).build();
        for (int i = 0; System.nanoTime() - sinceNanos < limit.toNanos(); i++) {
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base + paths.get(i % paths.size())))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() == 200 && r.body().length == DemoOrigin.OBJECT_BYTES) {
                    return (System.nanoTime() - sinceNanos) / 1e9;
                }
            } catch (IOException e) {
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

    /** Sums the samples of a Prometheus counter family (all tags) from a worker's /metrics. */
    static double scrape(String url, String family) throws Exception {
        return sum(metricsText(url), family, "");
    }

    /** A worker's /metrics (Prometheus text). */
    static String metricsText(String url) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /**
     * Sums the samples of a Prometheus counter family in {@code metrics} whose line contains {@code tag} (e.g.
     * {@code policy="web-b"}; empty: all).
     */
    static double sum(String metrics, String family, String tag) {
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(family) && !line.startsWith("#") && line.contains(tag)) {
                String name = line.substring(0, line.indexOf(line.contains("{") ? '{' : ' '));
                if (name.endsWith("_total")) {
                    sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        }
        return sum;
    }

    /**
     * Waits until the controller's snapshot satisfies {@code condition}; returns the {@link System#nanoTime()}
     * of the snapshot that first did, or -1 after {@code timeout}.
     */
    private static long awaitAt(StandaloneController controller, Predicate<FleetSnapshot> condition, Duration timeout)
            throws InterruptedException {
        AtomicLong metAt = new AtomicLong(-1);
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
            List<String> all = Files.readAllLines(p.log(), StandardCharsets.UTF_8);
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(out::println);
        } catch (IOException | UncheckedIOException e) {
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
}
