package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.tools.net.Ports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The {@code cache+wanopt} chain with real processes: a gateway, a cache worker and two wanopt workers at site a,
 * a wanopt worker at site b, an origin at site b (127.0.2.10) and one at site a (127.0.1.10), clients at a on
 * loopback. Hits are served at a; misses for the site-b origin cross the WAN through a wanopt worker of site a
 * (PROXY v2 header naming the origin and the policy), revalidations of changed and unchanged objects too; misses
 * for the site-a origin are fetched directly. kill -9 of the wanopt worker carrying the misses, under misses: none
 * fails (they move to the other one). kill -9 of the last one: with {@code peerUnavailable: bypass} misses are
 * fetched directly; after a policy change to {@code fail-fast} a miss is a 502 naming the reason, hits still serve.
 * Every body is checked byte for byte against the object (and version) asked for.
 */
class ChainIT {

    private static final String SITE_A_ORIGIN = "127.0.1.10";
    private static final String SITE_B_ORIGIN = "127.0.2.10";
    private static final String POLICY = "web";
    private static final int CLIENTS = 4;

    /**
     * An HTTP origin on one loopback address. {@code /obj/<n>}: an object fresh for five minutes, a deterministic
     * function of n. {@code /mut/<n>}: {@code no-cache} with an ETag of its version (every reuse is revalidated;
     * 304 while the version stands); {@link #change} makes a new version that differs in a few bytes.
     */
    private static final class Origin implements AutoCloseable {
        final HttpServer server;
        final ExecutorService threads = Executors.newFixedThreadPool(8);
        /** Every request: "GET /obj/3", "GET /mut/2 if-none-match" ... */
        final ConcurrentLinkedQueue<String> requests = new ConcurrentLinkedQueue<>();
        final AtomicInteger notModified = new AtomicInteger();
        final Map<Integer, Integer> versions = new ConcurrentHashMap<>();

        Origin(String address) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 100);
            server.setExecutor(threads);
            server.createContext("/", this::handle);
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        String authority() {
            return server.getAddress().getAddress().getHostAddress() + ":" + port();
        }

        void change(int n) {
            versions.merge(n, 1, Integer::sum);
        }

        int version(int n) {
            return versions.getOrDefault(n, 0);
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                String path = exchange.getRequestURI().getPath();
                String inm = exchange.getRequestHeaders().getFirst("If-None-Match");
                requests.add(exchange.getRequestMethod() + " " + path + (inm == null ? "" : " if-none-match"));
                byte[] body;
                if (path.startsWith("/obj/")) {
                    body = object(Integer.parseInt(path.substring(5)));
                    exchange.getResponseHeaders().set("Cache-Control", "public, max-age=300");
                } else if (path.startsWith("/mut/")) {
                    int n = Integer.parseInt(path.substring(5));
                    int v = version(n);
                    String etag = "\"m" + n + "-v" + v + "\"";
                    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
                    exchange.getResponseHeaders().set("ETag", etag);
                    if (etag.equals(inm)) {
                        notModified.incrementAndGet();
                        exchange.sendResponseHeaders(304, -1);
                        return;
                    }
                    body = mutable(n, v);
                } else {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            } catch (RuntimeException e) {
                exchange.sendResponseHeaders(500, -1);
            }
        }

        long count(String prefix) {
            return requests.stream().filter(r -> r.startsWith(prefix)).count();
        }

