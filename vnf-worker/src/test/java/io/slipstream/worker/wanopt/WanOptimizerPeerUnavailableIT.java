package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A site-a wanopt endpoint whose far-site peer is not reachable (none configured, or one whose tunnel port refuses):
 * each new flow bypasses or fails fast as its policy says; once the peer is back, flows are optimised again.
 */
class WanOptimizerPeerUnavailableIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DataPlaneStats stats = new DataPlaneStats();
    private EchoServer bypassed;
    private EchoServer strict;
    private int closed;
    private WanOptimizer siteA;
    private WanOptimizer siteB;

    private static FlowPolicy policy(String name, PeerUnavailable choice, int... ports) {
        FlowPolicy.Builder p = FlowPolicy.newBuilder().setName(name).setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                .setPeerUnavailable(choice);
        for (int port : ports) {
            p.addDstPorts(PortRange.newBuilder().setFirst(port).setLast(port));
        }
        return p.build();
    }

    @BeforeEach
    void start() throws Exception {
        bypassed = new EchoServer();
        strict = new EchoServer();
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        siteA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0,
                List.of(new PortForward(0, "127.0.0.1", bypassed.port(), "b"),
                        new PortForward(0, "127.0.0.1", strict.port(), "b"),
                        new PortForward(0, "127.0.0.1", closed, "b")),
                256 * 1024, 2), meters, stats, () -> compressor, compressor).start();
        siteA.policies(List.of(policy("bulk", PeerUnavailable.PEER_UNAVAILABLE_BYPASS, bypassed.port(), closed),
                policy("strict", PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, strict.port())));
    }

    @AfterEach
    void stop() throws Exception {
        siteA.close();
        if (siteB != null) {
            siteB.close();
        }
        bypassed.close();
        strict.close();
        registry.close();
    }

    private double counter(String name, String tag, String value) {
        var c = meters.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    private double appBytes() {
        return meters.find("slipstream.wanopt.bytes.in").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    /** Through forward {@code i}: sends, half-closes, returns what came back, or null on a reset/EOF without data. */
    private byte[] roundTrip(int forward, byte[] data) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(forward))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(data);
            s.shutdownOutput();
            return s.getInputStream().readAllBytes();
        }
    }

    private static byte[] repetitive(int size) {
        byte[] b = new byte[size];
        byte[] words = "slipstream peer unavailable test block ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < size; i++) {
            b[i] = words[i % words.length];
        }
        return b;
    }

    @Test
    void noPeer_bypassPolicy_flowGoesStraightToTheDestinationIntact() throws Exception {
        byte[] data = WanOptimizerIT.data(1 << 20, false, 7);
        assertThat(roundTrip(0, data)).isEqualTo(data);
        assertThat(counter("slipstream.wanopt.peer.unavailable", "action", "bypass")).isEqualTo(1);
        assertThat(counter("slipstream.wanopt.bypass.bytes", "direction", "up")).isEqualTo(data.length);
        assertThat(counter("slipstream.wanopt.bypass.bytes", "direction", "down")).isEqualTo(data.length);
        assertThat(appBytes()).as("nothing went through a tunnel").isZero();
        assertThat(bypassed.accepted.get()).isEqualTo(1);
        await().atMost(WAIT).until(() -> stats.activeFlows() == 0);
    }

    @Test
    void noPeer_failFastPolicy_clientResetAtOnce() throws Exception {
        long started = System.nanoTime();
        byte[] answer;
        try {
            answer = roundTrip(1, repetitive(64 * 1024));
        } catch (IOException reset) {
            answer = new byte[0];
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertThat(answer).isEmpty();
        assertThat(millis).as("time to the reset, ms").isLessThan(2000);
        assertThat(strict.accepted.get()).as("the destination never sees the flow").isZero();
        assertThat(counter("slipstream.wanopt.peer.unavailable", "action", "fail_fast")).isEqualTo(1);
    }

    @Test
    void noPeer_bypassToAClosedDestination_clientReset() throws Exception {
        byte[] answer;
        try {
            answer = roundTrip(2, repetitive(1024));
        } catch (IOException reset) {
            answer = new byte[0];
        }
        assertThat(answer).isEmpty();
        assertThat(counter("slipstream.wanopt.peer.unavailable", "action", "bypass_failed")).isEqualTo(1);
    }

    @Test
    void peerRefusing_thenBack_flowsBypassThenGoOptimisedAgain() throws Exception {
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(), 256 * 1024, 2),
                meters, new DataPlaneStats(), () -> compressor, compressor).start();
        int tunnelPort = siteB.tunnelAddress().getPort();
        siteB.close();
        Peer peer = Peer.newBuilder().setWorkerId("wan-b").setSite("b").setDataEndpoint("127.0.0.1:" + tunnelPort).build();
        siteA.peers(List.of(peer));
        byte[] data = repetitive(512 * 1024);
        assertThat(roundTrip(0, data)).isEqualTo(data);
        assertThat(counter("slipstream.wanopt.peer.unavailable", "action", "bypass")).isEqualTo(1);

        // The peer comes back on the same endpoint: the link's reconnect (backoff up to 5 s) finds it.
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", tunnelPort, List.of(),
                256 * 1024, 2), meters, new DataPlaneStats(), () -> compressor, compressor).start();
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
        assertThat(roundTrip(0, data)).isEqualTo(data);
        assertThat(counter("slipstream.wanopt.peer.unavailable", "action", "bypass")).as("not bypassed again").isEqualTo(1);
        // Site a's encoder towards wan-b (the shared registry also holds wan-b's encoder of the echo).
        assertThat(meters.find("slipstream.wanopt.bytes.in").tag("peer", "wan-b").counter().count())
                .isEqualTo(data.length);
        double wan = meters.find("slipstream.wanopt.bytes.wan").tag("peer", "wan-b").counter().count();
        assertThat(wan).as("WAN bytes of a repetitive payload").isLessThan(data.length / 4.0);
        assertThat(Arrays.equals(roundTrip(1, data), data)).as("the fail-fast policy's flows pass too").isTrue();
    }

    @Test
    void flowsUnderTwoPolicies_countedPerPeerAndPolicy_onBothSites() throws Exception {
        SimpleMeterRegistry metersB = new SimpleMeterRegistry();
        DataPlaneStats statsB = new DataPlaneStats();
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(), 256 * 1024, 2),
                metersB, statsB, () -> compressor, compressor).start();
        siteA.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b")
                .setDataEndpoint("127.0.0.1:" + siteB.tunnelAddress().getPort()).build()));
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
        byte[] bulk = repetitive(300 * 1024);
        byte[] strictData = repetitive(100 * 1024);
        assertThat(roundTrip(0, bulk)).isEqualTo(bulk);
        assertThat(roundTrip(1, strictData)).isEqualTo(strictData);

        // Ingress (site a, the flow classified by its destination port) and egress (site b, told in OPEN).
        assertThat(meters.get("slipstream.wanopt.bytes.in").tags("peer", "wan-b", "policy", "bulk").counter().count())
                .isEqualTo(bulk.length);
        assertThat(meters.get("slipstream.wanopt.bytes.in").tags("peer", "wan-b", "policy", "strict").counter()
                .count()).isEqualTo(strictData.length);
        await().atMost(WAIT).until(() -> metersB.find("slipstream.wanopt.bytes.in").tags("peer", "wan-a", "policy",
                "bulk").counter() != null && metersB.get("slipstream.wanopt.bytes.in").tags("peer", "wan-a",
                "policy", "bulk").counter().count() == bulk.length);
        assertThat(metersB.get("slipstream.wanopt.bytes.in").tags("peer", "wan-a", "policy", "strict").counter()
                .count()).isEqualTo(strictData.length);
        assertThat(metersB.find("slipstream.wanopt.bytes.in").tag("policy", "none").counters()).isEmpty();

        // The load report's figures: per peer and policy, adding up to the worker's totals.
        List<DataPlaneStats.WanoptPair> pairs = stats.wanoptPairs();
        assertThat(pairs).extracting(DataPlaneStats.WanoptPair::peer, DataPlaneStats.WanoptPair::policy)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("wan-b", "bulk"),
                        org.assertj.core.groups.Tuple.tuple("wan-b", "strict"));
        assertThat(pairs.get(0).appBytes()).isEqualTo(bulk.length);
        assertThat(pairs.get(1).appBytes()).isEqualTo(strictData.length);
        assertThat(pairs.get(0).wanBytes()).isPositive().isLessThan(bulk.length / 4);
        long encoded = 0;
        for (DataPlaneStats.WanoptEncoding e : DataPlaneStats.WanoptEncoding.values()) {
            encoded += pairs.get(0).encoded(e);
        }
        assertThat(encoded).isEqualTo(bulk.length);
        assertThat(stats.wanoptAppBytes()).isEqualTo(bulk.length + strictData.length);
        assertThat(stats.wanoptWanBytes()).isEqualTo(pairs.get(0).wanBytes() + pairs.get(1).wanBytes());
    }
}
