package io.slipstream.worker.control;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.contract.ConfigValidator;
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
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The worker's side of {@code slipstream.v1.WorkerControl}. */
public final class WorkerControlService extends WorkerControlGrpc.WorkerControlImplBase {

    private static final Logger log = LoggerFactory.getLogger(WorkerControlService.class);
    static final int DEFAULT_INTERVAL_MILLIS = 1000;
    static final long DEFAULT_DRAIN_TIMEOUT_MILLIS = 30_000;
    static final long MAX_DRAIN_TIMEOUT_MILLIS = 3_600_000;

    private final WorkerLifecycle lifecycle;
    private final LoadSampler load;
    private final LoadSampler.Cursor statusCursor;
    private final Drainer drainer;
    private final ScheduledExecutorService scheduler;
    private final String version;
    private final LongSupplier uptimeMillis;
    private final Counter applied;
    private final Counter unchanged;
    private final Counter rejected;
    private final Counter stale;
    private final ConfigPrecondition precondition;
    private volatile Purger purger;

    /** Purges cached responses; cache workers only. */
    @FunctionalInterface
    public interface Purger {
        /** Entries purged; {@link IllegalArgumentException} for a bad request. */
        int purge(io.slipstream.proto.v1.PurgeRequest request);
    }

    /** What answers {@code Purge}; without one the worker answers FAILED_PRECONDITION (not a cache). */
    public WorkerControlService purger(Purger purger) {
        this.purger = purger;
        return this;
    }

    /**
     * What this worker can honour beyond the contract's validation (e.g. a compression provider it
     * has). Returns why not, or {@code null} when it can.
     */
    @FunctionalInterface
    public interface ConfigPrecondition {
        String check(io.slipstream.proto.v1.WorkerConfig config);
    }

    public WorkerControlService(WorkerLifecycle lifecycle, LoadSampler load, Drainer drainer,
                                ScheduledExecutorService scheduler, String version, LongSupplier uptimeMillis,
                                MeterRegistry meters, ConfigPrecondition precondition) {
        this.precondition = precondition;
        this.lifecycle = lifecycle;
        this.load = load;
        this.statusCursor = load.cursor();
        this.drainer = drainer;
        this.scheduler = scheduler;
        this.version = version;
        this.uptimeMillis = uptimeMillis;
        this.applied = Counter.builder("slipstream.worker.config.apply").tag("result", "changed").register(meters);
        this.unchanged = Counter.builder("slipstream.worker.config.apply").tag("result", "unchanged").register(meters);
        this.rejected = Counter.builder("slipstream.worker.config.apply").tag("result", "rejected").register(meters);
        this.stale = Counter.builder("slipstream.worker.config.apply").tag("result", "stale").register(meters);
    }

    /** Most violations named in one INVALID_ARGUMENT description. */
    static final int MAX_DESCRIPTION_ERRORS = 10;
    /** Longest INVALID_ARGUMENT description, well inside a client's default 8 KiB header limit. */
    static final int MAX_DESCRIPTION_CHARS = 2048;

    @Override
    public void applyConfig(ApplyConfigRequest request, StreamObserver<ApplyConfigResponse> response) {
        if (!request.hasConfig()) {
            rejected.increment();
            response.onError(Status.INVALID_ARGUMENT.withDescription("config: missing (expected: a WorkerConfig)")
                    .asRuntimeException());
            return;
        }
        List<String> errors = ConfigValidator.validate(request.getConfig(), lifecycle.role(), lifecycle.site());
        if (!errors.isEmpty()) {
            rejected.increment();
            String description = describe(errors);
            log.warn("rejected configuration generation {}: {}", request.getConfig().getGeneration(), description);
            response.onError(Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException());
            return;
        }
        String unmet = precondition.check(request.getConfig());
        if (unmet != null) {
            rejected.increment();
            log.warn("cannot run configuration generation {}: {}", request.getConfig().getGeneration(), unmet);
            response.onError(Status.FAILED_PRECONDITION.withDescription(unmet).asRuntimeException());
            return;
        }
        WorkerConfig config = request.getConfig();
        WorkerLifecycle.Outcome outcome = lifecycle.apply(config);
        WorkerLifecycle.Applied now = lifecycle.applied();
        switch (outcome) {
            case APPLIED -> {
                applied.increment();
                log.info("applied configuration generation {} ({} policies, {} peers)",
                        config.getGeneration(), config.getPoliciesCount(), config.getPeersCount());
            }
            case UNCHANGED -> unchanged.increment();
            case STALE -> {
                stale.increment();
                log.warn("refused configuration generation {}: older than the applied generation {} (digest {})",
                        Long.toUnsignedString(config.getGeneration()), Long.toUnsignedString(now.generation()),
                        now.digest().substring(0, 12));
            }
        }
        response.onNext(ApplyConfigResponse.newBuilder()
                .setConfigDigest(now.digest())
                .setAppliedGeneration(now.generation())
                .setChanged(outcome == WorkerLifecycle.Outcome.APPLIED)
                .setStale(outcome == WorkerLifecycle.Outcome.STALE)
                .build());
        response.onCompleted();
    }

