package io.slipstream.e2e.chaos;

import static org.awaitility.Awaitility.await;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.local.FleetCa;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.controller.standalone.ControllerSettings;
import io.slipstream.controller.standalone.StandaloneController;
import io.slipstream.proto.v1.FleetPolicy;
import java.io.IOException;
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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;

/**
 * The data-plane chaos scenarios' fleet: a real ZooKeeper, the standalone controller in this JVM, worker JVMs
 * with JVM flags of the scenario's choosing, and their /metrics. Worker logs go under
 * {@code target/<scenario>-logs} (kept to diagnose a failure). Closed in reverse; every worker is killed by PID.
 */
final class DataFleet implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(60);

    final TestingServer zk;
    private final FleetCa ca;
    final Path logs;
    final List<LocalWorkerProcess> workers = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    StandaloneController controller;

    DataFleet(String scenario) throws Exception {
        this.logs = Path.of("target", scenario + "-logs");
        if (Files.exists(logs)) {
            try (var old = Files.list(logs)) {
                for (Path f : (Iterable<Path>) old::iterator) {
                    Files.delete(f);
                }
            }
        }
        Files.createDirectories(logs);
        this.zk = new TestingServer(true);
        // Mutual TLS between the controller and the workers, from a CA made for this scenario.
        this.ca = FleetCa.create(logs.resolve("tls"), scenario);
    }

    StandaloneController startController(FleetPolicy policy) throws Exception {
        controller = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .membershipGrace(Duration.ofSeconds(20))
                .loadIntervalMillis(200)
                .policy(policy)
                .devCa(ca)
                .build());
        return controller;
    }

    LocalWorkerProcess startWorker(String id, String role, String site, String... extraArgs) throws IOException {
        return startWorker(id, role, site, List.of(), extraArgs);
    }

    /** A worker JVM with the launcher's default flags plus {@code extraJvmFlags} (later flags win). */
    LocalWorkerProcess startWorker(String id, String role, String site, List<String> extraJvmFlags,
                                   String... extraArgs) throws IOException {
        List<String> args = new ArrayList<>(List.of("--role", role, "--site", site,
                "--zookeeper", zk.getConnectString(), "--zk-session-timeout-ms", "4000"));
        args.addAll(List.of(extraArgs));
        args.addAll(FleetCa.tlsArgs(ca.issueWorker(site, id)));
        List<String> flags = new ArrayList<>(LocalWorkerProcess.DEFAULT_JVM_FLAGS);
        flags.addAll(extraJvmFlags);
        LocalWorkerProcess p = LocalWorkerProcess.start(id, args, logs, flags, true);
        workers.add(p);
        return p;
    }

    FleetSnapshot awaitFleet(Predicate<FleetSnapshot> condition) {
        return await().atMost(WAIT).until(() -> controller.fleet().snapshot(), condition);
    }

    /** Every named worker serving and running the configuration the controller wants. */
    FleetSnapshot awaitServingAndConfigured(String... ids) {
        return awaitFleet(s -> {
            for (String id : ids) {
                var w = s.worker(id);
                if (w == null || !w.healthy() || w.configDigest().isEmpty()) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The worker's Prometheus text from its /metrics endpoint (as registered). */
    String metrics(String id) throws IOException, InterruptedException {
        String endpoint = controller.fleet().snapshot().worker(id).record().metricsEndpoint();
        return http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of every sample of {@code name} whose labels contain all of {@code labels} ("k=\"v\"" pairs). */
    static double sum(String metricsText, String name, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(metricsText);
        double total = 0;
        while (m.find()) {
            String tags = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String l : labels) {
                all &= tags.contains(l);
            }
            if (all) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    /** Whether the worker's log mentions {@code text} (e.g. OutOfMemoryError). */
    static boolean logMentions(LocalWorkerProcess p, String text) throws IOException {
        return Files.exists(p.log()) && new String(Files.readAllBytes(p.log()), StandardCharsets.UTF_8).contains(text);
    }

    @Override
    public void close() throws Exception {
        for (LocalWorkerProcess p : workers) {
            p.kill();
        }
        for (LocalWorkerProcess p : workers) {
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        if (controller != null) {
            controller.close();
        }
        zk.close();
    }
}
