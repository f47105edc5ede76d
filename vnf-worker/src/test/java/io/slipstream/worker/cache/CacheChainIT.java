package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cache+wanopt chain in one JVM, real sockets: a cache worker at site a whose origin is at site b fetches its
 * misses through a wanopt worker of site a (steered listener, PROXY v2), across the tunnel to the wanopt worker of
 * site b, which connects to the origin; a dead hop is passed over; with no hop the policy's peerUnavailable decides.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheChainIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<Site> SITES = List.of(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24").build(),
            Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8").build());

    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry wanMeters = new SimpleMeterRegistry();
    private final SimpleMeterRegistry cacheMeters = new SimpleMeterRegistry();
    private final SimpleMeterRegistry farMeters = new SimpleMeterRegistry();
    private final DataPlaneStats statsA1 = new DataPlaneStats();
    private final DataPlaneStats statsA2 = new DataPlaneStats();
    private TestOrigin origin;
    private WanOptimizer wanB;
    private WanOptimizer wanA1;
    private WanOptimizer wanA2;
    private CacheServer cache;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        wanB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(), 256 * 1024, 2),
                farMeters, new DataPlaneStats(), () -> compressor, compressor).start();
        wanA1 = siteA("wan-a1", statsA1);
        wanA2 = siteA("wan-a2", statsA2);
        cache = new CacheServer(CacheProxySettings.builder().workerId("cache-a").origin(URI.create(origin.url()))
                .threads(1).build()).start().bindMetrics(cacheMeters);
    }

    private WanOptimizer siteA(String id, DataPlaneStats stats) throws Exception {
        WanOptimizer w = new WanOptimizer(new WanOptimizer.Settings(id, "a", "127.0.0.1", 0, List.of(), 256 * 1024, 2)
                .steeredPort(0), wanMeters, stats, () -> compressor, compressor).start();
        w.sites(SITES);
        w.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b").setWeight(1)
                .setDataEndpoint("127.0.0.1:" + wanB.tunnelAddress().getPort()).build()));
        await().atMost(WAIT).until(() -> w.readyConnections("wan-b") == 2);
        return w;
    }

    @AfterEach
    void stop() {
        cache.close();
        wanA1.close();
        wanA2.close();
        wanB.close();
        origin.close();
        registry.close();
    }

    private FlowPolicy policy(PeerUnavailable whenNoHop) {
        return FlowPolicy.newBuilder().setName("web-b").setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT)
                .addSrcPrefixes("198.18.1.0/24") // the clients: not the cache, whose misses still take the chain
                .addDstPorts(PortRange.newBuilder().setFirst(origin.port()).setLast(origin.port()))
                .setPeerUnavailable(whenNoHop).build();
    }

    /** The configuration the controller pushes to the cache: the chain policy and the site's wanopt workers. */
    private void configure(PeerUnavailable whenNoHop, WanOptimizer... hops) {
        FlowPolicy policy = policy(whenNoHop);
        SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy("web-b").setSite("a")
                .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT);
        for (WanOptimizer hop : hops) {
            entry.addMembers(Peer.newBuilder().setWorkerId("hop").setSite("a").setWeight(1)
                    .setDataEndpoint("127.0.0.1:" + hop.steeredAddress().getPort()));
        }
        for (int b = 0; b < 16 && hops.length > 0; b++) {
            entry.addOwners(0); // every origin to the first hop, the others as fallbacks
        }
        WorkerConfig config = WorkerConfig.newBuilder().setGeneration(1).setRole(Role.ROLE_CACHE).setSite("a")
                .addPolicies(policy).addAllSites(SITES)
                .setChain(SteeringTable.newBuilder().setBucketCount(16).addEntries(entry)).build();
        cache.chain(ChainRoutes.of(config));
        wanA1.policies(List.of(policy));
        wanA2.policies(List.of(policy));
    }

    private record Response(int status, byte[] body) {}

    private Response get(String path) throws Exception {
        try (Socket s = new Socket("127.0.0.1", cache.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: origin-b\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("a response head").isPositive();
            byte[] body = java.util.Arrays.copyOfRange(all, end + 4, all.length);
            return new Response(Integer.parseInt(text.substring(9, 12)), body);
        }
    }

    private double chain(String route) {
        var c = cacheMeters.find("slipstream.cache.chain.fetches").tag("route", route).functionCounter();
        return c == null ? 0 : c.count();
    }

    private double counter(String name) {
        var c = cacheMeters.find(name).functionCounter();
        return c == null ? 0 : c.count();
    }

    /** WAN bytes the far wanopt worker sent for the chain policy. */
    private double farWan() {
        return farMeters.find("slipstream.wanopt.bytes.wan").tag("policy", "web-b").counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }

    private static byte[] object(int size, long seed) {
        // Text-like and repetitive, as web objects are: the tunnel has something to compress
        byte[] words = "slipstream chained cache miss across the WAN tunnel ".getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[size];
        Random r = new Random(seed);
        for (int i = 0; i < size; i++) {
            b[i] = r.nextInt(50) == 0 ? (byte) ('0' + r.nextInt(10)) : words[i % words.length];
        }
        return b;
    }

    private void serve(String path, byte[] body, String etag) {
        origin.route(path, ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "max-age=0",
                "ETag", etag), body));
    }

    @Test
    void missesCrossTheTunnel_hitsStayLocal_revalidationsToo_bodiesExact() throws Exception {
        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, wanA1, wanA2);
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] body = object(200_000, i);
            bodies.add(body);
            origin.route("/o" + i, ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "max-age=600"), body));
        }
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 5; i++) {
                Response r = get("/o" + i);
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(bodies.get(i));
            }
        }
        assertThat(chain("tunnel")).as("one fetch per miss, through the tunnel").isEqualTo(5);
        assertThat(cache.hits()).isEqualTo(5);
        assertThat(counter("slipstream.cache.chain.origin.bytes")).isEqualTo(5 * 200_000);
        assertThat(statsA1.bytesIn() + statsA1.bytesOut()).as("the owner hop carried them").isPositive();
        assertThat(statsA2.bytesIn() + statsA2.bytesOut()).isZero();
        assertThat(wanMeters.find("slipstream.wanopt.steered.connections").tag("outcome", "accepted").counter()
                .count()).isPositive();
        // The far wanopt worker encoded the responses under the policy the cache named: WAN bytes per policy
        double app = farMeters.find("slipstream.wanopt.bytes.in").tag("policy", "web-b").counters().stream()
                .mapToDouble(c -> c.count()).sum();
        double wan = farMeters.find("slipstream.wanopt.bytes.wan").tag("policy", "web-b").counters().stream()
                .mapToDouble(c -> c.count()).sum();
        assertThat(app).isGreaterThanOrEqualTo(5 * 200_000);
        assertThat(wan).isPositive().isLessThan(app / 2);

        // An object that changed slightly: revalidated (max-age=0) over the tunnel, the new bytes delivered exactly
        byte[] v1 = object(300_000, 42);
        byte[] v2 = v1.clone();
        v2[150_000] ^= 1;
        serve("/changing", v1, "\"v1\"");
        assertThat(get("/changing").body()).isEqualTo(v1);
        double wanBefore = farWan();
        serve("/changing", v2, "\"v2\"");
        assertThat(get("/changing").body()).isEqualTo(v2);
        assertThat(farWan() - wanBefore).as("the changed object crossed as references to the previous version")
                .isLessThan(v2.length / 20.0);
        assertThat(chain("tunnel")).isEqualTo(7);
        assertThat(origin.count("/changing")).isEqualTo(2);
    }

    @Test
    void ownerHopGone_missesTakeTheNextHop_noFailure() throws Exception {
        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, wanA1, wanA2);
        byte[] body = object(100_000, 1);
        origin.route("/a", ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "no-store"), body));
        assertThat(get("/a").body()).isEqualTo(body);
        long viaA1 = statsA1.bytesIn();
        assertThat(viaA1).isPositive();

        wanA1.close(); // the owner of every bucket dies; the controller has not pushed a new table yet
        for (int i = 0; i < 3; i++) {
            Response r = get("/a");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(body);
        }
        assertThat(statsA2.bytesIn()).as("the next hop carried them").isPositive();
        assertThat(counter("slipstream.cache.chain.hop.failures")).isGreaterThanOrEqualTo(1);
        assertThat(chain("tunnel")).isEqualTo(4);
        assertThat(chain("bypass") + chain("refused")).isZero();
    }

    @Test
    void noHopAnswers_bypassPolicy_fetchesDirectly() throws Exception {
        configure(PeerUnavailable.PEER_UNAVAILABLE_BYPASS, wanA1);
        byte[] body = object(50_000, 2);
        origin.route("/b", ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "no-store"), body));
        wanA1.close();

        Response r = get("/b");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(body);
        assertThat(chain("bypass")).isEqualTo(1);
        assertThat(counter("slipstream.cache.chain.origin.bytes")).as("not through the tunnel").isZero();
    }

    @Test
    void noHopAnswers_failFastPolicy_502NamingTheReason_originNeverAsked() throws Exception {
        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, wanA1);
        origin.route("/c", ex -> TestOrigin.Reply.ok("never", "Cache-Control", "no-store"));
        wanA1.close();

        Response r = get("/c");
        assertThat(r.status()).isEqualTo(502);
        assertThat(new String(r.body(), StandardCharsets.UTF_8))
                .contains("no wanopt worker answered for policy web-b").contains("fail-fast");
        assertThat(origin.count("/c")).isZero();
    }

    @Test
    void noHopInTheTable_failFast_502_bypass_direct() throws Exception {
        origin.route("/d", ex -> TestOrigin.Reply.ok("direct", "Cache-Control", "no-store"));
        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST);
        Response refused = get("/d");
        assertThat(refused.status()).isEqualTo(502);
        assertThat(new String(refused.body(), StandardCharsets.UTF_8))
                .contains("no wanopt worker at site a for policy web-b");
        assertThat(chain("refused")).isEqualTo(1);

        configure(PeerUnavailable.PEER_UNAVAILABLE_BYPASS);
        Response direct = get("/d");
        assertThat(direct.status()).isEqualTo(200);
        assertThat(new String(direct.body(), StandardCharsets.UTF_8)).isEqualTo("direct");
        assertThat(chain("bypass")).isEqualTo(1);
    }

    @Test
    void hopLeavesTheChain_itsIdleConnectionsClose_soItsDrainNeedNotWait_nextMissTakesTheOther() throws Exception {
        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, wanA1, wanA2);
        byte[] body = object(80_000, 3);
        origin.route("/e", ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "no-store"), body));
        assertThat(get("/e").body()).isEqualTo(body);
        assertThat(statsA1.activeFlows()).as("the cache keeps its origin connection through wan-a1 alive").isEqualTo(1);

        configure(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, wanA2); // wan-a1 drains: the controller drops it
        await().atMost(WAIT).until(() -> statsA1.activeFlows() == 0);
        assertThat(get("/e").body()).isEqualTo(body);
        assertThat(statsA2.bytesIn()).isPositive();
        assertThat(counter("slipstream.cache.chain.hop.failures")).isZero();
    }
}
