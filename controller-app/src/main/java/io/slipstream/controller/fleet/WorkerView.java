package io.slipstream.controller.fleet;

import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.placement.FleetMember;
import io.slipstream.proto.v1.LoadReport;
import java.time.Instant;

/** An immutable view of one worker in the directory. */
public final class WorkerView implements FleetMember {

    private final WorkerRecord record;
    private final boolean registered;
    private final Health health;
    private final Instant healthSince;
    private final String reason;
    private final LoadReport load;
    private final String configDigest;

    WorkerView(WorkerRecord record, boolean registered, Health health, Instant healthSince, String reason,
               LoadReport load, String configDigest) {
        this.record = record;
        this.registered = registered;
        this.health = health;
        this.healthSince = healthSince;
        this.reason = reason;
        this.load = load;
        this.configDigest = configDigest;
    }

    @Override
    public String id() {
        return record.id();
    }

    @Override
    public WorkerRecord record() {
        return record;
    }

    /** Present in ZooKeeper now (false during the grace after it vanished while still serving). */
    public boolean registered() {
        return registered;
    }

    public Health health() {
        return health;
    }

    @Override
    public boolean healthy() {
        return health == Health.SERVING;
    }

    /**
     * Serving and known to run a configuration from the controller: only such workers are steered to,
     * so a worker that (re)starts gets no traffic before it has its peers, shards and policies.
     */
    @Override
    public boolean steerable() {
        return healthy() && !configDigest.isEmpty();
    }

    public Instant healthSince() {
        return healthSince;
    }

    /** Why the worker is down, if it is. */
    public String reason() {
        return reason;
    }

    /** The latest load report, or the default instance before the first. */
    public LoadReport load() {
        return load;
    }

    /** Digest of the configuration the worker runs, as far as the controller knows; empty if unknown. */
    public String configDigest() {
        return configDigest;
    }

    @Override
    public String toString() {
        return record.id() + "[" + record.role() + "@" + record.site() + " " + health.label()
                + (registered ? "" : ", unregistered") + "]";
    }
}
