package io.slipstream.controller.fleet;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.proto.v1.ApplyConfigRequest;
import io.slipstream.proto.v1.ApplyConfigResponse;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.DrainResponse;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.StreamLoadRequest;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.io.Closeable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The controller's connection to one worker's control endpoint: a health {@code Watch} stream and
 * a {@code StreamLoad} stream, both watched for breakage, plus unary calls to program the worker.
 * When either stream breaks the listener hears it at once and the link reconnects with backoff
 * until it is closed. Every callback is handed to the listener on the controller's loop.
 */
final class WorkerLink implements Closeable {

    /** What the link reports. Called on the controller's loop. */
    interface Listener {
        void onHealth(String workerId, Health health);

        void onLinkDown(String workerId, String reason);

        void onLoad(String workerId, LoadReport load);
    }

    static final long MIN_BACKOFF_MILLIS = 100;
    static final long MAX_BACKOFF_MILLIS = 3000;
    private static final long RPC_DEADLINE_MILLIS = 5000;

    private final WorkerRecord record;
    private final ManagedChannel channel;
    /** Why the last TLS handshake refused the worker's certificate (gRPC says only UNAVAILABLE). */
    private final java.util.concurrent.atomic.AtomicReference<String> tlsRefusal =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final ScheduledExecutorService loop;
    private final Listener listener;
    private final int loadIntervalMillis;
    private int attempt;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private boolean closed;

    WorkerLink(WorkerRecord record, ScheduledExecutorService loop, Listener listener, int loadIntervalMillis,
               ControlChannels channels) {
        this.record = record;
        this.loop = loop;
        this.listener = listener;
        this.loadIntervalMillis = loadIntervalMillis;
        this.channel = channels.builder(record, tlsRefusal::set)
                .keepAliveTime(5, TimeUnit.SECONDS)
                .keepAliveTimeout(2, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true)
                .build();
    }

    WorkerRecord record() {
        return record;
    }

    /** Opens both streams. Call on the loop. */
    void connect() {
        if (closed) {
            return;
        }
        final int current = ++attempt;
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.newBuilder().setService("").build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(HealthCheckResponse value) {
                        onLoop(() -> {
                            if (current == attempt && !closed) {
                                backoffMillis = MIN_BACKOFF_MILLIS;
                                listener.onHealth(record.id(), map(value.getStatus()));
                            }
                        });
                    }

                    @Override
                    public void onError(Throwable t) {
                        broken(current, "health stream: " + describe(t));
                    }

                    @Override
                    public void onCompleted() {
                        broken(current, "health stream completed by the worker");
                    }
                });
        WorkerControlGrpc.newStub(channel).streamLoad(
                StreamLoadRequest.newBuilder().setIntervalMillis(loadIntervalMillis).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(LoadReport value) {
                        onLoop(() -> {
                            if (current == attempt && !closed) {
                                listener.onLoad(record.id(), value);
                            }
                        });
                    }

                    @Override
                    public void onError(Throwable t) {
                        broken(current, "load stream: " + describe(t));
                    }

                    @Override
                    public void onCompleted() {
                        broken(current, "load stream completed by the worker");
                    }
                });
    }

    private void broken(int brokenAttempt, String reason) {
        onLoop(() -> {
            if (brokenAttempt != attempt || closed) {
                return;
            }
            attempt++; // ignore the other stream of this attempt
            String refusal = tlsRefusal.getAndSet(null);
            listener.onLinkDown(record.id(), refusal == null ? reason
                    : reason + "; worker certificate refused: " + refusal);
            long delay = backoffMillis;
            backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
            loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
        });
    }

    /**
     * Runs {@code task} on the controller's loop; gRPC callbacks that arrive after the controller stopped
     * (its loop shut down while streams were closing) are dropped quietly.
     */
    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            if (!loop.isShutdown()) {
                throw e;
            }
        }
    }

    private static String describe(Throwable t) {
        Status status = Status.fromThrowable(t);
        String text = status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription());
        return text;
    }

    static Health map(HealthCheckResponse.ServingStatus status) {
        switch (status) {
            case SERVING:
                return Health.SERVING;
            case NOT_SERVING:
            case SERVICE_UNKNOWN:
                return Health.NOT_SERVING;
            default:
                return Health.UNKNOWN;
        }
    }

    CompletableFuture<GetStatusResponse> status() {
        CompletableFuture<GetStatusResponse> result = new CompletableFuture<>();
        WorkerControlGrpc.newStub(channel).withDeadlineAfter(RPC_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                .getStatus(GetStatusRequest.getDefaultInstance(), unary(result));
        return result;
    }

    CompletableFuture<ApplyConfigResponse> apply(WorkerConfig config) {
        CompletableFuture<ApplyConfigResponse> result = new CompletableFuture<>();
        WorkerControlGrpc.newStub(channel).withDeadlineAfter(RPC_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                .applyConfig(ApplyConfigRequest.newBuilder().setConfig(config).build(), unary(result));
        return result;
    }

    CompletableFuture<DrainResponse> drain(DrainRequest request) {
        CompletableFuture<DrainResponse> result = new CompletableFuture<>();
        WorkerControlGrpc.newStub(channel).withDeadlineAfter(RPC_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                .drain(request, unary(result));
        return result;
    }

    CompletableFuture<io.slipstream.proto.v1.PurgeResponse> purge(io.slipstream.proto.v1.PurgeRequest request) {
        CompletableFuture<io.slipstream.proto.v1.PurgeResponse> result = new CompletableFuture<>();
        WorkerControlGrpc.newStub(channel).withDeadlineAfter(RPC_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                .purge(request, unary(result));
        return result;
    }

    private static <T> StreamObserver<T> unary(CompletableFuture<T> result) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.completeExceptionally(new IllegalStateException("completed without a value"));
            }
        };
    }

    /**
     * Stops reconnecting and closes the channel: calls in flight (a drain the worker is answering as it leaves
     * the directory) may finish within their deadline, then everything is cancelled. Call on the loop.
     */
    @Override
    public void close() {
        closed = true;
        channel.shutdown();
        try {
            loop.schedule(channel::shutdownNow, RPC_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            channel.shutdownNow(); // the controller is stopping: nothing waits for an answer any more
        }
    }

    /** Closes at once, cancelling calls in flight (the controller is stopping). Call on the loop. */
    void closeNow() {
        closed = true;
        channel.shutdownNow();
    }
}