        @Override
        public void close() {
            server.stop(0);
            threads.shutdownNow();
        }
    }

    /** Object n: 4 to 52 KiB, distinct per n. */
    static byte[] object(int n) {
        byte[] b = new byte[4096 + (n * 7919) % (48 * 1024)];
        new Random(n * 31L + 7).nextBytes(b);
        return b;
    }

    /** Version v of mutable object n: the same 24 KiB with 16 bytes changed per version. */
    static byte[] mutable(int n, int v) {
        byte[] b = new byte[24 * 1024];
        new Random(1_000_000L + n).nextBytes(b);
        for (int i = 1; i <= v; i++) {
            Arrays.fill(b, (i * 997 + n * 13) % (b.length - 16), (i * 997 + n * 13) % (b.length - 16) + 16, (byte) i);
        }
        return b;
    }

    /** A response: status, head, body (de-chunked). */
    record Reply(int status, String head, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /**
     * GET {@code path} through the gateway's {@code port} with Host = {@code authority}, one request per connection
     * ({@code Connection: close}), so the gateway routes each on its own.
     */
    static Reply get(int port, String authority, String path) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            byte[] raw = all.toByteArray();
            int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
            if (headEnd < 0) {
                throw new IOException("no response head (" + raw.length + " bytes)");
            }
            String head = new String(raw, 0, headEnd, StandardCharsets.ISO_8859_1);
            int status = Integer.parseInt(head.substring(9, 12));
            byte[] body = Arrays.copyOfRange(raw, headEnd + 4, raw.length);
            String lower = head.toLowerCase(Locale.ROOT);
            if (lower.contains("\r\ntransfer-encoding: chunked")) {
                body = dechunk(body);
            } else {
                int cl = lower.indexOf("\r\ncontent-length:");
                if (cl >= 0) {
                    int end = lower.indexOf("\r\n", cl + 2);
                    long length = Long.parseLong(lower.substring(cl + 17, end < 0 ? lower.length() : end).strip());
                    if (body.length != length) {
                        throw new IOException("body of " + body.length + " bytes, Content-Length " + length);
                    }
                }
            }
            return new Reply(status, head, body);
        }
    }

    private static byte[] dechunk(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        byte[] crlf = "\r\n".getBytes(StandardCharsets.ISO_8859_1);
        while (true) {
            int eol = indexOf(b, crlf, i);
            if (eol < 0) {
                throw new IOException("truncated chunked body");
            }
            String size = new String(b, i, eol - i, StandardCharsets.ISO_8859_1);
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            if (n == 0) {
                return out.toByteArray();
            }
            if (eol + 2 + n > b.length) {
                throw new IOException("truncated chunk");
            }
            out.write(b, eol + 2, n);
            i = eol + 2 + n + 2;
        }
    }

    private static int indexOf(byte[] a, byte[] pattern, int from) {
        outer:
        for (int i = from; i + pattern.length <= a.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (a[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** GET an object through the gateway and check it: 200 and exactly {@code expected}. */
    private static void fetchAndCheck(int port, String authority, String path, byte[] expected) throws IOException {
        Reply r = get(port, authority, path);
        if (r.status() != 200) {
            throw new AssertionError(path + " -> " + r.head().lines().findFirst().orElse("") + ": " + r.text());
        }
        if (!Arrays.equals(r.body(), expected)) {
            throw new AssertionError(path + ": " + r.body().length + " bytes that are not the " + expected.length
                    + " expected");
        }
    }

    private static double metric(Fleet fleet, String id, String name, String... labels) throws Exception {
        return Metrics.sumExact(fleet.metrics(id), name, labels);
    }

    private static double tunneled(Fleet fleet) throws Exception {
        return metric(fleet, "cache-a1", "slipstream_cache_chain_fetches_total", "route=\"tunnel\"");
    }

    private static double bypassed(Fleet fleet) throws Exception {
        return metric(fleet, "cache-a1", "slipstream_cache_chain_fetches_total", "route=\"bypass\"");
    }

    private static double refused(Fleet fleet) throws Exception {
        return metric(fleet, "cache-a1", "slipstream_cache_chain_fetches_total", "route=\"refused\"");
    }

    private static double accepted(Fleet fleet, String id) throws Exception {
        return metric(fleet, id, "slipstream_wanopt_steered_connections_total", "outcome=\"accepted\"");
    }

    private static FleetPolicy policy(PeerUnavailable peerUnavailable) {
        return FleetPolicy.newBuilder()
                .addSites(Site.newBuilder().setName("a").addPrefixes("127.0.1.0/24"))
                .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.2.0/24"))
                .addPolicies(FlowPolicy.newBuilder().setName(POLICY).setIngressSite("a")
                        .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT)
                        .addDstPrefixes("127.0.1.0/24").addDstPrefixes("127.0.2.0/24")
                        .setPeerUnavailable(peerUnavailable))
                .build();
    }

    /** Replaces the policy through the admin API (GET for the ETag, PUT with If-Match). */
    private static void putPolicy(Fleet fleet, FleetPolicy policy) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + fleet.controller.httpPort() + "/api/policy");
        HttpResponse<String> current = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + Fleet.OPERATOR_TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(current.statusCode()).as("GET /api/policy: %s", current.body()).isEqualTo(200);
        String etag = current.headers().firstValue("ETag").orElse("\"1\"");
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + Fleet.OPERATOR_TOKEN).header("If-Match", etag)
                .PUT(HttpRequest.BodyPublishers.ofString(FleetPolicies.toJson(policy))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as("PUT /api/policy: %s", put.body()).isBetween(200, 299);
    }

    @Test
    void missesCrossTheWanThroughWanopt_surviveKill9OfTheirWorker_thenBypass_thenFailFastNamesTheReason()
            throws Exception {
        long testStart = System.nanoTime();
        Path logs = Path.of("target", "ChainIT-logs");
        Fleet.resetLogs(logs);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        AtomicBoolean running = new AtomicBoolean(true);
        try (Origin originB = new Origin(SITE_B_ORIGIN); Origin originA = new Origin(SITE_A_ORIGIN);
                Fleet fleet = new Fleet(logs)) {
            fleet.startController(policy(PeerUnavailable.PEER_UNAVAILABLE_BYPASS));
            int gatewayB = Ports.free();
            int gatewayA = Ports.free();
            fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayB + "=" + originB.authority(),
                    "--listen", gatewayA + "=" + originA.authority());
            // Forward proxy: each request goes to its Host, so one cache worker serves both origins.
            fleet.startWorker("cache-a1", "cache", "a");
            LocalWorkerProcess wanA1 = fleet.startWorker("wan-a1", "wanopt", "a", "--steered-port", "0");
            LocalWorkerProcess wanA2 = fleet.startWorker("wan-a2", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-b1", "wanopt", "b");
            fleet.awaitServingAndConfigured("gw-a", "cache-a1", "wan-a1", "wan-a2", "wan-b1");
            // The cache's chain table names both wanopt workers of site a before the first miss: the bucket owner
            // of the origin stays the same until the kill.
            fleet.awaitFleet(s -> s.converged() && s.healthy().size() == 5);
            String b = originB.authority();
            String a = originA.authority();

            // The first miss through the whole chain (the tunnels come up after the configuration).
            await().atMost(Fleet.WAIT).ignoreExceptions()
                    .untilAsserted(() -> fetchAndCheck(gatewayB, b, "/obj/0", object(0)));
            assertThat(tunneled(fleet)).as("tunneled fetches after the first miss").isPositive();
            assertThat(bypassed(fleet)).as("bypassed fetches with both wanopt workers up").isZero();

            // Misses for site b: each once at the origin, through the tunnel.
            double tunneledBefore = tunneled(fleet);
            long originBefore = originB.requests.size();
            int objects = 40;
            for (int n = 1; n < objects; n++) {
                fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
            }
            assertThat(originB.requests.size() - originBefore).as("site-b origin requests for 39 misses")
                    .isEqualTo(objects - 1);
            assertThat(tunneled(fleet) - tunneledBefore).as("tunneled fetches for 39 misses")
                    .isEqualTo(objects - 1);

            // Misses for the cache's own site: fetched directly, nothing through a wanopt worker.
            tunneledBefore = tunneled(fleet);
            double acceptedBefore = accepted(fleet, "wan-a1") + accepted(fleet, "wan-a2");
            for (int n = 0; n < 10; n++) {
                fetchAndCheck(gatewayA, a, "/obj/" + n, object(n));
            }
            assertThat(originA.count("GET /obj/")).as("site-a origin requests").isEqualTo(10);
            assertThat(tunneled(fleet)).as("tunneled fetches after own-site misses").isEqualTo(tunneledBefore);
            assertThat(accepted(fleet, "wan-a1") + accepted(fleet, "wan-a2")).as("steered connections")
                    .isEqualTo(acceptedBefore);

            // Hits at site a: the origins see nothing.
            long bRequests = originB.requests.size();
            long aRequests = originA.requests.size();
            for (int n = 0; n < objects; n++) {
                fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
            }
            for (int n = 0; n < 10; n++) {
                fetchAndCheck(gatewayA, a, "/obj/" + n, object(n));
            }
            assertThat(originB.requests.size()).as("site-b origin requests during hits").isEqualTo(bRequests);
            assertThat(originA.requests.size()).as("site-a origin requests during hits").isEqualTo(aRequests);

            // Revalidations cross the WAN too: unchanged objects come back 304, changed ones with the new bytes.
            int mutables = 10;
            for (int n = 0; n < mutables; n++) {
                fetchAndCheck(gatewayB, b, "/mut/" + n, mutable(n, 0));
            }
            for (int n = 0; n < mutables; n += 2) {
                originB.change(n);
            }
            tunneledBefore = tunneled(fleet);
            for (int n = 0; n < mutables; n++) {
                fetchAndCheck(gatewayB, b, "/mut/" + n, mutable(n, originB.version(n)));
            }
            assertThat(originB.count("GET /mut/")).as("mutable requests at the origin").isEqualTo(2L * mutables);
            assertThat(originB.requests.stream().filter(r -> r.startsWith("GET /mut/") && r.endsWith("if-none-match"))
                    .count()).as("conditional requests").isEqualTo(mutables);
            assertThat(originB.notModified.get()).as("304s for unchanged objects").isEqualTo(mutables / 2);
            assertThat(tunneled(fleet) - tunneledBefore).as("tunneled revalidations").isEqualTo(mutables);

            // All misses went to the owner of the origin's bucket; the wanopt workers count the traffic.
            double a1 = accepted(fleet, "wan-a1");
            double a2 = accepted(fleet, "wan-a2");
            assertThat(Math.min(a1, a2)).as("steered connections of the wanopt worker not owning the origin")
                    .isZero();
            assertThat(Math.max(a1, a2)).as("steered connections of the carrier").isPositive();
            String carrierId = a1 > 0 ? "wan-a1" : "wan-a2";
            String spareId = a1 > 0 ? "wan-a2" : "wan-a1";
            LocalWorkerProcess carrier = a1 > 0 ? wanA1 : wanA2;
            LocalWorkerProcess spare = a1 > 0 ? wanA2 : wanA1;
            double bytesFromB = metric(fleet, "wan-b1", "slipstream_wanopt_bytes_in_bytes_total");
            assertThat(bytesFromB).as("bytes wan-b1 carried back from the origin")
                    .isGreaterThan(objects * 4096.0);
            assertThat(metric(fleet, carrierId, "slipstream_wanopt_bytes_in_bytes_total"))
                    .as("request bytes the carrier sent to site b").isPositive();
            assertThat(metric(fleet, "cache-a1", "slipstream_cache_chain_origin_bytes_total"))
                    .as("origin bytes through the tunnel").isGreaterThan(objects * 4096.0);

            // kill -9 of the carrier during misses: none fails, the rest go through the spare.
            AtomicInteger nextObject = new AtomicInteger(1000);
            AtomicInteger done = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            Set<String> missed = ConcurrentHashMap.newKeySet();
            List<Future<?>> running1 = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                running1.add(clients.submit(() -> {
                    while (running.get()) {
                        int n = nextObject.getAndIncrement();
                        missed.add("GET /obj/" + n);
                        try {
                            fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
                        } catch (IOException | AssertionError e) {
                            failures.add("/obj/" + n + ": " + e);
                        }
                        done.incrementAndGet();
                    }
                }));
            }
            await().atMost(Fleet.WAIT).until(() -> done.get() >= 20 || !failures.isEmpty());
            assertThat(metric(fleet, spareId, "slipstream_wanopt_bytes_in_bytes_total"))
                    .as("request bytes the spare carried before the kill").isZero();
            long killedAt = System.nanoTime();
            int doneAtKill = done.get();
            carrier.kill();
            fleet.awaitFleet(s -> !s.healthy().contains(carrierId));
            double detectedSeconds = (System.nanoTime() - killedAt) / 1e9;
            // Misses go on well past the controller's new table (the spare alone then).
            await().atMost(Duration.ofSeconds(30)).until(() -> done.get() >= doneAtKill + 60 || !failures.isEmpty());
            running.set(false);
            for (Future<?> f : running1) {
                f.get(30, TimeUnit.SECONDS);
            }
            int missesDuringKill = done.get() - doneAtKill;
            double hopFailures = metric(fleet, "cache-a1", "slipstream_cache_chain_hop_failures_total");
            assertThat(failures).as("failed misses around kill -9 of %s", carrierId).isEmpty();
            assertThat(metric(fleet, spareId, "slipstream_wanopt_bytes_in_bytes_total"))
                    .as("request bytes the spare carried to site b").isPositive();
            assertThat(metric(fleet, "wan-b1", "slipstream_wanopt_bytes_in_bytes_total", "peer=\"" + spareId + "\""))
                    .as("response bytes wan-b1 sent back through the spare").isGreaterThan(60 * 4096.0);
            assertThat(bypassed(fleet)).as("bypassed fetches while a wanopt worker was up").isZero();

            // kill -9 of the last wanopt worker at a: misses are fetched directly (peerUnavailable: bypass).
            spare.kill();
            fleet.awaitFleet(s -> !s.healthy().contains(spareId));
            double bypassedBefore = bypassed(fleet);
            long originBeforeBypass = originB.requests.size();
            for (int n = 2000; n < 2010; n++) {
                missed.add("GET /obj/" + n);
                fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
            }
            assertThat(bypassed(fleet) - bypassedBefore).as("bypassed fetches").isGreaterThanOrEqualTo(10);
            assertThat(originB.requests.size() - originBeforeBypass).as("origin requests of bypassed misses")
                    .isEqualTo(10);
            // Hits still hit.
            for (int n = 0; n < objects; n++) {
                fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
            }
            assertThat(originB.requests.size() - originBeforeBypass).as("origin requests after hits")
                    .isEqualTo(10);

            // fail-fast: a miss is refused with a 502 naming the reason; hits still serve; the origin sees nothing.
            putPolicy(fleet, policy(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST));
            AtomicInteger probe = new AtomicInteger(3000);
            Reply refusedReply = await().atMost(Fleet.WAIT).until(() -> {
                int n = probe.getAndIncrement();
                missed.add("GET /obj/" + n);
                return get(gatewayB, b, "/obj/" + n);
            }, r -> r.status() == 502);
            System.out.println("CHAIN fail-fast: " + refusedReply.head().lines().findFirst().orElse("") + ": "
                    + refusedReply.text());
            assertThat(refusedReply.text()).contains("no wanopt worker").contains(POLICY).contains("fail-fast");
            double refusedBefore = refused(fleet);
            long originBeforeRefusals = originB.requests.size();
            for (int n = 4000; n < 4005; n++) {
                Reply r = get(gatewayB, b, "/obj/" + n);
                assertThat(r.status()).as("miss /obj/%d under fail-fast: %s", n, r.text()).isEqualTo(502);
            }
            Reply revalidation = get(gatewayB, b, "/mut/1");
            assertThat(revalidation.status()).as("revalidation under fail-fast: %s", revalidation.text())
                    .isEqualTo(502);
            for (int n = 0; n < 10; n++) {
                fetchAndCheck(gatewayB, b, "/obj/" + n, object(n));
                fetchAndCheck(gatewayA, a, "/obj/" + n, object(n));
            }
            assertThat(refused(fleet) - refusedBefore).as("refused fetches").isGreaterThanOrEqualTo(6);
            assertThat(originB.requests.size()).as("origin requests while refusing").isEqualTo(originBeforeRefusals);

            // The origin saw requests only for misses and revalidations: every /obj/ path it saw was a miss.
            List<String> unexpected = originB.requests.stream()
                    .filter(r -> r.startsWith("GET /obj/") && !r.matches("GET /obj/([0-9]|[1-3][0-9])")
                            && !missed.contains(r))
                    .toList();
            assertThat(unexpected).as("origin requests that were not misses").isEmpty();
            long repeated = originB.count("GET /obj/") - originB.requests.stream()
                    .filter(r -> r.startsWith("GET /obj/")).distinct().count();

            System.out.printf(Locale.ROOT, "CHAIN: %.0f tunneled fetches, %.0f bypassed, %.0f refused; carrier %s "
                            + "killed under misses: %d misses during/after, 0 failed, detection %.2f s, %.0f hop "
                            + "failures, %d objects fetched twice at the origin (retried); wan-b1 carried %.0f "
                            + "bytes; test %.1f s%n",
                    tunneled(fleet), bypassed(fleet), refused(fleet), carrierId, missesDuringKill, detectedSeconds,
                    hopFailures, repeated, bytesFromB, (System.nanoTime() - testStart) / 1e9);
        } finally {
            running.set(false);
            clients.shutdownNow();
        }
    }
}
