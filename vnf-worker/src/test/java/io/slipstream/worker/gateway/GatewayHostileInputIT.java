package io.slipstream.worker.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.cache.CacheProxySettings;
import io.slipstream.worker.cache.CacheServer;
import io.slipstream.worker.control.DataPlaneStats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile HTTP input at a gateway's L7 (cache chain) dispatch, in front of a real cache worker and origin:
 * slow heads are cut off at the configurable head timeout without delaying other clients, and smuggling
 * attempts are refused either by the gateway's own head check or by the cache behind it, never reaching
 * the origin.
 */
class GatewayHostileInputIT {

    private static final long HEAD_TIMEOUT_MILLIS = 2500;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private HttpServer origin;
    private final Map<String, AtomicInteger> originCounts = new ConcurrentHashMap<>();
    private CacheServer cache;
    private Gateway gateway;
    private ScheduledExecutorService trickler;

    @BeforeEach
    void start() throws Exception {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        origin.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            originCounts.computeIfAbsent(ex.getRequestURI().getRawPath(), p -> new AtomicInteger()).incrementAndGet();
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Cache-Control", "max-age=60");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        origin.start();
        int originPort = origin.getAddress().getPort();
        cache = new CacheServer(CacheProxySettings.builder().workerId("cache-a").forwardProxy(false)
                .origin(URI.create("http://127.0.0.1:" + originPort)).threads(1).build()).start();
        Peer member = Peer.newBuilder().setWorkerId("cache-a").setSite("a").setWeight(1)
                .setDataEndpoint("127.0.0.1:" + cache.address().getPort()).build();
        gateway = new Gateway(new Gateway.Settings("gw-h", "a",
                List.of(GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", originPort))), 1,
                Gateway.DEFAULT_POOL_PER_MEMBER, Gateway.DEFAULT_POOL_MAX_IDLE_MILLIS, HttpHead.DEFAULT_MAX_BYTES,
                HEAD_TIMEOUT_MILLIS), meters, new DataPlaneStats()).start();
        SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy("web").setSite("a")
                .setChain(ServiceChain.SERVICE_CHAIN_CACHE).addMembers(member);
        for (int b = 0; b < 16; b++) {
            entry.addOwners(0);
        }
        gateway.apply(WorkerConfig.newBuilder().setGeneration(1)
                .addPolicies(FlowPolicy.newBuilder().setName("web").setChain(ServiceChain.SERVICE_CHAIN_CACHE)
                        .addDstPorts(PortRange.newBuilder().setFirst(originPort).setLast(originPort)))
                .setSteering(SteeringTable.newBuilder().setBucketCount(16).addEntries(entry)).build());
        trickler = Executors.newScheduledThreadPool(2);
    }

    @AfterEach
    void stop() {
        trickler.shutdownNow();
        gateway.close();
        cache.close();
        origin.stop(0);
    }

    private Socket client() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.listenAddress(0).getPort());
        s.setSoTimeout(15_000);
        return s;
    }

    private String exchange(String request) throws IOException {
        try (Socket s = client()) {
            try {
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            } catch (IOException e) {
                // answered and closed before everything was written
            }
            return readAll(s.getInputStream());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                got.write(buf, 0, n);
            }
        } catch (SocketException | SocketTimeoutException e) {
            // reset after the answer
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private double outcome(String outcome) {
        var c = meters.find("slipstream.gateway.connections").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    /** Writes one byte of {@code text} every {@code periodMillis} until done, stopped, or the socket fails. */
    private Future<?> trickle(OutputStream out, String text, long periodMillis) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        AtomicInteger next = new AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Future<?>> self = new java.util.concurrent.atomic.AtomicReference<>();
        self.set(trickler.scheduleAtFixedRate(() -> {
            int i = next.getAndIncrement();
            try {
                if (i >= bytes.length) {
                    throw new IOException("done");
                }
                out.write(bytes[i]);
                out.flush();
            } catch (IOException e) {
                Future<?> f = self.get();
                if (f != null) {
                    f.cancel(false);
                }
            }
        }, 0, periodMillis, TimeUnit.MILLISECONDS));
        return self.get();
    }

    @Test
    void slowlorisHead_is408AtTheHeadTimeout_andCounted() throws Exception {
        try (Socket s = client()) {
            long t0 = System.nanoTime();
            Future<?> t = trickle(s.getOutputStream(), "GET /page HTTP/1.1\r\nHost: site\r\nX-Slow: " + "s".repeat(300),
                    200);
            String r = readAll(s.getInputStream());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            t.cancel(false);
            assertThat(r).startsWith("HTTP/1.1 408 ").contains("no complete request head within 2500 ms");
            assertThat(millis).isBetween(2000L, 12_000L);
            System.out.printf("gateway slowloris: cut off after %d ms (head timeout %d ms)%n", millis,
                    HEAD_TIMEOUT_MILLIS);
        }
        assertThat(outcome("head_timeout")).isEqualTo(1);
        assertThat(originCounts).isEmpty();
    }

    private List<Long> normalLatencies(long forMillis) throws IOException {
        List<Long> latencies = new ArrayList<>();
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(forMillis);
        while (System.nanoTime() < until) {
            long t0 = System.nanoTime();
            assertThat(exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 ").endsWith("ok");
            latencies.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0));
        }
        latencies.sort(null);
        return latencies;
    }

    @Test
    void fiftySlowlorisClients_doNotDelayOtherClients() throws Exception {
        normalLatencies(1000); // warm-up: class loading and JIT, not the subject
        List<Long> baseline = normalLatencies(1000);
        System.out.printf("gateway alone: %d normal requests, p50 %d us, max %d us%n",
                baseline.size(), baseline.get(baseline.size() / 2), baseline.get(baseline.size() - 1));
        List<Socket> slow = new ArrayList<>();
        ExecutorService readers = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Socket s = client();
                slow.add(s);
                trickle(s.getOutputStream(), "GET /page HTTP/1.1\r\nHost: site\r\nX-Slow: " + "s".repeat(300), 300);
                answers.add(readers.submit(() -> readAll(s.getInputStream())));
            }
            List<Long> latencies = normalLatencies(HEAD_TIMEOUT_MILLIS - 500);
            for (Future<String> a : answers) {
                assertThat(a.get(20, TimeUnit.SECONDS)).startsWith("HTTP/1.1 408 ");
            }
            System.out.printf("gateway with 50 slowloris clients: %d normal requests, p50 %d us, max %d us%n",
                    latencies.size(), latencies.get(latencies.size() / 2), latencies.get(latencies.size() - 1));
            assertThat(latencies.size()).isGreaterThan(5);
            assertThat(latencies.get(latencies.size() - 1)).isLessThan(TimeUnit.SECONDS.toMicros(2));
            assertThat(outcome("head_timeout")).isEqualTo(50);
        } finally {
            readers.shutdownNow();
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void smugglingAttempts_areRefusedByTheGatewayOrTheCache_neverReachTheOrigin() throws Exception {
        String smuggled = "GET /smuggled HTTP/1.1\r\nHost: site\r\n\r\n";
        String[] heads = {
            // refused by the gateway's own head check
            "GET /page HTTP/1.1\r\nHost: site\r\nHost: evil\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost:\r\n site\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: site\rX-A: b\r\n\r\n",
            "GE T /page HTTP/1.1\r\nHost: site\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
            // relayed, then refused by the cache
            "POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc",
            "POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: site\r\nX-Null: a\u0000b\r\n\r\n",
        };
        for (String head : heads) {
            String r = exchange(head + smuggled);
            assertThat(r).as(head).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close");
            assertThat(r.indexOf("HTTP/1.1 ", 1)).as(head).isNegative();
        }
        assertThat(outcome("bad_request")).isEqualTo(5);
        assertThat(originCounts).isEmpty();
        assertThat(exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n")).endsWith("ok");
    }
}
