package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.ConfigDigest;
import io.slipstream.contract.FleetPaths;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.ApplyConfigResponse;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.StreamLoadRequest;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.proto.v1.WorkerControlGrpc;
import io.slipstream.proto.v1.WorkerState;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A whole worker on real sockets: gRPC control and health, admin HTTP, registration in a real ZooKeeper. */
class WorkerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private TestingServer zk;
    private Worker worker;
    private ManagedChannel channel;
    private WorkerControlGrpc.WorkerControlBlockingStub control;
    private CuratorFramework observer;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        worker = Worker.start(WorkerSettings.of("wan-a1", "a", zk.getConnectString(),
                        WanOptRoleSettings.defaults().withChunkStore(16 << 20, null))
                .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(125_000_000L).withVersion("test"));
        String endpoint = worker.record().controlEndpoint();
        channel = NettyChannelBuilder.forTarget(endpoint).usePlaintext().build();
        control = WorkerControlGrpc.newBlockingStub(channel).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS);
        observer = ZooKeeperClients.newClient(zk.getConnectString(), 10_000);
        observer.start();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        worker.close();
        observer.close();
        zk.close();
    }

    private WanOptimizer wanopt() {
        return ((WanOptDataPlane) worker.dataPlane()).optimizer();
    }

    private ServingStatus health() {
        return HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus();
    }

    private static WorkerConfig.Builder config() {
        return WorkerConfig.newBuilder().setGeneration(1).setRole(Role.ROLE_WANOPT).setSite("a")
                .addPolicies(FlowPolicy.newBuilder().setName("smb").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                        .addDstPorts(PortRange.newBuilder().setFirst(445).setLast(445)));
    }

    @Test
    void wanoptRole_registersItsTunnelEndpointAsDataEndpoint_andFollowsPeersFromConfig() throws Exception {
        assertThat(worker.record().dataEndpoint())
                .isEqualTo("127.0.0.1:" + wanopt().tunnelAddress().getPort());
        try (Worker peer = Worker.start(WorkerSettings.of("wan-b1", "b", zk.getConnectString(),
                        WanOptRoleSettings.defaults().withChunkStore(16 << 20, null))
                .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(1000).withVersion("test"))) {
            control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(config().addPeers(
                    io.slipstream.proto.v1.Peer.newBuilder().setWorkerId("wan-b1").setSite("b")
                            .setDataEndpoint(peer.record().dataEndpoint()))).build());
            await().atMost(WAIT).until(() -> wanopt().readyConnections("wan-b1") > 0);
            control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(config().setGeneration(2)).build());
            assertThat(wanopt().readyConnections("wan-b1")).isZero();
        }
    }

    @Test
    void start_servingOnlyOnceRegistered() throws Exception {
        await().atMost(WAIT).until(() -> health() == ServingStatus.SERVING);
        assertThat(observer.checkExists().forPath(FleetPaths.instancePath("wan-a1"))).isNotNull();
        assertThat(control.getStatus(GetStatusRequest.getDefaultInstance()).getState())
                .isEqualTo(WorkerState.WORKER_STATE_SERVING);
    }

    @Test
    void start_withoutZooKeeper_staysNotServing_untilItCanRegister() throws Exception {
        zk.stop();
        try (Worker lonely = Worker.start(WorkerSettings.of("lonely", "a", zk.getConnectString(),
                        CacheRoleSettings.defaults())
                .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(1000).withVersion("test"))) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(lonely.record().controlEndpoint()).usePlaintext().build();
            try {
                var stub = HealthGrpc.newBlockingStub(ch);
                assertThat(stub.check(HealthCheckRequest.getDefaultInstance()).getStatus())
                        .isEqualTo(ServingStatus.NOT_SERVING);
                zk.restart();
                await().atMost(WAIT).until(() ->
                        stub.check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING);
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void applyConfig_valid_isRunAndReportedWithDigest() {
        WorkerConfig cfg = config().build();
        ApplyConfigResponse first = control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(cfg).build());
        assertThat(first.getChanged()).isTrue();
        assertThat(first.getConfigDigest()).isEqualTo(ConfigDigest.of(cfg));
        ApplyConfigResponse again = control.applyConfig(ApplyConfigRequest.newBuilder()
                .setConfig(cfg.toBuilder().setGeneration(2)).build());
        assertThat(again.getChanged()).isFalse();
        GetStatusResponse status = control.getStatus(GetStatusRequest.getDefaultInstance());
        assertThat(status.getConfig().getPoliciesList()).isEqualTo(cfg.getPoliciesList());
        assertThat(status.getConfigDigest()).isEqualTo(first.getConfigDigest());
        assertThat(status.getWorkerId()).isEqualTo("wan-a1");
    }

    @Test
    void applyConfig_olderGeneration_isRefusedAsStale_answeringWhatRuns() {
        WorkerConfig newer = config().setGeneration(7).build();
        control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(newer).build());
        WorkerConfig older = config().setGeneration(5).clearPolicies().build();

        ApplyConfigResponse answer = control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(older).build());

        assertThat(answer.getStale()).isTrue();
        assertThat(answer.getChanged()).isFalse();
        assertThat(answer.getAppliedGeneration()).isEqualTo(7);
        assertThat(answer.getConfigDigest()).isEqualTo(ConfigDigest.of(newer));
        assertThat(control.getStatus(GetStatusRequest.getDefaultInstance()).getConfig()).isEqualTo(newer);
    }

    @Test
    void applyConfig_invalid_isRejectedNamingTheField_andOldConfigStays() {
        WorkerConfig good = config().build();
        control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(good).build());
        WorkerConfig bad = config().clearPolicies().addPolicies(FlowPolicy.newBuilder().setName("web")
                .setChain(ServiceChain.SERVICE_CHAIN_CACHE)
                .addDstPorts(PortRange.newBuilder().setFirst(0).setLast(80))).build();
        assertThatThrownBy(() -> control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(bad).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("policies[0].dst_ports[0].first: 0");
                });
        assertThatThrownBy(() -> control.applyConfig(ApplyConfigRequest.newBuilder()
                .setConfig(config().setRole(Role.ROLE_CACHE)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getDescription()).startsWith("role: ROLE_CACHE"));
        assertThatThrownBy(() -> control.applyConfig(ApplyConfigRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getDescription()).startsWith("config: missing"));
        assertThat(control.getStatus(GetStatusRequest.getDefaultInstance()).getConfigDigest())
                .isEqualTo(ConfigDigest.of(good));
        assertThat(worker.meters().get("slipstream.worker.config.apply").tag("result", "rejected").counter().count())
                .isEqualTo(3);
    }

    @Test
    void applyConfig_compressionThisWorkerCannotRun_isFailedPrecondition_andAnUsableOneBuildsTheSwitch() {
        WorkerConfig forced = config().setCompression(io.slipstream.proto.v1.CompressionSettings.newBuilder()
                .setCodec(io.slipstream.proto.v1.Codec.CODEC_ZSTD).setForceProvider("qat")).build();
        assertThatThrownBy(() -> control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(forced).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).startsWith("compression:").contains("qat");
                });
        assertThat(worker.compressor().config().codec()).isEqualTo(io.slipstream.worker.compression.Codec.ZSTD);
        control.applyConfig(ApplyConfigRequest.newBuilder().setConfig(config().setCompression(
                io.slipstream.proto.v1.CompressionSettings.newBuilder()
                        .setCodec(io.slipstream.proto.v1.Codec.CODEC_LZ4).setLevel(1))).build());
        assertThat(worker.compressor().config().codec())
                .isEqualTo(io.slipstream.worker.compression.Codec.LZ4);
        assertThat(worker.compressor().primary().name()).isEqualTo("software");
    }

    @Test
    void compressionProviders_areRegisteredAndReportedWithTheirState() {
        assertThat(worker.record().compressionProviders()).contains("software").doesNotContain("qat");
        LoadReport report = control.getStatus(GetStatusRequest.getDefaultInstance()).getLoad();
        assertThat(report.getCompressionList()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("software");
            assertThat(p.getAvailable()).isTrue();
        });
        assertThat(report.getCompressionList()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("qat");
            assertThat(p.getHardware()).isTrue();
            assertThat(p.getAvailable()).isFalse();
            assertThat(p.getReason()).isNotEmpty();
        });
    }

    @Test
    void streamLoad_reportsRatesOfTheDataPlane() {
        worker.stats().addBytesIn(0);
        Iterator<LoadReport> reports = control.streamLoad(StreamLoadRequest.newBuilder().setIntervalMillis(100).build());
        assertThat(reports.next().getWorkerId()).isEqualTo("wan-a1");
        worker.stats().flowOpened();
        worker.stats().addBytesIn(1_000_000);
        LoadReport report = reports.next();
        while (report.getBytesInPerSecond() == 0) {
            report = reports.next();
        }
        assertThat(report.getBytesInPerSecond()).isGreaterThan(0);
        assertThat(report.getActiveFlows()).isEqualTo(1);
        assertThat(report.getCapacityBytesPerSecond()).isEqualTo(125_000_000L);
    }

    @Test
    void streamLoad_badInterval_isInvalidArgument() {
        assertThatThrownBy(() -> control.streamLoad(StreamLoadRequest.newBuilder().setIntervalMillis(5).build()).next())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("interval_millis: 5");
                });
    }

    @Test
    void drain_notServingAtOnce_leavesRegistry_thenStops() throws Exception {
        await().atMost(WAIT).until(() -> health() == ServingStatus.SERVING);
        worker.stats().flowOpened();
        var response = control.drain(DrainRequest.newBuilder().setTimeoutMillis(10_000).setStopWhenDrained(true).build());
        assertThat(response.getStarted()).isTrue();
        assertThat(response.getActiveFlows()).isEqualTo(1);
        assertThat(health()).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(control.drain(DrainRequest.getDefaultInstance()).getStarted()).isFalse();
        await().atMost(WAIT).until(() -> observer.checkExists().forPath(FleetPaths.instancePath("wan-a1")) == null);
        // It waits for its open flow before stopping.
        assertThat(control.getStatus(GetStatusRequest.getDefaultInstance()).getState())
                .isEqualTo(WorkerState.WORKER_STATE_DRAINING);
        worker.stats().flowClosed();
        await().atMost(WAIT).until(() -> worker.lifecycle().lifecycle() == WorkerState.WORKER_STATE_STOPPED);
        worker.awaitTermination();
    }

    @Test
    void drainAndClose_sigtermPath_leavesRegistryFirst_waitsForFlows_thenCloses() throws Exception {
        await().atMost(WAIT).until(() -> health() == ServingStatus.SERVING);
        worker.stats().flowOpened();
        Thread sigterm = new Thread(() -> worker.drainAndClose(10_000), "sigterm");
        sigterm.start();
        await().atMost(WAIT).until(() -> observer.checkExists().forPath(FleetPaths.instancePath("wan-a1")) == null);
        assertThat(health()).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(sigterm.isAlive()).as("still waiting for the open flow").isTrue();
        worker.stats().flowClosed();
        sigterm.join(WAIT.toMillis());
        assertThat(sigterm.isAlive()).isFalse();
        worker.awaitTermination();
    }

    @Test
    void drainAndClose_afterAnEarlierDrain_closesAtOnce() throws Exception {
        await().atMost(WAIT).until(() -> health() == ServingStatus.SERVING);
        worker.stats().flowOpened();
        control.drain(DrainRequest.newBuilder().setTimeoutMillis(60_000).build());
        long start = System.nanoTime();
        worker.drainAndClose(60_000);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        worker.awaitTermination();
    }

    @Test
    void adminHttp_servesMetricsAndReadiness() throws Exception {
        await().atMost(WAIT).until(() -> health() == ServingStatus.SERVING);
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://" + worker.record().metricsEndpoint();
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("slipstream_worker_serving{role=\"wanopt\"} 1.0");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/nope")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        control.drain(DrainRequest.getDefaultInstance());
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(503);
    }
}
