package io.slipstream.worker.control;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The worker's gRPC server: {@code WorkerControl} and {@code grpc.health.v1.Health}. Takes a
 * {@link ServerBuilder} so tests can hand it an in-process one. Health follows
 * {@link WorkerLifecycle#health()}, for the whole server and for the WorkerControl service.
 */
public final class ControlServer implements Closeable {

    /**
     * Largest inbound gRPC message the worker's control server accepts (4 MiB, grpc-java's default made
     * explicit): a larger ApplyConfig is refused with RESOURCE_EXHAUSTED before it is parsed.
     */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 4 << 20;

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();

    public ControlServer(ServerBuilder<?> builder, WorkerControlService service, WorkerLifecycle lifecycle) {
        this.server = builder.addService(service).addService(health.getHealthService()).build();
        lifecycle.onHealth(this::setHealth);
    }

    private void setHealth(ServingStatus status) {
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        health.setStatus(WorkerControlGrpc.SERVICE_NAME, status);
    }

    public ControlServer start() throws IOException {
        server.start();
        return this;
    }

    /** The bound port (for servers built on a socket). */
    public int port() {
        return server.getPort();
    }

    /** Tells health watchers the worker is going away, then stops serving within a short grace. */
    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(500, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
