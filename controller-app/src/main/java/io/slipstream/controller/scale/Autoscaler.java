package io.slipstream.controller.scale;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.WorkerControlGrpc;
import io.slipstream.proto.v1.WorkerState;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The autoscaler loop: every interval, for each {@link ScalingRule}, reads the fleet, asks the rule's
 * {@link ScalingPolicy} and carries the decision out through a {@link ScaleTarget}.
 *
 * <p>Scale-out asks the target for more replicas at once. Scale-in is make-before-break: the
 * least-loaded serving workers are drained over their control channel (the worker goes NOT_SERVING on
 * health and leaves ZooKeeper, so placement drops it and no new flow lands on it), the loop watches
 * each until it reports its flows finished ({@code STOPPED}) or the rule's drain timeout passes, and
 * only then calls {@link ScaleTarget#scale} with exactly those workers as victims. Nothing else is
 * decided for that role and site meanwhile.
 *
 * <p>What it is carrying out survives it (issue 23): before each step it records its intent in a
 * {@link ScalingJournal} (ZooKeeper, written only by the leader): per role and site the replicas it asked the
 * target for, and a drain in progress with its victims (their registration, to reach them after they left
 * ZooKeeper) and deadline. A controller that starts leading first has the target {@linkplain ScaleTarget#takeOver
 * take over} what the previous leader left running, then reads the intent: it finishes a scale-out the target has
 * not reached yet, and takes over a drain in progress (asks the victims to drain again, which a draining worker
 * ignores, watches them and removes them), before deciding anything new.
 *
 * <p>Metrics: {@code slipstream.autoscaler.replicas.desired} and {@code .current} (tags role, site),
 * {@code slipstream.autoscaler.decisions} (tags role, site, reason) and
 * {@code slipstream.autoscaler.scale.errors} (tags role, site).
 */
public final class Autoscaler implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(Autoscaler.class);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();
    /** Extra time beyond the drain timeout for the worker to report it stopped. */
    static final Duration DRAIN_GRACE = Duration.ofSeconds(5);

    private final Clock clock;
    private final FleetController fleet;
    private final ScaleTarget target;
    private final ScalingConfig config;
    private final MeterRegistry meters;
    private final ScheduledExecutorService loop;
    private final Map<String, RoleSite> states = new LinkedHashMap<>();
    private final List<Consumer<ScaleDecision>> listeners = new CopyOnWriteArrayList<>();
    /** Only a leading controller decides and scales (issue 23); true unless told otherwise. */
    private volatile boolean leading = true;
    private ScalingJournal journal = ScalingJournal.inMemory();
    /** Set when leadership is gained: the target's take-over and the intent are read before any decision. */
    private boolean recovering;

    /** State of one role at one site. Touched only on the loop. */
    private final class RoleSite {
        final ScalingRule rule;
        final ScalingPolicy policy;
        final Counter errors;
        final Map<ScaleDecision.Reason, Counter> decisions = new ConcurrentHashMap<>();
        volatile int current = -1;
        volatile int desired = -1;
        volatile ScaleDecision last;
        ScaleDecision.Reason lastReason;
        int lastDesired = -1;
        Drain drain;
        /** The replicas last asked of the target, as recorded in the journal; -1 before any. */
        int asked = -1;
        /** A scale-out a previous leader recorded and the target has not reached: finished first. */
        int resume = -1;

        RoleSite(ScalingRule rule) {
            this.rule = rule;
            this.policy = new ScalingPolicy(rule, clock);
            String role = rule.role();
            String site = rule.site();
            Gauge.builder("slipstream.autoscaler.replicas.desired", this, s -> s.desired)
                    .description("Replicas the autoscaler wants").tag("role", role).tag("site", site).register(meters);
            Gauge.builder("slipstream.autoscaler.replicas.current", this, s -> s.current)
                    .description("Replicas the scale target asks for").tag("role", role).tag("site", site)
                    .register(meters);
            this.errors = Counter.builder("slipstream.autoscaler.scale.errors").tag("role", role).tag("site", site)
                    .description("Scale target calls that failed").register(meters);
        }

        Counter counter(ScaleDecision.Reason reason) {
            return decisions.computeIfAbsent(reason, r -> Counter.builder("slipstream.autoscaler.decisions")
                    .description("Autoscaler decisions by reason").tag("role", rule.role()).tag("site", rule.site())
                    .tag("reason", r.tag()).register(meters));
        }
    }

    /** A scale-in in progress: the victims drain, then the target removes them. */
    private static final class Drain {
        final int replicas;
        final Instant deadline;
        final Map<String, Victim> victims = new LinkedHashMap<>();

        Drain(int replicas, Instant deadline) {
            this.replicas = replicas;
            this.deadline = deadline;
        }
    }

    /** One draining worker, watched over its own control channel. */
    private static final class Victim {
        final String id;
        final io.slipstream.contract.WorkerRecord record;
        final ManagedChannel channel;
        volatile boolean done;
        volatile boolean asking;

        Victim(io.slipstream.contract.WorkerRecord record, io.slipstream.controller.fleet.ControlChannels channels) {
            this.id = record.id();
            this.record = record;
            this.channel = channels.builder(record).build();
        }

        /** Asks the worker to drain over this channel (a new leader's; a worker already draining ignores it). */
        void drainAgain(DrainRequest request) {
            WorkerControlGrpc.newStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS).drain(request,
                    new StreamObserver<io.slipstream.proto.v1.DrainResponse>() {
                        @Override
                        public void onNext(io.slipstream.proto.v1.DrainResponse value) {
                            log.info("autoscaler: {} asked to drain again: {} flows, {}", id, value.getActiveFlows(),
                                    value.getStarted() ? "started now" : "already draining");
                        }

                        @Override
                        public void onError(Throwable t) {
                            log.info("autoscaler: {} did not take the drain again: {}", id,
                                    Status.fromThrowable(t).getCode());
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
        }

        void poll() {
            if (done || asking) {
                return;
            }
            asking = true;
            WorkerControlGrpc.newStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
                    .getStatus(GetStatusRequest.getDefaultInstance(), new StreamObserver<GetStatusResponse>() {
                        @Override
                        public void onNext(GetStatusResponse value) {
                            if (value.getState() == WorkerState.WORKER_STATE_STOPPED) {
                                done = true;
                            }
                        }

                        @Override
                        public void onError(Throwable t) {
                            // A worker that is gone has nothing left to finish.
                            if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
                                done = true;
                            }
                            asking = false;
                        }

                        @Override
                        public void onCompleted() {
                            asking = false;
                        }
                    });
        }
    }

    public Autoscaler(Clock clock, FleetController fleet, ScaleTarget target, ScalingConfig config,
                      MeterRegistry meters) {
        this.clock = clock;
        this.fleet = fleet;
        this.target = target;
        this.config = config;
        this.meters = meters;
        for (ScalingRule rule : config.rules()) {
            states.put(rule.role() + "@" + rule.site(), new RoleSite(rule));
        }
        this.loop = new io.slipstream.controller.fleet.ControllerLoop("autoscaler");
    }

    /** Starts evaluating every rule at the configured interval. */
    public Autoscaler start() {
        long every = config.interval().toMillis();
        loop.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
        log.info("autoscaler started: target {}, every {} ms, rules {}", target.name(), every, config.rules());
        return this;
    }

    /**
     * Leadership gate (issue 23): a controller that does not lead makes no decision and calls no scale target.
     * Takes effect on the autoscaler's loop before this returns (an evaluation in progress finishes first). A
     * deposed leader forgets its drains in progress (their victims keep draining on their own; the new leader
     * sees them as draining and not serving) and releases the target's workers ({@link ScaleTarget#release}). A
     * new leader decides nothing until the take-over ({@link ScaleTarget#takeOver}, then the recorded intent), run
     * next on the loop after this returns, succeeded.
     */
    public void leading(boolean now) {
        if (loop.isShutdown()) {
            // Closed (the controller is stopping): nothing decides any more, and nothing is released.
            leading = false;
            return;
        }
        try {
            loop.submit(() -> {
                boolean was = leading;
                leading = now;
                if (!now) {
                    for (RoleSite s : states.values()) {
                        if (s.drain != null) {
                            s.drain.victims.values().forEach(v -> v.channel.shutdownNow());
                            s.drain = null;
                        }
                        s.resume = -1;
                    }
                    recovering = false;
                    if (was) {
                        target.release();
                    }
                } else {
                    // Nothing is decided until the take-over succeeded; it runs next on the loop, not here, so
                    // that stopping workers a previous leader was stopping does not hold up the leadership events.
                    recovering = true;
                }
            }).get(10, TimeUnit.SECONDS);
            if (now) {
                try {
                    loop.execute(() -> {
                        if (leading && recovering) {
                            recover();
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    // closed meanwhile: nothing decides any more
                }
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("autoscaler leadership change to " + now + " did not take effect", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while changing the autoscaler's leadership to " + now, e);
        }
    }

    /** Keeps the scaling intent in {@code journal} (call before {@link #start()}). */
    public Autoscaler journal(ScalingJournal journal) {
        this.journal = java.util.Objects.requireNonNull(journal, "journal");
        return this;
    }

    /**
     * On the loop, once leading: the target takes over what it runs, then the recorded intent is read. Until both
     * succeeded (retried every interval) nothing is decided.
     */
    private void recover() {
        String doc;
        try {
            target.takeOver();
            doc = journal.read().orElse(null);
        } catch (ScaleException | RuntimeException e) {
            log.warn("autoscaler: cannot take over yet ({}); deciding nothing until it can", e.getMessage());
            return;
        }
        recovering = false;
        for (RoleSite s : states.values()) {
            // What this controller knew from an earlier term is stale: the journal says what is in force.
            s.asked = -1;
            s.resume = -1;
        }
        if (doc == null) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode roles;
        try {
            roles = JSON.readTree(doc).path("roles");
        } catch (java.io.IOException e) {
            log.error("autoscaler: the recorded scaling intent is not JSON ({}); starting without it", e.getMessage());
            return;
        }
        if (!roles.isObject()) {
            log.error("autoscaler: the recorded scaling intent {} has no \"roles\" object; starting without it",
                    abbreviate(doc));
            return;
        }
        for (Map.Entry<String, RoleSite> e : states.entrySet()) {
            com.fasterxml.jackson.databind.JsonNode r = roles.path(e.getKey());
            RoleSite s = e.getValue();
            if (r.isMissingNode()) {
                continue;
            }
            com.fasterxml.jackson.databind.JsonNode replicas = r.path("replicas");
            s.asked = replicas.isInt() && replicas.asInt() >= 0 ? replicas.asInt() : -1;
            com.fasterxml.jackson.databind.JsonNode d = r.path("drain");
            if (d.isObject()) {
                takeOverDrain(e.getKey(), s, d);
            } else if (s.asked >= 0) {
                int max = s.policy.currentOverride() != null ? s.policy.currentOverride()[1] : s.rule.maxReplicas();
                if (s.asked > max) {
                    log.warn("autoscaler: the recorded count of {}, {} replicas, is above its range now (max {}): a "
                            + "scale-out to it is finished to {} at most", e.getKey(), s.asked, max, max);
                }
                s.resume = Math.min(s.asked, max);
            } else if (!replicas.isMissingNode()) {
                log.error("autoscaler: the recorded replicas of {} are {} (expected: an integer >= 0); left out",
                        e.getKey(), abbreviate(replicas.toString()));
            }
        }
    }

    /**
     * Takes over a drain a previous leader recorded: its victims (which must be workers of the rule's role and site)
     * are asked to drain again and watched; its deadline is at most one drain timeout from now. A record that
     * does not say so is left out (logged): the rule decides afresh.
     */
    private void takeOverDrain(String key, RoleSite s, com.fasterxml.jackson.databind.JsonNode d) {
        Drain drain = null;
        try {
            com.fasterxml.jackson.databind.JsonNode replicas = d.path("replicas");
            com.fasterxml.jackson.databind.JsonNode victims = d.path("victims");
            if (!replicas.isInt() || replicas.asInt() < 0 || !victims.isArray() || victims.isEmpty()) {
                throw new IllegalArgumentException("expected: \"replicas\" an integer >= 0 and \"victims\" a "
                        + "non-empty array of worker registrations");
            }
            Instant latest = clock.instant().plus(s.rule.drainTimeout()).plus(DRAIN_GRACE);
            Instant deadline = Instant.parse(d.path("deadline").asText());
            drain = new Drain(replicas.asInt(), deadline.isAfter(latest) ? latest : deadline);
            for (com.fasterxml.jackson.databind.JsonNode v : victims) {
                io.slipstream.contract.WorkerRecord record = JSON.treeToValue(v,
                        io.slipstream.contract.WorkerRecord.class);
                if (record.id() == null || record.id().isEmpty() || !s.rule.role().equals(record.role())
                        || !s.rule.site().equals(record.site())) {
                    throw new IllegalArgumentException("victim " + abbreviate(v.toString()) + " is not a "
                            + s.rule.role() + " worker at site " + s.rule.site());
                }
                drain.victims.put(record.id(), new Victim(record, fleet.controlChannels()));
            }
        } catch (java.io.IOException | RuntimeException ex) {
            log.error("autoscaler: the recorded drain of {} cannot be taken over ({}); left out: {}", key,
                    ex.getMessage(), abbreviate(d.toString()));
            if (drain != null) {
                drain.victims.values().forEach(v -> v.channel.shutdownNow());
            }
            return;
        }
        s.drain = drain;
        DrainRequest request = DrainRequest.newBuilder().setTimeoutMillis((int) Math.max(1, Math.min(
                3_600_000, Duration.between(clock.instant(), drain.deadline).toMillis())))
                .setStopWhenDrained(false).build();
        drain.victims.values().forEach(v -> v.drainAgain(request));
        log.info("autoscaler: taking over the drain of {} ({} at {} to {} replicas, deadline {})",
                drain.victims.keySet(), s.rule.role(), s.rule.site(), drain.replicas, drain.deadline);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }

    /** The intent of every rule as the journal keeps it. */
    private String intent() {
        return intent(null, null);
    }

    /** As {@link #intent()}, with {@code pending} as the drain of {@code with} (not visible before it is recorded). */
    private String intent(RoleSite with, Drain pending) {
        com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode roles = root.putObject("roles");
        states.forEach((key, s) -> {
            Drain drain = s == with ? pending : s.drain;
            if (s.asked < 0 && drain == null) {
                return;
            }
            com.fasterxml.jackson.databind.node.ObjectNode r = roles.putObject(key);
            r.put("replicas", s.asked);
            if (drain != null) {
                com.fasterxml.jackson.databind.node.ObjectNode d = r.putObject("drain");
                d.put("replicas", drain.replicas).put("deadline", drain.deadline.toString());
                com.fasterxml.jackson.databind.node.ArrayNode victims = d.putArray("victims");
                drain.victims.values().forEach(v -> victims.add(JSON.valueToTree(v.record)));
            } else {
                r.putNull("drain");
            }
        });
        return root.toString();
    }

    /** True while this autoscaler may decide and scale. */
    public boolean leading() {
        return leading;
    }

    /**
     * Replaces every override with {@code pins} ("role@site" to {min, max}), e.g. from the controller's stored
     * state; an entry no rule covers, or with an invalid range, is left out and logged.
     */
    public void replaceOverrides(Map<String, int[]> pins) {
        for (Map.Entry<String, RoleSite> e : states.entrySet()) {
            int[] pin = pins.get(e.getKey());
            if (pin == null) {
                e.getValue().policy.clearOverride();
            } else {
                try {
                    e.getValue().policy.override(pin[0], pin[1]);
                } catch (IllegalArgumentException ex) {
                    log.warn("autoscaler: stored override of {} ignored: {}", e.getKey(), ex.getMessage());
                }
            }
        }
        for (String key : pins.keySet()) {
            if (!states.containsKey(key)) {
                log.warn("autoscaler: stored override of {} ignored (expected: one the scaling rules cover: {})", key,
                        states.keySet());
            }
        }
        log.info("autoscaler: overrides now {}", overrides().keySet());
    }

    /** True when a scaling rule covers {@code role} at {@code site}. */
    public boolean covers(String role, String site) {
        return states.containsKey(role + "@" + site);
    }

    /**
     * Checks an override without applying it.
     *
     * @throws IllegalArgumentException when no rule scales that role and site, or the range is invalid
     */
    public void checkOverride(String role, String site, int min, int max) {
        new ScalingPolicy(ruleFor(role, site).rule, clock).override(min, max);
    }

    /** Called on the autoscaler's thread with every decision that changes something or changes reason. */
    public void addListener(Consumer<ScaleDecision> listener) {
        listeners.add(listener);
    }

    /** Replicas the autoscaler wants for a role and site; -1 before the first decision. */
    public int desired(String role, String site) {
        RoleSite s = states.get(role + "@" + site);
        return s == null ? -1 : s.desired;
    }

    /**
     * Pins {@code role} at {@code site} to {@code min..max} replicas (an operator's override of the rule's
     * range) until {@link #clearOverride}; the next evaluation honours it.
     *
     * @throws IllegalArgumentException when no rule scales that role and site, or the range is invalid
     */
    public void override(String role, String site, int min, int max) {
        ruleFor(role, site).policy.override(min, max);
        log.info("autoscaler: {} at {} pinned to {}..{} replicas", role, site, min, max);
    }

    /** Removes the override of {@code role} at {@code site}; true if there was one. */
    public boolean clearOverride(String role, String site) {
        RoleSite s = ruleFor(role, site);
        boolean had = s.policy.currentOverride() != null;
        s.policy.clearOverride();
        log.info("autoscaler: {} at {} back to the rule's {}..{} replicas", role, site, s.rule.minReplicas(),
                s.rule.maxReplicas());
        return had;
    }

    /** Current overrides as "role@site" to {min, max}. */
    public Map<String, int[]> overrides() {
        Map<String, int[]> out = new java.util.TreeMap<>();
        states.forEach((key, s) -> {
            int[] o = s.policy.currentOverride();
            if (o != null) {
                out.put(key, o);
            }
        });
        return out;
    }

    private RoleSite ruleFor(String role, String site) {
        RoleSite s = states.get(role + "@" + site);
        if (s == null) {
            throw new IllegalArgumentException("role '" + role + "' at site '" + site
                    + "' (expected: one the scaling rules cover: " + states.keySet() + ")");
        }
        return s;
    }

    /** The latest decision of every rule that has decided yet. */
    public List<ScaleDecision> decisions() {
        List<ScaleDecision> all = new ArrayList<>();
        for (RoleSite s : states.values()) {
            ScaleDecision d = s.last;
            if (d != null) {
                all.add(d);
            }
        }
        return all;
    }

    /** Workers being drained for a scale-in now. */
    public List<String> draining() {
        List<String> ids = new ArrayList<>();
        for (RoleSite s : states.values()) {
            Drain d = s.drain;
            if (d != null) {
                ids.addAll(d.victims.keySet());
            }
        }
        return ids;
    }

    private void tick() {
        if (!leading) {
            return;
        }
        if (recovering) {
            recover();
            if (recovering) {
                return;
            }
        }
        for (RoleSite s : states.values()) {
            try {
                evaluate(s);
            } catch (RuntimeException e) {
                log.warn("autoscaler: evaluating {} failed", s.rule, e);
            }
        }
    }

    private void evaluate(RoleSite s) {
        String role = s.rule.role();
        String site = s.rule.site();
        if (s.drain != null) {
            finishDrain(s);
            return;
        }
        int current;
        try {
            current = target.replicas(role, site);
        } catch (ScaleException e) {
            s.errors.increment();
            log.warn("autoscaler: cannot read replicas of {} at {} from {}: {}", role, site, target.name(),
                    e.getMessage());
            return;
        }
        s.current = current;
        if (s.resume >= 0) {
            int resume = s.resume;
            s.resume = -1;
            if (resume > current) {
                log.info("autoscaler: finishing the scale-out of {} at {} to {} replicas the previous leader recorded "
                        + "(the target runs {})", role, site, resume, current);
                scale(s, resume, List.of());
                return;
            }
        }
        FleetSnapshot snapshot = fleet.snapshot();
        List<WorkerView> serving = new ArrayList<>();
        List<WorkerLoad> loads = new ArrayList<>();
        for (WorkerView w : snapshot.workers()) {
            if (!w.record().role().equals(role) || !w.record().site().equals(site) || w.health() != Health.SERVING
                    || w.load().getDraining()) {
                continue;
            }
            serving.add(w);
            if (w.load().getTimestampMillis() > 0) {
                loads.add(WorkerLoad.of(w.id(), w.load(), w.record().capacityBytesPerSecond(), s.rule));
            }
        }
        // A worker that registered but reported no load yet is not ready for a decision.
        int ready = loads.size() < serving.size() ? loads.size() : serving.size();
        ScaleDecision decision = s.policy.decide(current, ready, loads);
        s.last = decision;
        s.desired = decision.desired();
        s.counter(decision.reason()).increment();
        boolean news = decision.reason() != s.lastReason || decision.desired() != s.lastDesired;
        s.lastReason = decision.reason();
        s.lastDesired = decision.desired();
        if (decision.scalesOut() || decision.scalesIn()) {
            log.info("autoscaler: {} loads {}", decision, loads);
        } else if (news) {
            log.debug("autoscaler: {}", decision);
        }
        if (news || decision.scalesOut() || decision.scalesIn()) {
            for (Consumer<ScaleDecision> l : listeners) {
                try {
                    l.accept(decision);
                } catch (RuntimeException e) {
                    log.warn("autoscaler listener failed", e);
                }
            }
        }
        if (decision.scalesOut()) {
            scale(s, decision.desired(), List.of());
        } else if (decision.scalesIn()) {
            beginDrain(s, decision, serving, loads);
        }
    }

    private void beginDrain(RoleSite s, ScaleDecision decision, List<WorkerView> serving, List<WorkerLoad> loads) {
        int count = decision.current() - decision.desired();
        Map<String, WorkerLoad> byId = new LinkedHashMap<>();
        for (WorkerLoad l : loads) {
            byId.put(l.workerId(), l);
        }
        List<WorkerView> candidates = new ArrayList<>(serving);
        candidates.sort(Comparator.<WorkerView>comparingDouble(w -> byId.containsKey(w.id())
                        ? byId.get(w.id()).utilisation() : 0)
                .thenComparingInt(w -> w.load().getActiveFlows())
                .thenComparing(WorkerView::id, Comparator.reverseOrder()));
        if (candidates.size() < count) {
            // Fewer serving workers than the target runs (some never registered): let the target choose.
            scale(s, decision.desired(), List.of());
            return;
        }
        Drain drain = new Drain(decision.desired(),
                clock.instant().plus(s.rule.drainTimeout()).plus(DRAIN_GRACE));
        DrainRequest request = DrainRequest.newBuilder()
                .setTimeoutMillis((int) Math.min(3_600_000, s.rule.drainTimeout().toMillis()))
                .setStopWhenDrained(false).build();
        for (WorkerView w : candidates.subList(0, count)) {
            drain.victims.put(w.id(), new Victim(w.record(), fleet.controlChannels()));
        }
        // Recorded before any worker is asked, and before it shows in draining() (GET /api/scaling): a new leader
        // finishes the drain this controller dies in.
        try {
            journal.write(intent(s, drain));
        } catch (ScaleException | RuntimeException e) {
            s.errors.increment();
            log.warn("autoscaler: not draining {}: the intent cannot be recorded ({})", drain.victims.keySet(),
                    e.getMessage());
            drain.victims.values().forEach(v -> v.channel.shutdownNow());
            return;
        }
        s.drain = drain;
        for (WorkerView w : candidates.subList(0, count)) {
            log.info("autoscaler: draining {} ({} flows) before removing it", w.id(), w.load().getActiveFlows());
            fleet.drain(w.id(), request).whenComplete((r, e) -> {
                if (e != null) {
                    log.warn("autoscaler: drain of {} failed: {}; it is removed at the drain deadline", w.id(),
                            e.toString());
                }
            });
        }
    }

    private void finishDrain(RoleSite s) {
        Drain d = s.drain;
        boolean all = true;
        for (Victim v : d.victims.values()) {
            v.poll();
            all &= v.done;
        }
        boolean late = !clock.instant().isBefore(d.deadline);
        if (!all && !late) {
            return;
        }
        List<String> victims = new ArrayList<>(d.victims.keySet());
        if (late && !all) {
            log.warn("autoscaler: drain of {} did not finish by its deadline; removing them anyway", victims);
        }
        int current;
        try {
            current = target.replicas(s.rule.role(), s.rule.site());
        } catch (ScaleException e) {
            s.errors.increment();
            log.warn("autoscaler: drain of {} finished; cannot read the replicas of {} at {} yet: {}", victims,
                    s.rule.role(), s.rule.site(), e.getMessage());
            return;
        }
        // A drain removes its victims and no worker more (a recorded count below that is not taken at its word).
        int replicas = Math.max(d.replicas, current - victims.size());
        if (scale(s, replicas, victims)) {
            for (Victim v : d.victims.values()) {
                v.channel.shutdownNow();
            }
            s.drain = null;
            try {
                journal.write(intent());
            } catch (ScaleException | RuntimeException e) {
                // The drain is over; a new leader that still reads it finds its victims gone and removes nothing more.
                log.warn("autoscaler: drain of {} finished but not recorded: {}", victims, e.getMessage());
            }
        }
    }

    /** Records the intent, then asks the target; false (counted, logged) when either failed. */
    private boolean scale(RoleSite s, int replicas, List<String> victims) {
        int before = s.asked;
        s.asked = replicas;
        try {
            journal.write(intent());
        } catch (ScaleException | RuntimeException e) {
            s.asked = before;
            s.errors.increment();
            log.warn("autoscaler: not scaling {} at {} to {}: the intent cannot be recorded ({})", s.rule.role(),
                    s.rule.site(), replicas, e.getMessage());
            return false;
        }
        try {
            target.scale(s.rule.role(), s.rule.site(), replicas, victims);
            s.current = replicas;
            log.info("autoscaler: {} asked for {} {} at site {}{}", target.name(), replicas, s.rule.role(),
                    s.rule.site(), victims.isEmpty() ? "" : ", removing " + victims);
            return true;
        } catch (ScaleException | RuntimeException e) {
            s.errors.increment();
            log.warn("autoscaler: scaling {} at {} to {} failed: {}", s.rule.role(), s.rule.site(), replicas,
                    e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        // A step in progress finishes (a drain it completes is recorded, a worker it starts is not half-started);
        // no new one begins. Interrupted only if it has not finished within 5 s.
        loop.shutdown();
        try {
            if (!loop.awaitTermination(5, TimeUnit.SECONDS)) {
                loop.shutdownNow();
                loop.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            loop.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (RoleSite s : states.values()) {
            if (s.drain != null) {
                for (Victim v : s.drain.victims.values()) {
                    v.channel.shutdownNow();
                }
            }
        }
    }
}
