package io.slipstream.worker.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.WorkerControlGrpc;
import io.slipstream.worker.Worker;
import io.slipstream.worker.WanOptRoleSettings;
import io.slipstream.worker.WorkerSettings;
import io.slipstream.worker.wanopt.TestCertificates;
import io.slipstream.worker.security.WorkerTls;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's control server over mutual TLS, on real TCP with a real worker (in-process, registered in a
 * real ZooKeeper): only a controller certificate of the fleet CA gets in; rotation of the files reaches
 * new connections without a restart; a bad replacement keeps the old certificate.
 */
class ControlTlsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    Path dir;
    private TestingServer zk;
    private TestCertificates fleetCa;
    private Path workerTls;
    private Worker worker;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final List<TlsMaterial> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        fleetCa = new TestCertificates(dir, "fleet");
        workerTls = dir.resolve("worker");
        fleetCa.issueInto(workerTls, "urn:slipstream:worker:a:wan-a1");
        WorkerTls tls = WorkerTls.of(TlsMaterial.load(TlsFiles.inDirectory(workerTls)), Duration.ofMillis(100));
        worker = Worker.start(WorkerSettings.of("wan-a1", "a", zk.getConnectString(),
                        WanOptRoleSettings.defaults().withChunkStore(16 << 20, null))
                .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(125_000_000L).withVersion("test")
                .withTls(tls));
    }

    @AfterEach
    void stop() throws Exception {
        channels.forEach(ManagedChannel::shutdownNow);
        clients.forEach(TlsMaterial::close);
        if (worker != null) {
            worker.close();
        }
        zk.close();
    }

    @Test
    void controlServer_controllerCertificate_isServed() throws Exception {
        Capture capture = new Capture();
        var status = stub(credentials(controller("ctl"), capture)).getStatus(GetStatusRequest.getDefaultInstance());
        assertThat(status.getWorkerId()).isEqualTo("wan-a1");
        assertThat(capture.serverSerials).isNotEmpty();
        assertThat(worker.meters().get("slipstream.security.plaintext").gauge().value()).isZero();
    }

    @Test
    void controlServer_clientWithoutCertificate_isRefusedInTheHandshake() throws Exception {
        TlsMaterial someone = controller("ctl");
        ChannelCredentials noCertificate = TlsChannelCredentials.newBuilder()
                .trustManager(someone.trustManager()).build();
        assertThatThrownBy(() -> stub(noCertificate).getStatus(GetStatusRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void controlServer_plaintextClient_isRefused() {
        assertThatThrownBy(() -> stub(InsecureChannelCredentials.create())
                .getStatus(GetStatusRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void controlServer_controllerCertificateOfAnotherCa_isRefusedInTheHandshake() throws Exception {
        TestCertificates otherCa = new TestCertificates(Files.createDirectories(dir.resolve("other")), "other");
        Path impostor = dir.resolve("impostor");
        otherCa.issueInto(impostor, "urn:slipstream:controller:ctl");
        // The impostor trusts the fleet CA (it knows the public CA) but presents a certificate of its own CA.
        Files.copy(fleetCa.caPem, impostor.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        TlsMaterial material = TlsMaterial.load(TlsFiles.of(impostor.resolve("tls.crt"), impostor.resolve("tls.key"),
                otherCa.caPem));
        clients.add(material);
        TlsMaterial fleet = controller("trusting");
        ChannelCredentials creds = TlsChannelCredentials.newBuilder().keyManager(material.keyManager())
                .trustManager(fleet.trustManager()).build();
        assertThatThrownBy(() -> stub(creds).getStatus(GetStatusRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void controlServer_workerCertificate_isPermissionDenied() throws Exception {
        Path other = dir.resolve("other-worker");
        fleetCa.issueInto(other, "urn:slipstream:worker:a:wan-a2");
        TlsMaterial peer = TlsMaterial.load(TlsFiles.inDirectory(other));
        clients.add(peer);
        assertThatThrownBy(() -> stub(credentials(peer, new Capture())).getStatus(GetStatusRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("urn:slipstream:worker:a:wan-a2");
                });
        assertThat(worker.meters().get("slipstream.worker.control.denied").counter().count()).isEqualTo(1);
    }

    @Test
    void rotation_newFiles_newConnectionsGetTheNewCertificateAndOldOnesKeepGoing() throws Exception {
        TlsMaterial ctl = controller("ctl");
        Capture first = new Capture();
        WorkerControlGrpc.WorkerControlBlockingStub old = stub(credentials(ctl, first));
        old.getStatus(GetStatusRequest.getDefaultInstance());
        BigInteger before = first.serverSerials.get(0);

        BigInteger rotated = fleetCa.issueInto(workerTls, "urn:slipstream:worker:a:wan-a1");
        await().atMost(WAIT).until(() -> worker.meters().get("slipstream.tls.reload").tag("result", "success")
                .counter().count() >= 1);
        Capture second = new Capture();
        stub(credentials(ctl, second)).getStatus(GetStatusRequest.getDefaultInstance());
        assertThat(second.serverSerials).containsExactly(rotated);
        assertThat(rotated).isNotEqualTo(before);
        // The connection made before the rotation still works, on its original session.
        assertThat(old.getStatus(GetStatusRequest.getDefaultInstance()).getWorkerId()).isEqualTo("wan-a1");
        assertThat(first.serverSerials).containsOnly(before);
    }

    @Test
    void rotation_corruptReplacement_keepsTheOldCertificateAndCountsAFailure() throws Exception {
        TlsMaterial ctl = controller("ctl");
        Capture first = new Capture();
        stub(credentials(ctl, first)).getStatus(GetStatusRequest.getDefaultInstance());
        BigInteger before = first.serverSerials.get(0);

        Files.writeString(workerTls.resolve("tls.crt"), "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                + "-----END CERTIFICATE-----\n");
        await().atMost(WAIT).until(() -> worker.meters().get("slipstream.tls.reload").tag("result", "failure")
                .counter().count() >= 1);
        Capture second = new Capture();
        assertThat(stub(credentials(ctl, second)).getStatus(GetStatusRequest.getDefaultInstance()).getWorkerId())
                .isEqualTo("wan-a1");
        assertThat(second.serverSerials).containsOnly(before);
        assertThat(worker.meters().get("slipstream.tls.reload").tag("result", "failure").counter().count())
                .isEqualTo(1);
    }

    private TlsMaterial controller(String name) throws Exception {
        Path d = dir.resolve("controller-" + name);
        if (!Files.exists(d)) {
            fleetCa.issueInto(d, "urn:slipstream:controller:" + name);
        }
        TlsMaterial material = TlsMaterial.load(TlsFiles.inDirectory(d));
        clients.add(material);
        return material;
    }

    private static ChannelCredentials credentials(TlsMaterial client, Capture capture) {
        capture.delegate = client.trustManager();
        return TlsChannelCredentials.newBuilder().keyManager(client.keyManager()).trustManager(capture).build();
    }

    private WorkerControlGrpc.WorkerControlBlockingStub stub(ChannelCredentials credentials) {
        ManagedChannel channel = NettyChannelBuilder.forTarget(worker.record().controlEndpoint(), credentials).build();
        channels.add(channel);
        return WorkerControlGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    /** Records the serial of every server certificate it is asked to trust. */
    private static final class Capture extends X509ExtendedTrustManager {
        volatile X509ExtendedTrustManager delegate;
        final List<BigInteger> serverSerials = new CopyOnWriteArrayList<>();

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, engine);
            serverSerials.add(chain[0].getSerialNumber());
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
            serverSerials.add(chain[0].getSerialNumber());
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
            serverSerials.add(chain[0].getSerialNumber());
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
