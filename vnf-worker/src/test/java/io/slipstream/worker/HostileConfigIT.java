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
import io.slipstream.contract.ConfigDigest;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.CacheSettings;
import io.slipstream.proto.v1.Codec;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.proto.v1.WorkerControlGrpc;
import io.slipstream.worker.control.ControlServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * gRPC messages with out-of-range fields, against a whole worker on real sockets: every hostile
 * ApplyConfig is refused with INVALID_ARGUMENT naming the field (or RESOURCE_EXHAUSTED above the
 * inbound message limit), the worker keeps the configuration it had and keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileConfigIT {

    private TestingServer zk;
    private Worker worker;
    private ManagedChannel channel;
    private WorkerConfig good;

    @BeforeAll
    void start() throws Exception {
        zk = new TestingServer(true);
        worker = Worker.start(WorkerSettings.of("wan-h1", "a", zk.getConnectString(),
                        WanOptRoleSettings.defaults().withChunkStore(16 << 20, null))
                .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(125_000_000L).withVersion("test"));
        // The client accepts large trailers, so a description the server failed to bound would show here.
        channel = NettyChannelBuilder.forTarget(worker.record().controlEndpoint()).usePlaintext()
                .maxInboundMetadataSize(1 << 20).build();
        await().atMost(Duration.ofSeconds(30)).until(() -> health() == ServingStatus.SERVING);
        good = valid().setGeneration(1).build();
        control().applyConfig(ApplyConfigRequest.newBuilder().setConfig(good).build());
    }

    @AfterAll
    void stop() throws Exception {
        channel.shutdownNow();
        worker.close();
        zk.close();
    }

    private ServingStatus health() {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    }

    private WorkerControlGrpc.WorkerControlBlockingStub control() {
        return WorkerControlGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private static WorkerConfig.Builder valid() {
        return WorkerConfig.newBuilder().setRole(Role.ROLE_WANOPT).setSite("a")
                .addPolicies(FlowPolicy.newBuilder().setName("smb").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                        .addDstPorts(PortRange.newBuilder().setFirst(445).setLast(445)))
                .setCompression(CompressionSettings.newBuilder().setCodec(Codec.CODEC_ZSTD).setLevel(3));
    }

    private static Arguments hostile(String expectedInDescription, UnaryOperator<WorkerConfig.Builder> change) {
        return Arguments.of(expectedInDescription, change.apply(valid().setGeneration(2)).build());
    }

    static Stream<Arguments> hostileConfigs() {
        String megabyte = "s".repeat(1 << 20);
        return Stream.of(
                hostile("compression.level: -7 (expected: 0...22", b -> b.setCompression(
                        CompressionSettings.newBuilder().setCodec(Codec.CODEC_ZSTD).setLevel(-7))),
                hostile("compression.level: 2147483647 (expected: 0...17", b -> b.setCompression(
                        CompressionSettings.newBuilder().setCodec(Codec.CODEC_LZ4).setLevel(Integer.MAX_VALUE))),
                hostile("compression.codec: 99", b -> b.setCompression(
                        CompressionSettings.newBuilder().setCodecValue(99))),
                hostile("compression.min_hardware_block_bytes: 4294967295", b -> b.setCompression(
                        CompressionSettings.newBuilder().setMinHardwareBlockBytes(-1))),
                hostile("policies[0].compression_level: -1", b -> b.setPolicies(0,
                        b.getPolicies(0).toBuilder().setCompressionLevel(-1))),
                hostile("policies[0].chain: UNRECOGNIZED", b -> b.setPolicies(0,
                        b.getPolicies(0).toBuilder().setChainValue(1234))),
                hostile("role: UNRECOGNIZED", b -> b.setRoleValue(77)),
                hostile("cache.max_object_bytes: 2048 (expected: <= max_bytes, 1024)", b -> b.setCache(
                        CacheSettings.newBuilder().setMaxBytes(1024).setMaxObjectBytes(2048))),
                hostile("cache.max_bytes: 18446744073709551615", b -> b.setCache(
                        CacheSettings.newBuilder().setMaxBytes(-1L))),
                hostile("steering.bucket_count: 3 (expected: a power of two", b -> b.setSteering(
                        SteeringTable.newBuilder().setBucketCount(3))),
                hostile("steering.entries[0].owners[1]: 4294967295 (expected: an index into members, 0..0)",
                        b -> b.setSteering(SteeringTable.newBuilder().setBucketCount(2).addEntries(
                                SteeringEntry.newBuilder().setPolicy("smb").setSite("a")
                                        .addMembers(Peer.newBuilder().setWorkerId("w1").setSite("a")
                                                .setDataEndpoint("127.0.0.1:7000"))
                                        .addOwners(0).addOwners(-1)))),
                hostile("policies: 100001 entries (expected: at most 10000)", b -> {
                    for (int i = 0; i < 100_000; i++) {
                        b.addPolicies(FlowPolicy.newBuilder().setName("p" + i).setChain(ServiceChain.SERVICE_CHAIN_BYPASS));
                    }
                    return b;
                }),
                hostile("site: 'sss", b -> b.setSite(megabyte)),
                hostile("peers[0].worker_id: 'sss", b -> b.addPeers(Peer.newBuilder().setWorkerId(megabyte)
                        .setSite("b").setDataEndpoint("127.0.0.1:7000"))),
                hostile("; and ", b -> {
                    for (int i = 0; i < 5000; i++) { // 5000 violations: the description stays bounded
                        b.addPolicies(FlowPolicy.newBuilder().setName("bad name " + i + "\u00e9".repeat(200)));
                    }
                    return b;
                }));
    }

    @ParameterizedTest
    @MethodSource("hostileConfigs")
    void applyConfig_outOfRangeField_isInvalidArgumentNamingIt_andOldConfigStaysServing(String named,
            WorkerConfig hostile) {
        assertThatThrownBy(() -> control().applyConfig(ApplyConfigRequest.newBuilder().setConfig(hostile).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains(named).hasSizeLessThan(4096);
                });
        assertStillServingTheGoodConfig();
    }

    @Test
    void applyConfig_messageAboveTheInboundLimit_isResourceExhausted_andOldConfigStaysServing() {
        WorkerConfig huge = valid().setGeneration(3).setCompression(CompressionSettings.newBuilder()
                .setForceProvider("f".repeat(ControlServer.MAX_INBOUND_MESSAGE_BYTES + 1))).build();
        assertThatThrownBy(() -> control().applyConfig(ApplyConfigRequest.newBuilder().setConfig(huge).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertStillServingTheGoodConfig();
    }

    private void assertStillServingTheGoodConfig() {
        assertThat(control().getStatus(GetStatusRequest.getDefaultInstance()).getConfigDigest())
                .isEqualTo(ConfigDigest.of(good));
        assertThat(health()).isEqualTo(ServingStatus.SERVING);
        assertThat(((WanOptDataPlane) worker.dataPlane()).optimizer().tunnelAddress()).isNotNull();
    }
}
