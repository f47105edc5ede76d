package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.local.FleetCa;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.ApplyConfigResponse;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.StreamLoadRequest;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's control channels over mutual TLS against a real gRPC server on TCP that presents a
 * worker certificate for site a, id w1: the controller links to it when the ZooKeeper record says (a, w1),
 * and refuses it (link down with the reason, never programmed) when the record claims site b.
 */
class ControlChannelsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    Path dir;
    private Server server;
    private TlsMaterial workerTls;
    private TlsMaterial controllerTls;
    private FleetController fleet;
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        FleetCa ca = FleetCa.create(dir, "fleet");
        workerTls = TlsMaterial.load(TlsFiles.inDirectory(ca.issueWorker("a", "w1")));
        controllerTls = TlsMaterial.load(TlsFiles.inDirectory(ca.issueController("ctl")));
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                        TlsServerCredentials.newBuilder().keyManager(workerTls.keyManager())
                                .trustManager(workerTls.trustManager())
                                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())
                .addService(health.getHealthService())
                .addService(new Control())
                .build().start();
        fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(5), 200, FleetPolicy.getDefaultInstance(),
                new SimpleMeterRegistry(), ControlChannels.mutualTls(controllerTls));
    }

    @AfterEach
    void stop() {
        fleet.close();
        server.shutdownNow();
        workerTls.close();
        controllerTls.close();
    }

    @Test
    void link_recordMatchesTheCertificate_isServing() {
        fleet.membership(List.of(record("w1", "a")));
        await().atMost(WAIT).until(() -> fleet.snapshot().worker("w1") != null
                && fleet.snapshot().worker("w1").health() == Health.SERVING);
        await().atMost(WAIT).until(() -> calls.get() > 0);
    }

    @Test
    void link_workerCertificateOfSiteARegisteredAsSiteB_isRefusedWithTheReason() {
        fleet.membership(List.of(record("w1", "b")));
        await().atMost(WAIT).until(() -> {
            WorkerView w = fleet.snapshot().worker("w1");
            return w != null && w.reason() != null && w.reason().contains("urn:slipstream:worker:b:w1");
        });
        WorkerView w = fleet.snapshot().worker("w1");
        assertThat(w.healthy()).isFalse();
        assertThat(w.reason()).contains("names urn:slipstream:worker:a:w1");
        assertThat(calls.get()).isZero();
    }

    @Test
    void link_plaintextController_isRefusedByTheTlsServer() {
        FleetController plain = new FleetController(Clock.systemUTC(), Duration.ofSeconds(5), 200,
                FleetPolicy.getDefaultInstance(), new SimpleMeterRegistry(), ControlChannels.plaintext());
        try {
            plain.membership(List.of(record("w1", "a")));
            await().atMost(WAIT).until(() -> plain.snapshot().worker("w1") != null
                    && plain.snapshot().worker("w1").reason() != null);
            assertThat(plain.snapshot().worker("w1").healthy()).isFalse();
            assertThat(calls.get()).isZero();
        } finally {
            plain.close();
        }
    }

    private WorkerRecord record(String id, String site) {
        return new WorkerRecord(id, "wanopt", site, "127.0.0.1:" + server.getPort(), "127.0.0.1:1", "127.0.0.1:1",
                1000, List.of(), "test");
    }

    /** Counts every call that got past the handshake; the load stream stays open. */
    private final class Control extends WorkerControlGrpc.WorkerControlImplBase {
        @Override
        public void applyConfig(ApplyConfigRequest request, StreamObserver<ApplyConfigResponse> response) {
            calls.incrementAndGet();
            response.onNext(ApplyConfigResponse.newBuilder().setChanged(true).build());
            response.onCompleted();
        }

        @Override
        public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
            calls.incrementAndGet();
            response.onNext(GetStatusResponse.getDefaultInstance());
            response.onCompleted();
        }

        @Override
        public void streamLoad(StreamLoadRequest request, StreamObserver<LoadReport> response) {
            calls.incrementAndGet();
        }
    }
}
