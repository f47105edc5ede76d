package io.slipstream.controller.fleet;

import io.slipstream.contract.WorkerRecord;
import io.slipstream.proto.v1.LoadReport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The controller's fleet directory: ZooKeeper membership merged with what each worker's gRPC
 * health and load streams say. Pure and single-threaded (the controller calls it from one loop);
 * time comes from the injected clock.
 *
 * <p>Rules:
 * <ul>
 *   <li>A worker is healthy (in the steering set) exactly when its health stream says SERVING.
 *       A broken stream takes it out at once ({@link #onLinkDown}), not after the ZooKeeper
 *       session timeout.</li>
 *   <li>While ZooKeeper is away the directory keeps the last known membership and is marked
 *       stale; nothing is removed for ZooKeeper's sake.</li>
 *   <li>A worker that vanishes from ZooKeeper while its health stream still says SERVING is kept
 *       for a grace period (it re-registers after a session loss); only a worker that stays
 *       unregistered past the grace, or that is not serving, is removed. So a ZooKeeper restart
 *       does not make the steering set flap.</li>
 * </ul>
 */
public final class FleetDirectory {

    /** What a membership update changed. */
    public static final class Changes {
        public final List<WorkerRecord> added = new ArrayList<>();
        public final List<WorkerRecord> updated = new ArrayList<>();
        public final List<String> removed = new ArrayList<>();

        public boolean isEmpty() {
            return added.isEmpty() && updated.isEmpty() && removed.isEmpty();
        }
    }

    private static final class Entry {
        WorkerRecord record;
        boolean registered = true;
        Instant unregisteredSince;
        Health health = Health.UNKNOWN;
        Instant healthSince;
        String reason = "";
        LoadReport load = LoadReport.getDefaultInstance();
        String configDigest = "";

        Entry(WorkerRecord record, Instant now) {
            this.record = record;
            this.healthSince = now;
        }

        WorkerView view() {
            return new WorkerView(record, registered, health, healthSince, reason, load, configDigest);
        }
    }

    static final int MAX_EVENTS = 200;

    private final Clock clock;
    private final Duration membershipGrace;
    private final Map<String, Entry> entries = new TreeMap<>();
    private final Deque<FleetEvent> events = new ArrayDeque<>();
    /** Compression fallback events: the first at once, then at most one per worker and provider a minute. */
    private final CompressionEvents compressionEvents = new CompressionEvents(Duration.ofMinutes(1));
    private boolean zooKeeperConnected;

    public FleetDirectory(Clock clock, Duration membershipGrace) {
        if (membershipGrace.isNegative()) {
            throw new IllegalArgumentException("membershipGrace: " + membershipGrace + " (expected: >= 0)");
        }
        this.clock = clock;
        this.membershipGrace = membershipGrace;
    }

    /** ZooKeeper connection state; while disconnected the directory is stale. */
    public void onZooKeeper(boolean connected) {
        if (connected != zooKeeperConnected) {
            event("", "zookeeper", connected ? "connected" : "disconnected; keeping last known membership");
        }
        zooKeeperConnected = connected;
    }

    /** True while ZooKeeper is away: the membership may be out of date. */
    public boolean stale() {
        return !zooKeeperConnected;
    }

    /** The full set of instances registered in ZooKeeper now. */
    public Changes onMembership(Collection<WorkerRecord> registered) {
        Instant now = clock.instant();
        Changes changes = new Changes();
        Map<String, WorkerRecord> byId = new HashMap<>();
        for (WorkerRecord r : registered) {
            byId.put(r.id(), r);
        }
        for (WorkerRecord r : byId.values()) {
            Entry e = entries.get(r.id());
            if (e == null) {
                entries.put(r.id(), new Entry(r, now));
                changes.added.add(r);
                event(r.id(), "joined", r.role() + " at site " + r.site() + ", control " + r.controlEndpoint());
            } else {
                if (!e.registered) {
                    event(r.id(), "registered", "back in ZooKeeper");
                }
                e.registered = true;
                e.unregisteredSince = null;
                if (!e.record.equals(r)) {
                    e.record = r;
                    changes.updated.add(r);
                }
            }
        }
        for (Entry e : new ArrayList<>(entries.values())) {
            if (byId.containsKey(e.record.id()) || !e.registered) {
                continue;
            }
            if (e.health == Health.SERVING && !membershipGrace.isZero()) {
                e.registered = false;
                e.unregisteredSince = now;
                event(e.record.id(), "unregistered", "still serving; kept for " + membershipGrace.toMillis() + " ms");
            } else {
                remove(e.record.id(), "left", "gone from ZooKeeper", changes);
            }
        }
        return changes;
    }

    /** Removes workers that stayed unregistered past the grace. Call periodically. */
    public Changes expire() {
        Instant now = clock.instant();
        Changes changes = new Changes();
        for (Entry e : new ArrayList<>(entries.values())) {
            if (!e.registered && !stale()
                    && Duration.between(e.unregisteredSince, now).compareTo(membershipGrace) >= 0) {
                remove(e.record.id(), "expired", "not registered again within " + membershipGrace.toMillis() + " ms",
                        changes);
            }
        }
        return changes;
    }

    private void remove(String id, String kind, String detail, Changes changes) {
        entries.remove(id);
        compressionEvents.forget(id);
        changes.removed.add(id);
        event(id, kind, detail);
    }

    /**
     * What the worker's health stream said.
     *
     * @return true when the worker's membership of the healthy set changed
     */
    public boolean onHealth(String id, Health health) {
        return setHealth(id, health, "");
    }

    /**
     * The worker's control stream broke.
     *
     * @return true when the worker left the healthy set
     */
    public boolean onLinkDown(String id, String reason) {
        return setHealth(id, Health.DOWN, reason);
    }

    private boolean setHealth(String id, Health health, String reason) {
        Entry e = entries.get(id);
        if (e == null || e.health == health) {
            return false;
        }
        boolean wasHealthy = e.health == Health.SERVING;
        e.health = health;
        e.healthSince = clock.instant();
        e.reason = reason;
        event(id, health.label(), reason);
        if (!e.registered && health != Health.SERVING && !stale()) {
            // Unregistered and no longer serving: nothing left to wait for.
            Changes ignored = new Changes();
            remove(id, "left", "unregistered and " + health.label(), ignored);
        }
        return wasHealthy != (health == Health.SERVING);
    }

    public void onLoad(String id, LoadReport load) {
        Entry e = entries.get(id);
        if (e != null) {
            for (CompressionEvents.Derived d : compressionEvents.derive(id, e.load, load, clock.instant())) {
                event(id, d.kind, d.detail);
            }
            e.load = load;
        }
    }

    /** The worker runs the configuration with this digest (from its status or an apply). */
    public void onConfigApplied(String id, String digest) {
        Entry e = entries.get(id);
        if (e != null) {
            e.configDigest = digest;
        }
    }

    public WorkerView get(String id) {
        Entry e = entries.get(id);
        return e == null ? null : e.view();
    }

    /** Every worker, by id. */
    public List<WorkerView> workers() {
        List<WorkerView> views = new ArrayList<>(entries.size());
        for (Entry e : entries.values()) {
            views.add(e.view());
        }
        return views;
    }

    /** Ids of the workers in the steering set. */
    public Set<String> healthy() {
        Set<String> ids = new LinkedHashSet<>();
        for (Entry e : entries.values()) {
            if (e.health == Health.SERVING) {
                ids.add(e.record.id());
            }
        }
        return ids;
    }

    /** The most recent events, oldest first. */
    public List<FleetEvent> events() {
        return new ArrayList<>(events);
    }

    private void event(String id, String kind, String detail) {
        if (events.size() == MAX_EVENTS) {
            events.removeFirst();
        }
        events.addLast(new FleetEvent(clock.instant(), id, kind, detail == null ? "" : detail));
    }
}
