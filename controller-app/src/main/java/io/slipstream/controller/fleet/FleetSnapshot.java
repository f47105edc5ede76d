package io.slipstream.controller.fleet;

import io.slipstream.proto.v1.FleetPolicy;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** An immutable picture of the fleet at one moment, safe to read from any thread. */
public final class FleetSnapshot {

    private final Instant takenAt;
    private final boolean stale;
    private final List<WorkerView> workers;
    private final Set<String> healthy;
    private final List<FleetEvent> events;
    private final FleetPolicy policy;
    private final long generation;
    private final boolean converged;

    FleetSnapshot(Instant takenAt, boolean stale, List<WorkerView> workers, Set<String> healthy,
                  List<FleetEvent> events, FleetPolicy policy, long generation, boolean converged) {
        this.takenAt = takenAt;
        this.stale = stale;
        this.workers = List.copyOf(workers);
        this.healthy = Set.copyOf(healthy);
        this.events = List.copyOf(events);
        this.policy = policy;
        this.generation = generation;
        this.converged = converged;
    }

    public Instant takenAt() {
        return takenAt;
    }

    /** ZooKeeper is away: membership is the last known one. */
    public boolean stale() {
        return stale;
    }

    public List<WorkerView> workers() {
        return workers;
    }

    public WorkerView worker(String id) {
        for (WorkerView w : workers) {
            if (w.id().equals(id)) {
                return w;
            }
        }
        return null;
    }

    /** Ids of the workers in the steering set. */
    public Set<String> healthy() {
        return healthy;
    }

    public List<FleetEvent> events() {
        return events;
    }

    public FleetPolicy policy() {
        return policy;
    }

    /**
     * Every serving worker runs the configuration the controller plans for it now (as far as its answers and
     * load reports say): the steering tables, peers and shards are in force, nothing is being pushed.
     */
    public boolean converged() {
        return converged;
    }

    /** Configuration generation: grows with every policy or fleet change. */
    public long generation() {
        return generation;
    }
}
