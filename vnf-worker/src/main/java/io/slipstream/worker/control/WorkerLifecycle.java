package io.slipstream.worker.control;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.slipstream.contract.ConfigDigest;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.proto.v1.WorkerState;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Identity, lifecycle and applied configuration of this worker; the single place that decides
 * what the worker reports on gRPC health. SERVING only once registered and ready, NOT_SERVING
 * while starting and from the moment a drain begins.
 */
public final class WorkerLifecycle {

    /** The applied configuration and its digest, swapped atomically. */
    public static final class Applied {
        private final WorkerConfig config;
        private final String digest;

        Applied(WorkerConfig config, String digest) {
            this.config = config;
            this.digest = digest;
        }

        public WorkerConfig config() {
            return config;
        }

        public String digest() {
            return digest;
        }

        public long generation() {
            return config.getGeneration();
        }
    }

    private final String id;
    private final Role role;
    private final String site;
    private final List<Consumer<ServingStatus>> healthListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<WorkerConfig>> configListeners = new CopyOnWriteArrayList<>();

    private WorkerState lifecycle = WorkerState.WORKER_STATE_STARTING;
    private volatile Applied applied;
    /** Held across an apply and its listeners, so listeners see generations in order. */
    private final ReentrantLock applyLock = new ReentrantLock();
    private ServingStatus lastHealth = ServingStatus.NOT_SERVING;

    public WorkerLifecycle(String id, Role role, String site) {
        this.id = Objects.requireNonNull(id, "id");
        this.role = Objects.requireNonNull(role, "role");
        this.site = Objects.requireNonNull(site, "site");
    }

    public String id() {
        return id;
    }

    public Role role() {
        return role;
    }

    public String site() {
        return site;
    }

    public synchronized WorkerState lifecycle() {
        return lifecycle;
    }

    public synchronized boolean draining() {
        return lifecycle == WorkerState.WORKER_STATE_DRAINING
                || lifecycle == WorkerState.WORKER_STATE_STOPPED;
    }

    /** Called with every change of the health status (and once with the current one). */
    public void onHealth(Consumer<ServingStatus> listener) {
        healthListeners.add(listener);
        ServingStatus now;
        synchronized (this) {
            now = lastHealth;
        }
        listener.accept(now);
    }

    /** Called with every configuration that changes what the worker runs. */
    public void onConfig(Consumer<WorkerConfig> listener) {
        configListeners.add(listener);
    }

    /** The worker is registered and its data plane is up; it starts serving unless it drains. */
    public void registered() {
        transition(WorkerState.WORKER_STATE_STARTING,
                WorkerState.WORKER_STATE_SERVING);
    }

    /** Begins a drain; false when one had already begun. */
    public boolean beginDrain() {
        synchronized (this) {
            if (draining()) {
                return false;
            }
            lifecycle = WorkerState.WORKER_STATE_DRAINING;
        }
        publishHealth();
        return true;
    }

    /** The drain finished; the worker is about to stop. */
    public void stopped() {
        synchronized (this) {
            lifecycle = WorkerState.WORKER_STATE_STOPPED;
        }
        publishHealth();
    }

    private void transition(WorkerState from, WorkerState to) {
        synchronized (this) {
            if (lifecycle != from) {
                return;
            }
            lifecycle = to;
        }
        publishHealth();
    }

    /** SERVING exactly when registered, ready and not draining. */
    public synchronized ServingStatus health() {
        return lifecycle == WorkerState.WORKER_STATE_SERVING
                ? ServingStatus.SERVING
                : ServingStatus.NOT_SERVING;
    }

    private void publishHealth() {
        ServingStatus now;
        synchronized (this) {
            now = health();
            if (now == lastHealth) {
                return;
            }
            lastHealth = now;
        }
        for (Consumer<ServingStatus> listener : healthListeners) {
            listener.accept(now);
        }
    }

    /** What {@link #apply} did with a configuration. */
    public enum Outcome {
        /** It differs from the one running and is now applied; listeners saw it. */
        APPLIED,
        /** Same content as the one running (a newer generation is recorded); listeners not called. */
        UNCHANGED,
        /**
         * Refused: its generation is older than the applied one, or equal with other content. The worker
         * keeps what it runs; {@link #applied()} says what that is.
         */
        STALE
    }

    /**
     * Applies a configuration that has already been validated, in generation order: one whose
     * generation is older than the applied one (or equal, with other content) is refused as
     * {@link Outcome#STALE}. Applies are serialized, listeners included, so every listener sees the
     * configurations in increasing generation order, whatever order concurrent calls arrive in.
     */
    public Outcome apply(WorkerConfig config) {
        String digest = ConfigDigest.of(config);
        applyLock.lock();
        try {
            Applied current = applied;
            if (current != null) {
                long have = current.config.getGeneration();
                long offered = config.getGeneration();
                if (Long.compareUnsigned(offered, have) < 0
                        || (offered == have && !current.digest.equals(digest))) {
                    return Outcome.STALE;
                }
                if (current.digest.equals(digest)) {
                    applied = new Applied(config, digest); // keep the newest generation
                    return Outcome.UNCHANGED;
                }
            }
            applied = new Applied(config, digest);
            for (Consumer<WorkerConfig> listener : configListeners) {
                listener.accept(config);
            }
            return Outcome.APPLIED;
        } finally {
            applyLock.unlock();
        }
    }

    /** The applied configuration, or {@code null} before the first one. */
    public Applied applied() {
        return applied;
    }

}
