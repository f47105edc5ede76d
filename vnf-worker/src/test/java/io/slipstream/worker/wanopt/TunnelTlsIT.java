package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.CompressionConfig;
import io.slipstream.worker.compression.CompressionProviderRegistry;
import io.slipstream.worker.compression.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.tunnel.TunnelTls;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mutual TLS on the tunnel, with worker identities checked against certificates. */
class TunnelTlsIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private EchoServer echo;
    private WanOptimizer a;
    private WanOptimizer b;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        echo = new EchoServer();
    }

    @AfterEach
    void stop() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        echo.close();
        registry.close();
    }

    private WanOptimizer start(String id, String site, TunnelTls tls, List<PortForward> forwards) throws Exception {
        return new WanOptimizer(new WanOptimizer.Settings(id, site, "127.0.0.1", 0, forwards, List.of(), 256 * 1024, 1,
                4 << 20, true, tls), meters, new DataPlaneStats(), () -> compressor, compressor).start();
    }

    private void pair(String peerId, String peerSite) {
        a.peers(List.of(Peer.newBuilder().setWorkerId(peerId).setSite(peerSite)
                .setDataEndpoint("127.0.0.1:" + b.tunnelAddress().getPort()).build()));
    }

    private byte[] roundTrip(byte[] bytes) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), a.forwardPort(0))) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(bytes);
            s.shutdownOutput();
            return s.getInputStream().readAllBytes();
        }
    }

    @Test
    void mutualTls_workersOfTheFleet_carryStreams() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "fleet");
        b = start("wan-b", "b", ca.tls("b", "wan-b"), List.of());
        a = start("wan-a", "a", ca.tls("a", "wan-a"), List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")));
        pair("wan-b", "b");
        await().atMost(WAIT).until(() -> a.readyConnections("wan-b") == 1);
        byte[] sent = WanOptimizerIT.data(1 << 20, true, 3);
        assertThat(roundTrip(sent)).isEqualTo(sent);
    }

    @Test
    void certificateOfSiteA_cannotPoseAsSiteB() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "fleet");
        // B's process claims to be wan-b at site b, but holds a certificate for a worker of site a.
        b = start("wan-b", "b", ca.tls("a", "wan-a2"), List.of());
        a = start("wan-a", "a", ca.tls("a", "wan-a"), List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")));
        pair("wan-b", "b");
        await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> a.readyConnections("wan-b") == 0);
        assertThat(echo.accepted.get()).isZero();
    }

    @Test
    void peerOtherThanConfigured_isRefused() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "fleet");
        b = start("wan-c", "c", ca.tls("c", "wan-c"), List.of());
        a = start("wan-a", "a", ca.tls("a", "wan-a"), List.of());
        pair("wan-b", "b"); // the configuration says wan-b at site b lives there; wan-c answers
        await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> a.readyConnections("wan-b") == 0);
    }

    @Test
    void certificateOfAnotherCa_isRefused() throws Exception {
        TestCertificates fleet = new TestCertificates(dir, "fleet");
        TestCertificates rogue = new TestCertificates(dir, "rogue");
        b = start("wan-b", "b", fleet.tls("b", "wan-b"), List.of());
        a = start("wan-a", "a", rogue.tls("a", "wan-a"), List.of());
        pair("wan-b", "b");
        await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> a.readyConnections("wan-b") == 0);
    }
}
