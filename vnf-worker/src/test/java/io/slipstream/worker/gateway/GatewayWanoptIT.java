package io.slipstream.worker.gateway;

import static io.slipstream.worker.gateway.TestServers.roundTrip;
import static io.slipstream.worker.gateway.TestServers.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.PeerPairing;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
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
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * client -> gateway (site a) -> wanopt-a's steered listener (PROXY v2) -> tunnel -> a wanopt worker at site b
 * -> server, on loopback; and what the steered listener does with headers it cannot use.
 */
class GatewayWanoptIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry gatewayMeters = new SimpleMeterRegistry();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DataPlaneStats statsA = new DataPlaneStats();
    private final DataPlaneStats statsB1 = new DataPlaneStats();
    private final DataPlaneStats statsB2 = new DataPlaneStats();
    private TestServers.Echo server;
    private WanOptimizer wanA;
    private WanOptimizer wanB1;
    private WanOptimizer wanB2;
    private Gateway gateway;
    private List<Peer> peers;

    @BeforeEach
    void start() throws Exception {
        server = new TestServers.Echo("server", false);
        wanB1 = new WanOptimizer(new WanOptimizer.Settings("wan-b1", "b", "127.0.0.1", 0, List.of(), 256 * 1024, 2),
                meters, statsB1, () -> compressor, compressor).start();
        wanB2 = new WanOptimizer(new WanOptimizer.Settings("wan-b2", "b", "127.0.0.1", 0, List.of(), 256 * 1024, 2),
                meters, statsB2, () -> compressor, compressor).start();
        wanA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0, List.of(), 256 * 1024, 2)
                .steeredPort(0), meters, statsA, () -> compressor, compressor).start();
        // Site a is 198.18.1.0/24; the server on loopback is at site b.
        wanA.sites(List.of(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24").build(),
                Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8").build()));
        peers = List.of(
                Peer.newBuilder().setWorkerId("wan-b1").setSite("b").setWeight(1)
                        .setDataEndpoint("127.0.0.1:" + wanB1.tunnelAddress().getPort()).build(),
                Peer.newBuilder().setWorkerId("wan-b2").setSite("b").setWeight(1)
                        .setDataEndpoint("127.0.0.1:" + wanB2.tunnelAddress().getPort()).build());
        wanA.peers(peers);
        await().atMost(WAIT).until(() -> wanA.readyConnections("wan-b1") == 2 && wanA.readyConnections("wan-b2") == 2);

        gateway = new Gateway(new Gateway.Settings("gw-a", "a",
                List.of(GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", server.port()))), 2),
                gatewayMeters, new DataPlaneStats()).start();
        Peer member = Peer.newBuilder().setWorkerId("wan-a").setSite("a").setWeight(1)
                .setDataEndpoint("127.0.0.1:" + wanA.steeredAddress().getPort()).build();
        SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy("to-b").setSite("a")
                .setChain(ServiceChain.SERVICE_CHAIN_WANOPT).addMembers(member);
        for (int b = 0; b < 16; b++) {
            entry.addOwners(0);
        }
        gateway.apply(WorkerConfig.newBuilder().setGeneration(1)
                .addPolicies(FlowPolicy.newBuilder().setName("to-b").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                        .addDstPorts(PortRange.newBuilder().setFirst(server.port()).setLast(server.port())))
                .setSteering(SteeringTable.newBuilder().setBucketCount(16).addEntries(entry)).build());
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        wanA.close();
        wanB1.close();
        wanB2.close();
        server.close();
        registry.close();
    }

    private double steered(String outcome) {
        var c = meters.find("slipstream.wanopt.steered.connections").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void flowThroughGateway_crossesTheWanoptPair_bytesIntact_onThePreferredPeer() throws Exception {
        byte[] data = TestServers.redundant(3 << 20, 5);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.listenAddress(0).getPort())) {
            assertThat(sha256(roundTrip(s, data))).isEqualTo(sha256(data));
        }
        assertThat(steered("accepted")).isEqualTo(1);
        assertThat(gatewayMeters.find("slipstream.gateway.connections").tag("policy", "to-b")
                .tag("outcome", "spliced").counter().count()).isEqualTo(1);
        // wanopt-a carried it (its side of the WAN saw the bytes) to the peer PeerPairing prefers for it.
        assertThat(statsA.bytesIn()).isGreaterThanOrEqualTo(data.length);
        String preferred = PeerPairing.ranked("wan-a", "b", peers).get(0).getWorkerId();
        DataPlaneStats preferredStats = preferred.equals("wan-b1") ? statsB1 : statsB2;
        DataPlaneStats otherStats = preferred.equals("wan-b1") ? statsB2 : statsB1;
        assertThat(preferredStats.bytesOut()).isPositive();
        assertThat(otherStats.bytesOut()).isZero();

        // The preferred peer goes away: the next flow takes the next peer in the ranking.
        (preferred.equals("wan-b1") ? wanB1 : wanB2).close();
        await().atMost(WAIT).until(() -> wanA.readyConnections(preferred) == 0);
        byte[] more = TestServers.random(100_000, 9);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), gateway.listenAddress(0).getPort())) {
            assertThat(roundTrip(s, more)).isEqualTo(more);
        }
        assertThat(otherStats.bytesOut()).isPositive();
    }

    /** A hand-written PROXY v2 header: version 2, {@code command} (0 LOCAL, 1 PROXY), TCP over IPv4. */
    private static byte[] v2(int command, String src, int srcPort, String dst, int dstPort) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(TestServers.V2_SIGNATURE);
        out.writeByte(0x20 | command);
        out.writeByte(0x11);
        out.writeShort(12);
        out.write(InetAddress.getByName(src).getAddress());
        out.write(InetAddress.getByName(dst).getAddress());
        out.writeShort(srcPort);
        out.writeShort(dstPort);
        return bytes.toByteArray();
    }

    private boolean sendToSteeredPort(byte[] bytes) throws Exception {
        return sendToSteeredPort(bytes, false);
    }

    /** Sends {@code bytes} (then half-closes, with {@code end}); whether the worker closed or reset within 5 s. */
    private boolean sendToSteeredPort(byte[] bytes, boolean end) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), wanA.steeredAddress().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(bytes);
            if (end) {
                s.shutdownOutput();
            }
            return TestServers.closedByPeer(s);
        }
    }

    @Test
    void steeredPort_badHeaders_areResetAndCounted_goodOnesStillWork() throws Exception {
        assertThat(sendToSteeredPort("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).isTrue();
        assertThat(sendToSteeredPort("PROXY TCP4 127.0.0.1 127.0.0.1 1000 2000\r\n".getBytes(StandardCharsets.US_ASCII)))
                .isTrue();
        byte[] truncated = v2(1, "127.0.0.1", 1000, "127.0.0.1", server.port());
        truncated[15] = (byte) 200; // length says 200 bytes of addresses, 12 follow, then a close
        assertThat(sendToSteeredPort(java.util.Arrays.copyOf(truncated, 16 + 12), true)).isTrue();
        byte[] badFamily = v2(1, "127.0.0.1", 1000, "127.0.0.1", server.port());
        badFamily[13] = (byte) 0x99;
        assertThat(sendToSteeredPort(badFamily)).isTrue();
        await().atMost(WAIT).until(() -> steered("bad_header") >= 4);

        assertThat(sendToSteeredPort(v2(1, "127.0.0.1", 1000, "198.18.1.20", 80))).isTrue();
        await().atMost(WAIT).until(() -> steered("own_site") == 1);
        assertThat(sendToSteeredPort(v2(1, "127.0.0.1", 1000, "203.0.113.9", 80))).isTrue();
        await().atMost(WAIT).until(() -> steered("no_site") == 1);
        assertThat(sendToSteeredPort(v2(0, "127.0.0.1", 1000, "127.0.0.1", 80))).isTrue();
        await().atMost(WAIT).until(() -> steered("local") == 1);

        // A well-formed header with data after it in the same segment is carried.
        byte[] header = v2(1, "127.0.0.1", 1000, "127.0.0.1", server.port());
        byte[] payload = "after the header".getBytes(StandardCharsets.US_ASCII);
        byte[] both = java.util.Arrays.copyOf(header, header.length + payload.length);
        System.arraycopy(payload, 0, both, header.length, payload.length);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), wanA.steeredAddress().getPort())) {
            assertThat(roundTrip(s, both)).isEqualTo(payload);
        }
        assertThat(steered("accepted")).isEqualTo(1);
    }
}
