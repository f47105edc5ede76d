package io.slipstream.controller.fleet;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.slipstream.contract.ConfigDigest;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.ApplyConfigResponse;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.DrainResponse;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.PurgeRequest;
import io.slipstream.proto.v1.PurgeResponse;
import io.slipstream.proto.v1.StreamLoadRequest;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A worker's control plane only, on real gRPC on loopback and not registered anywhere (the test hands its
 * {@link #record()} to the controller as membership): health SERVING, a configuration applied and reported as a
 * worker does, or refused as invalid while {@link #rejectConfigs} is set; drains and purges recorded.
 */
final class LoopbackWorker implements Closeable {

    private final Server server;
    private final WorkerRecord record;
    private final Control control = new Control();
    /** While true, every configuration is refused with INVALID_ARGUMENT, as a worker refuses a bad one. */
    volatile boolean rejectConfigs;
    /** What a purge answers. */
    volatile int purged;

    private LoopbackWorker(String id, String role, String site) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService())
                .addService(control)
                .build()
                .start();
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        record = new WorkerRecord(id, role, site, "127.0.0.1:" + server.getPort(), "127.0.0.1:9000", "",
                100_000_000L, List.of("software"), "test");
    }

    static LoopbackWorker start(String id, String role, String site) throws IOException {
        return new LoopbackWorker(id, role, site);
    }

    WorkerRecord record() {
        return record;
    }

    int applies() {
        return control.applies.get();
    }

    int statusCalls() {
        return control.statusCalls.get();
    }

    /** The configuration it runs, or the default instance before the first. */
    WorkerConfig config() {
        return control.config;
    }

    List<DrainRequest> drains() {
        return List.copyOf(control.drains);
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Control extends WorkerControlGrpc.WorkerControlImplBase {
        private final AtomicInteger applies = new AtomicInteger();
        private final AtomicInteger statusCalls = new AtomicInteger();
        private final Queue<DrainRequest> drains = new ConcurrentLinkedQueue<>();
        private volatile WorkerConfig config = WorkerConfig.getDefaultInstance();
        private volatile String digest = "";

        @Override
        public void applyConfig(ApplyConfigRequest request, StreamObserver<ApplyConfigResponse> response) {
            applies.incrementAndGet();
            if (rejectConfigs) {
                response.onError(Status.INVALID_ARGUMENT.withDescription("policies[0]: refused by the test")
                        .asRuntimeException());
                return;
            }
            config = request.getConfig();
            digest = ConfigDigest.of(config);
            response.onNext(ApplyConfigResponse.newBuilder().setConfigDigest(digest).setChanged(true)
                    .setAppliedGeneration(config.getGeneration()).build());
            response.onCompleted();
        }

        @Override
        public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
            statusCalls.incrementAndGet();
            response.onNext(GetStatusResponse.newBuilder().setWorkerId(record.id()).setConfig(config)
                    .setConfigDigest(digest).build());
            response.onCompleted();
        }

        @Override
        public void drain(DrainRequest request, StreamObserver<DrainResponse> response) {
            boolean first = drains.isEmpty();
            drains.add(request);
            response.onNext(DrainResponse.newBuilder().setStarted(first).build());
            response.onCompleted();
        }

        @Override
        public void purge(PurgeRequest request, StreamObserver<PurgeResponse> response) {
            response.onNext(PurgeResponse.newBuilder().setPurged(purged).build());
            response.onCompleted();
        }

        @Override
        public void streamLoad(StreamLoadRequest request, StreamObserver<LoadReport> response) {
            response.onNext(LoadReport.newBuilder().setWorkerId(record.id())
                    .setTimestampMillis(System.currentTimeMillis()).build());
        }
    }
}
