package io.slipstream.worker.gateway;

import static io.slipstream.worker.gateway.TestServers.roundTrip;
import static io.slipstream.worker.gateway.TestServers.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.proto.v1.CacheSettings;
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
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A gateway on loopback in front of real servers: bypass, L4 steering with PROXY v2, L7 by cache key. */
class GatewayIT {

    private static final int BUCKETS = 64;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DataPlaneStats stats = new DataPlaneStats();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestServers.Echo echo;
    private Gateway gateway;

    @BeforeEach
    void start() throws Exception {
        echo = add(new TestServers.Echo("server", false));
        gateway = new Gateway(new Gateway.Settings("gw-a", "a",
                List.of(GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", echo.port()))), 2), meters, stats)
                .start();
    }

    private <T extends AutoCloseable> T add(T c) {
        closeables.add(c);
        return c;
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private Socket client() throws Exception {
        return new Socket(InetAddress.getLoopbackAddress(), gateway.listenAddress(0).getPort());
    }

    private double connections(String policy, String outcome) {
        var c = meters.find("slipstream.gateway.connections").tag("policy", policy).tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    private static Peer member(String id, String endpoint) {
        return Peer.newBuilder().setWorkerId(id).setSite("a").setDataEndpoint(endpoint).setWeight(1).build();
    }

    private static FlowPolicy policy(String name, ServiceChain chain, int port) {
        return FlowPolicy.newBuilder().setName(name).setChain(chain)
                .addDstPorts(PortRange.newBuilder().setFirst(port).setLast(port)).build();
    }

    /** One policy for the destination port, its entry owned bucket by bucket round-robin by {@code members}. */
    private static WorkerConfig config(long generation, String name, ServiceChain chain, int port, Peer... members) {
        SteeringEntry.Builder e = SteeringEntry.newBuilder().setPolicy(name).setSite("a").setChain(chain);
        for (Peer p : members) {
            e.addMembers(p);
        }
        for (int b = 0; members.length > 0 && b < BUCKETS; b++) {
            e.addOwners(b % members.length);
        }
        return WorkerConfig.newBuilder().setGeneration(generation).addPolicies(policy(name, chain, port))
                .setSteering(SteeringTable.newBuilder().setBucketCount(BUCKETS).addEntries(e)).build();
    }

    @Test
    void vip_noPolicy_bypassesToTheDestination_bytesIntact() throws Exception {
        byte[] data = TestServers.random(4 << 20, 1);
        try (Socket s = client()) {
            assertThat(sha256(roundTrip(s, data))).isEqualTo(sha256(data));
        }
        assertThat(connections("none", "spliced")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> stats.activeFlows() == 0);
        assertThat(meters.find("slipstream.gateway.bytes").tag("direction", "upstream").counter().count())
                .isEqualTo(data.length);
        assertThat(meters.find("slipstream.gateway.bytes").tag("direction", "downstream").counter().count())
                .isEqualTo(data.length);
        assertThat(meters.find("slipstream.gateway.dispatch.latency").tag("chain", "bypass").timer().count())
                .isEqualTo(1);
    }

    @Test
    void wanoptPolicy_flowsSpreadPerPlacement_eachWithAProxyV2HeaderOfItsOriginalAddresses() throws Exception {
        TestServers.Echo w1 = add(new TestServers.Echo("wan-1", true));
        TestServers.Echo w2 = add(new TestServers.Echo("wan-2", true));
        WorkerConfig config = config(1, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port(),
                member("wan-1", w1.endpoint()), member("wan-2", w2.endpoint()));
        assertThat(gateway.apply(config)).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> gateway.idleConnections(HostPort.parse(w1.endpoint()))
                == Gateway.DEFAULT_POOL_PER_MEMBER && gateway.idleConnections(HostPort.parse(w2.endpoint()))
                == Gateway.DEFAULT_POOL_PER_MEMBER);

        Map<Integer, String> expected = new ConcurrentHashMap<>();
        for (int i = 0; i < 40; i++) {
            try (Socket s = client()) {
                FlowKey flow = FlowKey.tcp(InetAddress.getLoopbackAddress(), s.getLocalPort(),
                        InetAddress.getLoopbackAddress(), echo.port(), "a");
                expected.put(s.getLocalPort(), FlowHash.bucket(flow, BUCKETS) % 2 == 0 ? "wan-1" : "wan-2");
                byte[] data = TestServers.random(10_000, i);
                assertThat(roundTrip(s, data)).isEqualTo(data);
            }
        }
        for (TestServers.Echo w : List.of(w1, w2)) {
            for (TestServers.Header h : w.headers) {
                assertThat(expected.get(h.sourcePort())).as("flow from port %d", h.sourcePort()).isEqualTo(w.name);
                assertThat(h.source()).isEqualTo("127.0.0.1");
                assertThat(h.destination()).isEqualTo("127.0.0.1");
                assertThat(h.destinationPort()).isEqualTo(echo.port());
            }
        }
        assertThat(w1.headers.size() + w2.headers.size()).isEqualTo(40);
        assertThat(w1.headers).isNotEmpty();
        assertThat(w2.headers).isNotEmpty();
        assertThat(connections("smb", "spliced")).isEqualTo(40);
        assertThat(meters.find("slipstream.gateway.pool.takes").tag("result", "hit").counter().count())
                .as("dispatches on pre-opened connections").isPositive();
    }

    @Test
    void tableChange_whileALongFlowIsOpen_flowCompletesIntact_newFlowsFollowTheNewTable() throws Exception {
        TestServers.Echo w1 = add(new TestServers.Echo("wan-1", true));
        TestServers.Echo w2 = add(new TestServers.Echo("wan-2", true));
        gateway.apply(config(1, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port(), member("wan-1", w1.endpoint())));
        byte[] first = TestServers.random(1 << 20, 7);
        byte[] second = TestServers.random(1 << 20, 8);
        try (Socket s = client()) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(first);
            assertThat(in.readNBytes(first.length)).isEqualTo(first);
            assertThat(w1.headers).hasSize(1);

            // wan-1 leaves the table: its pool is closed, but the open flow is not cut.
            gateway.apply(config(2, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port(), member("wan-2", w2.endpoint())));
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.idleConnections(HostPort.parse(w1.endpoint())) == 0);
            try (Socket fresh = client()) {
                assertThat(roundTrip(fresh, "new".getBytes())).isEqualTo("new".getBytes());
            }
            assertThat(w2.headers).hasSize(1);

            out.write(second);
            s.shutdownOutput();
            assertThat(in.readAllBytes()).isEqualTo(second);
        }
        assertThat(w1.headers).hasSize(1);
    }

    @Test
    void entryWithoutOwners_clientIsResetPromptly_andCounted() throws Exception {
        gateway.apply(config(1, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port()));
        long start = System.nanoTime();
        try (Socket s = client()) {
            s.setSoTimeout(5000);
            assertThat(TestServers.closedByPeer(s)).isTrue();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        assertThat(connections("smb", "refused")).isEqualTo(1);
    }

    @Test
    void noTable_bypassPolicyStillWorks() throws Exception {
        gateway.apply(WorkerConfig.newBuilder().setGeneration(1)
                .addPolicies(policy("direct", ServiceChain.SERVICE_CHAIN_BYPASS, echo.port())).build());
        try (Socket s = client()) {
            assertThat(roundTrip(s, "hello".getBytes())).isEqualTo("hello".getBytes());
        }
        assertThat(connections("direct", "spliced")).isEqualTo(1);
    }

    @Test
    void unusableConfig_isRejected_previousTableKeepsServing() throws Exception {
        TestServers.Echo w1 = add(new TestServers.Echo("wan-1", true));
        gateway.apply(config(1, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port(), member("wan-1", w1.endpoint())));
        WorkerConfig bad = config(2, "smb", ServiceChain.SERVICE_CHAIN_WANOPT, echo.port(), member("wan-1", w1.endpoint()));
        bad = bad.toBuilder().setSteering(bad.getSteering().toBuilder().setBucketCount(3)).build();
        assertThat(gateway.apply(bad)).isFalse();
        try (Socket s = client()) {
            assertThat(roundTrip(s, "still".getBytes())).isEqualTo("still".getBytes());
        }
        assertThat(w1.headers).hasSize(1);
        assertThat(meters.find("slipstream.gateway.config.rejected").counter().count()).isEqualTo(1);
    }

    @Test
    void transparentListener_connectionToTheListenerItself_isNotInterceptedAndIsReset() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.netty.channel.epoll.Epoll.isAvailable(),
                "transparent listeners need epoll");
        org.junit.jupiter.api.Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "IP_TRANSPARENT needs CAP_NET_ADMIN");
        Gateway transparent = new Gateway(new Gateway.Settings("gw-t", "a",
                List.of(GatewayListener.transparent("127.0.0.1", 0)), 1), meters, stats).start();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), transparent.listenAddress(0).getPort())) {
            s.setSoTimeout(5000);
            assertThat(TestServers.closedByPeer(s)).isTrue();
        } finally {
            transparent.close();
        }
        assertThat(stats.activeFlows()).isZero();
    }

    @Test
    void vipListener_destinationThatDoesNotResolve_failsAtStartNamingTheListener() {
        Gateway bad = new Gateway(new Gateway.Settings("gw-bad", "a",
                List.of(GatewayListener.vip("127.0.0.1", 0, HostPort.of("no-such-host.invalid", 80))), 1), meters, stats);
        try {
            org.assertj.core.api.Assertions.assertThatThrownBy(bad::start)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no-such-host.invalid:80")
                    .hasMessageContaining("does not resolve");
        } finally {
            bad.close();
        }
    }

    /** A JDK HTTP origin that counts requests per path. */
    private static final class Origin implements AutoCloseable {
        final HttpServer server;
        final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

        Origin() throws Exception {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            server.createContext("/", ex -> {
                String path = ex.getRequestURI().getRawPath();
                counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                byte[] body = ("body of " + path).getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Cache-Control", "max-age=60");
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    private String get(int port, String path) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void cachePolicy_requestsLandOnTheirKeysOwner() throws Exception {
        Origin origin = add(new Origin());
        CacheServer a = add(new CacheServer(CacheProxySettings.builder().workerId("cache-a")
                .origin(URI.create("http://127.0.0.1:" + origin.port())).threads(1).build()).start());
        CacheServer b = add(new CacheServer(CacheProxySettings.builder().workerId("cache-b")
                .origin(URI.create("http://127.0.0.1:" + origin.port())).threads(1).build()).start());
        Peer pa = member("cache-a", "127.0.0.1:" + a.address().getPort());
        Peer pb = member("cache-b", "127.0.0.1:" + b.address().getPort());
        CacheSettings shards = CacheSettings.newBuilder().addShardMembers(pa).addShardMembers(pb).build();
        a.apply(shards);
        b.apply(shards);
        Gateway web = new Gateway(new Gateway.Settings("gw-web", "a",
                List.of(GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", origin.port()))), 2), meters, stats)
                .start();
        try {
            web.apply(config(1, "web", ServiceChain.SERVICE_CHAIN_CACHE, origin.port(), pa, pb));
            int keys = 60;
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < keys; i++) {
                    String response = get(web.listenAddress(0).getPort(), "/obj" + i);
                    assertThat(response).as("round %d key %d", round, i).startsWith("HTTP/1.1 200").endsWith("body of /obj" + i);
                }
            }
            // Every request reached its key's owner directly: no cache worker asked the other.
            assertThat(a.peerFetches()).isZero();
            assertThat(b.peerFetches()).isZero();
            assertThat(a.originRequests() + b.originRequests()).isEqualTo(keys);
            assertThat(a.hits() + b.hits()).isEqualTo(keys);
            assertThat(a.hits()).isPositive();
            assertThat(b.hits()).isPositive();
            assertThat(origin.counts).hasSize(keys).allSatisfy((path, n) -> assertThat(n.get()).isEqualTo(1));

            // Bad heads get 400 and a close; the listener keeps serving.
            assertThat(raw(web, "\u0000\u0001garbage\r\n\r\n")).startsWith("HTTP/1.1 400 ");
            assertThat(raw(web, "GET / HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400 ").contains("without Host");
            assertThat(raw(web, "GET / HTTP/1.1\r\nHost: site\r\nX-Big: " + "x".repeat(40_000) + "\r\n\r\n"))
                    .startsWith("HTTP/1.1 400 ").contains("larger than");
            assertThat(connections("web", "bad_request")).isEqualTo(3);
            assertThat(get(web.listenAddress(0).getPort(), "/obj1")).endsWith("body of /obj1");
        } finally {
            web.close();
        }
    }

    private static String raw(Gateway gw, String request) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gw.listenAddress(0).getPort())) {
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            } catch (java.io.IOException e) {
                // the gateway may answer and close before the whole oversized head is written
            }
            try {
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException e) {
                return "reset: " + e.getMessage();
            }
        }
    }
}
