package io.slipstream.controller.onos;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.slipstream.contract.ConfigDigest;
import io.slipstream.contract.FleetPaths;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.ApplyConfigResponse;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.StreamLoadRequest;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;

/**
 * A worker's control plane only, for controller tests: a real gRPC server on loopback (health
 * SERVING, WorkerControl answering status and configuration) registered in ZooKeeper like a real
 * worker. {@link #kill()} stops the server abruptly, as a dying worker would.
 */
public final class FakeWorker implements Closeable {

    private final Server server;
    private final ServiceDiscovery<WorkerRecord> discovery;
    private final WorkerRecord record;

    private final Control control;

    private FakeWorker(Server server, ServiceDiscovery<WorkerRecord> discovery, WorkerRecord record, Control control) {
        this.control = control;
        this.server = server;
        this.discovery = discovery;
        this.record = record;
    }

    /** Starts a worker whose data address (the one the switch steers to) is {@code dataIp}. */
    public static FakeWorker start(CuratorFramework curator, String id, String role, String site, String dataIp,
            long capacityBytesPerSecond) throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        Control control = new Control(id);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(health.getHealthService())
                .addService(control)
                .build()
                .start();
        health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        WorkerRecord record = new WorkerRecord(id, role, site, "127.0.0.1:" + server.getPort(), dataIp + ":9000",
                "", capacityBytesPerSecond, List.of("software"), "test");
        ServiceDiscovery<WorkerRecord> discovery = ServiceDiscoveryBuilder.builder(WorkerRecord.class)
                .client(curator)
                .basePath(FleetPaths.DISCOVERY_BASE_PATH)
                .serializer(new JsonInstanceSerializer<>(WorkerRecord.class))
                .build();
        discovery.start();
        discovery.registerService(ServiceInstance.<WorkerRecord>builder()
                .name(FleetPaths.WORKER_SERVICE)
                .id(id)
                .payload(record)
                .build());
        return new FakeWorker(server, discovery, record, control);
    }

    /** ApplyConfig calls this worker answered. */
    public int applies() {
        return control.applies.get();
    }

    /** GetStatus calls this worker answered. */
    public int statusCalls() {
        return control.statusCalls.get();
    }

    /** Drain requests this worker received (the standalone controller's admin API tests). */
    public java.util.List<io.slipstream.proto.v1.DrainRequest> drains() {
        return java.util.List.copyOf(control.drains);
    }

    WorkerRecord record() {
        return record;
    }

    /** Stops serving at once: streams break, the registration stays until {@link #close()}. */
    void kill() {
        server.shutdownNow();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            discovery.close();
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Control extends WorkerControlGrpc.WorkerControlImplBase {
        private final String id;
        private final java.util.Queue<io.slipstream.proto.v1.DrainRequest> drains =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile String digest = "";
        private final java.util.concurrent.atomic.AtomicInteger applies = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicInteger statusCalls =
                new java.util.concurrent.atomic.AtomicInteger();

        Control(String id) {
            this.id = id;
        }

        @Override
        public void applyConfig(ApplyConfigRequest request, StreamObserver<ApplyConfigResponse> response) {
            applies.incrementAndGet();
            digest = ConfigDigest.of(request.getConfig());
            response.onNext(ApplyConfigResponse.newBuilder().setConfigDigest(digest).setChanged(true).build());
            response.onCompleted();
        }

        @Override
        public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
            statusCalls.incrementAndGet();
            response.onNext(GetStatusResponse.newBuilder().setWorkerId(id).setConfigDigest(digest).build());
            response.onCompleted();
        }

        @Override
        public void drain(io.slipstream.proto.v1.DrainRequest request,
                          StreamObserver<io.slipstream.proto.v1.DrainResponse> response) {
            boolean first = drains.isEmpty();
            drains.add(request);
            response.onNext(io.slipstream.proto.v1.DrainResponse.newBuilder().setStarted(first).build());
            response.onCompleted();
        }

        @Override
        public void streamLoad(StreamLoadRequest request, StreamObserver<LoadReport> response) {
            response.onNext(LoadReport.newBuilder().setWorkerId(id).setTimestampMillis(System.currentTimeMillis())
                    .build());
        }
    }
}
