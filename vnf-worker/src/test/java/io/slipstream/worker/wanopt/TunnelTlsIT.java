package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.security.WorkerTls;
import java.math.BigInteger;
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

    private WanOptimizer start(String id, String site, WorkerTls tls, List<PortForward> forwards) throws Exception {
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
    void rotation_newTunnelConnectionsGetTheNewCertificateAndOpenOnesKeepCarrying() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "fleet");
        Path bFiles = dir.resolve("b");
        Path aFiles = dir.resolve("a");
        BigInteger original = ca.issueInto(bFiles, "urn:slipstream:worker:b:wan-b");
        ca.issueInto(aFiles, "urn:slipstream:worker:a:wan-a");
        WorkerTls bTls = WorkerTls.of(TlsMaterial.load(TlsFiles.inDirectory(bFiles)), Duration.ofSeconds(10));
        WorkerTls aTls = WorkerTls.of(TlsMaterial.load(TlsFiles.inDirectory(aFiles)), Duration.ofSeconds(10));
        b = start("wan-b", "b", bTls, List.of());
        a = start("wan-a", "a", aTls, List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")));
        pair("wan-b", "b");
        await().atMost(WAIT).until(() -> a.readyConnections("wan-b") == 1);
        assertThat(serialPresentedBy(b.tunnelAddress(), aTls.material())).isEqualTo(original);

        BigInteger rotated = ca.issueInto(bFiles, "urn:slipstream:worker:b:wan-b");
        assertThat(bTls.material().reload()).isTrue();

        assertThat(serialPresentedBy(b.tunnelAddress(), aTls.material())).isEqualTo(rotated);
        // The tunnel connection made before the rotation still carries streams.
        assertThat(a.readyConnections("wan-b")).isEqualTo(1);
        byte[] sent = WanOptimizerIT.data(256 << 10, true, 3);
        assertThat(roundTrip(sent)).isEqualTo(sent);
    }

    /** The serial of the certificate a TLS server presents to a new connection. */
    private static BigInteger serialPresentedBy(java.net.InetSocketAddress address, TlsMaterial client)
            throws Exception {
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(new javax.net.ssl.KeyManager[] {client.keyManager()},
                new javax.net.ssl.TrustManager[] {client.trustManager()}, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket(address.getAddress(), address.getPort())) {
            s.setSoTimeout(10_000);
            s.startHandshake();
            return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
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
