package io.slipstream.e2e.chaos;

import io.slipstream.e2e.Metrics;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.e2e.Fleet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** What the control-plane chaos scenarios share: log directories, warm-up, the workers' configuration figures. */
final class ControlSupport {

    private ControlSupport() {}

    /** Empties (or creates) a log directory under target/, kept after the run to diagnose a failure. */
    static void resetLogs(Path logs) throws IOException {
        io.slipstream.e2e.Fleet.resetLogs(logs);
    }

    /** One flow of 16 KiB to {@code port}, echoed back intact. */
    static boolean echoed(int port, long seed) {
        byte[] data = new byte[16 * 1024];
        new Random(seed).nextBytes(data);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(data);
            s.shutdownOutput();
            return Arrays.equals(s.getInputStream().readAllBytes(), data);
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until {@code run} consecutive flows to {@code port} come back intact (tunnels up, steering pushed). */
    static void untilEchoed(int port, int run) {
        await().atMost(Fleet.WAIT).until(() -> {
            for (int i = 0; i < run; i++) {
                if (!echoed(port, System.nanoTime())) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Waits until a GET of {@code url} answers 200. */
    static void untilFetched(String url) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        await().atMost(Fleet.WAIT).ignoreExceptions().until(() -> client.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }

    /**
     * ApplyConfig calls each worker has served (changed, unchanged or rejected: its
     * {@code slipstream_worker_config_apply_total}), by worker id, from each worker's metrics endpoint.
     */
    static Map<String, Double> configApplies(Map<String, String> metricsEndpoints) throws Exception {
        Map<String, Double> applies = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : metricsEndpoints.entrySet()) {
            applies.put(e.getKey(), Metrics.sum(Metrics.scrape(e.getValue()),
                    "slipstream_worker_config_apply_total"));
        }
        return applies;
    }

    /** Configurations that changed something on each worker ({@code result="changed"}), by worker id. */
    static Map<String, Double> configChanges(Map<String, String> metricsEndpoints) throws Exception {
        Map<String, Double> changes = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : metricsEndpoints.entrySet()) {
            changes.put(e.getKey(), Metrics.sum(Metrics.scrape(e.getValue()),
                    "slipstream_worker_config_apply_total", "result=\"changed\""));
        }
        return changes;
    }

    /** The sum over workers of after - before. */
    static double delta(Map<String, Double> before, Map<String, Double> after) {
        double d = 0;
        for (Map.Entry<String, Double> e : after.entrySet()) {
            d += e.getValue() - before.getOrDefault(e.getKey(), 0.0);
        }
        return d;
    }

    /**
     * A fleet policy (sites a, b) whose one flow policy, wanopt from a to {@code port}, is named {@code name}: the name
     * says on a worker ({@code GetStatus}) which policy version it runs.
     */
    static String namedPolicy(String name, int port) {
        return "{\"sites\":[{\"name\":\"a\",\"prefixes\":[\"198.18.1.0/24\"]},{\"name\":\"b\",\"prefixes\":"
                + "[\"198.18.2.0/24\"]}],\"policies\":[{\"name\":\"" + name + "\",\"ingressSite\":\"a\",\"dstPorts\":"
                + "[{\"first\":" + port + ",\"last\":" + port + "}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}]}";
    }

    /** The name of the first flow policy of a policy JSON (see {@link #namedPolicy}). */
    static String policyName(String policyJson) throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(policyJson).path("policies").get(0)
                .path("name").asText();
    }

    /** The version in a policy ETag such as {@code "7"}. */
    static long etagVersion(String etag) {
        return Long.parseLong(etag.replace("\"", ""));
    }

    /** The configuration digest the controller knows each worker runs. */
    static Map<String, String> digests(FleetSnapshot snapshot, Collection<String> ids) {
        Map<String, String> digests = new LinkedHashMap<>();
        for (String id : ids) {
            WorkerView w = snapshot.worker(id);
            digests.put(id, w == null ? null : w.configDigest());
        }
        return digests;
    }
}