    @Override
    public void getStatus(GetStatusRequest request, StreamObserver<GetStatusResponse> response) {
        GetStatusResponse.Builder status = GetStatusResponse.newBuilder()
                .setWorkerId(lifecycle.id())
                .setRole(lifecycle.role())
                .setSite(lifecycle.site())
                .setState(lifecycle.lifecycle())
                .setLoad(statusCursor.sample())
                .setVersion(version)
                .setUptimeMillis(uptimeMillis.getAsLong());
        WorkerLifecycle.Applied current = lifecycle.applied();
        if (current != null) {
            status.setConfig(current.config()).setConfigDigest(current.digest());
        }
        response.onNext(status.build());
        response.onCompleted();
    }

    @Override
    public void streamLoad(StreamLoadRequest request, StreamObserver<LoadReport> response) {
        int interval = request.getIntervalMillis() == 0 ? DEFAULT_INTERVAL_MILLIS : request.getIntervalMillis();
        if (interval < 100 || interval > 60_000) {
            response.onError(Status.INVALID_ARGUMENT
                    .withDescription("interval_millis: " + request.getIntervalMillis() + " (expected: 0 or 100..60000)")
                    .asRuntimeException());
            return;
        }
        ServerCallStreamObserver<LoadReport> call = (ServerCallStreamObserver<LoadReport>) response;
        LoadSampler.Cursor cursor = load.cursor();
        Object lock = new Object();
        // A throw from onNext (call already closed) ends the periodic task, which is what we want.
        ScheduledFuture<?> task = scheduler.scheduleAtFixedRate(() -> {
            synchronized (lock) {
                if (!call.isCancelled()) {
                    call.onNext(cursor.sample());
                }
            }
        }, 0, interval, TimeUnit.MILLISECONDS);
        call.setOnCancelHandler(() -> task.cancel(false));
    }

    @Override
    public void drain(DrainRequest request, StreamObserver<DrainResponse> response) {
        long timeout = request.getTimeoutMillis() == 0 ? DEFAULT_DRAIN_TIMEOUT_MILLIS : request.getTimeoutMillis();
        if (timeout > MAX_DRAIN_TIMEOUT_MILLIS) {
            response.onError(Status.INVALID_ARGUMENT
                    .withDescription("timeout_millis: " + request.getTimeoutMillis() + " (expected: 0..3600000)")
                    .asRuntimeException());
            return;
        }
        response.onNext(drainer.drain(timeout, request.getStopWhenDrained()));
        response.onCompleted();
    }

    /**
     * The violations as one status description, at most {@link #MAX_DESCRIPTION_ERRORS} of them: the
     * description travels in a trailer, and a hostile config with thousands of errors must not exceed
     * the client's header limit (it would see INTERNAL instead of INVALID_ARGUMENT).
     */
    static String describe(List<String> errors) {
        String shown = String.join("; ", errors.subList(0, Math.min(errors.size(), MAX_DESCRIPTION_ERRORS)));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shown.length() && sb.length() < MAX_DESCRIPTION_CHARS; i++) {
            char c = shown.charAt(i);
            sb.append(c >= ' ' && c < 127 ? c : '?'); // printable ASCII: no percent-encoding blow-up
        }
        if (sb.length() < shown.length()) {
            sb.append("...");
        }
        return errors.size() <= MAX_DESCRIPTION_ERRORS ? sb.toString()
                : sb + "; and " + (errors.size() - MAX_DESCRIPTION_ERRORS) + " more";
    }

    @Override
    public void purge(io.slipstream.proto.v1.PurgeRequest request,
                      StreamObserver<io.slipstream.proto.v1.PurgeResponse> response) {
        Purger p = purger;
        if (p == null) {
            response.onError(Status.FAILED_PRECONDITION.withDescription("purge: worker role is "
                    + lifecycle.role() + " (expected: a cache worker)").asRuntimeException());
            return;
        }
        int purged;
        try {
            purged = p.purge(request);
        } catch (IllegalArgumentException e) {
            response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        log.info("purged {} cached entries (url '{}', prefix '{}', tags {}, soft {})", purged, request.getUrl(),
                request.getPrefix(), request.getTagsList(), request.getSoft());
        response.onNext(io.slipstream.proto.v1.PurgeResponse.newBuilder().setPurged(purged).build());
        response.onCompleted();
    }
}
