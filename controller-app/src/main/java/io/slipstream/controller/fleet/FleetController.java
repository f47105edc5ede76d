package io.slipstream.controller.fleet;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.contract.Roles;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.DrainResponse;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.WorkerConfig;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller core: keeps the {@link FleetDirectory} fed from ZooKeeper membership and one
 * {@link WorkerLink} per worker, and pushes each serving worker the configuration the
 * {@link io.slipstream.controller.config.WorkerConfigPlanner} derives for it whenever that configuration changes. All state is
 * touched on one loop thread; inputs may come from any thread.
 *
 * <p>Pushes are level-triggered ({@link ConfigReconciler}): the controller first asks a newly
 * serving worker which configuration it runs and sends one only when it differs, so a restarted
 * controller does not reprogram a running fleet; then, one push at a time per worker, it pushes
 * again whenever what a worker runs (its ApplyConfig answers and load reports say) lags or diverges
 * from the plan, with backoff after failures. Generations only grow: a worker refuses an older one,
 * and the controller plans above the highest generation any worker runs. A worker is steered to
 * (gateway tables, switch groups) only once it runs a configuration ({@link WorkerView#steerable()}). Nor does it push anything before its view has settled (at least
 * {@link #SETTLE_MIN} since start and every known worker's health learned, or {@link #SETTLE_MAX}):
 * a configuration planned from half a fleet would, say, take a wanopt worker's peers away.
 */
public final class FleetController implements Closeable, WorkerLink.Listener {

    private static final Logger log = LoggerFactory.getLogger(FleetController.class);
    static final Duration SETTLE_MIN = Duration.ofSeconds(2);
    static final Duration SETTLE_MAX = Duration.ofSeconds(10);

    private final Clock clock;
    private final FleetDirectory directory;
    private final ScheduledExecutorService loop;
    private final int loadIntervalMillis;
    private final Map<String, WorkerLink> links = new HashMap<>();
    private final ConfigReconciler reconciler = new ConfigReconciler();
    private final List<Consumer<FleetSnapshot>> listeners = new CopyOnWriteArrayList<>();
    private final Counter pushesApplied;
    private final Counter pushesUnchanged;
    private final Counter pushesRejected;
    private final Counter pushesFailed;
    private final Counter pushesStale;
    private final Counter linkFailures;
    private FleetPolicy policy;
    private long generation = 1;
    private volatile FleetSnapshot snapshot;
    private final java.time.Instant startedAt;
    private final ControlChannels channels;
    private boolean settled;
    private boolean converged;
    /** Only a leading controller asks status and pushes (issue 23); true unless told otherwise. */
    private boolean leading = true;

    /** A controller whose control channels are plaintext (in-process tests). */
    public FleetController(Clock clock, Duration membershipGrace, int loadIntervalMillis, FleetPolicy policy,
                           MeterRegistry meters) {
        this(clock, membershipGrace, loadIntervalMillis, policy, meters, ControlChannels.plaintext());
    }

    /** A controller that opens control channels to workers with {@code channels} (mutual TLS or plaintext). */
    public FleetController(Clock clock, Duration membershipGrace, int loadIntervalMillis, FleetPolicy policy,
                           MeterRegistry meters, ControlChannels channels) {
        FleetPolicies.validate(policy);
        this.channels = channels;
        this.clock = clock;
        this.directory = new FleetDirectory(clock, membershipGrace);
        this.loadIntervalMillis = loadIntervalMillis;
        this.policy = policy;
        this.startedAt = clock.instant();
        ControllerLoop controllerLoop = new ControllerLoop("fleet-controller");
        this.loop = controllerLoop;
        io.micrometer.core.instrument.FunctionCounter.builder("slipstream.controller.loop.errors", controllerLoop.errors,
                java.util.concurrent.atomic.LongAdder::sum)
                .description("Tasks of the controller's loop that threw (logged with their stack trace)")
                .register(meters);
        this.pushesApplied = pushCounter(meters, "applied");
        this.pushesUnchanged = pushCounter(meters, "unchanged");
        this.pushesRejected = pushCounter(meters, "rejected");
        this.pushesFailed = pushCounter(meters, "failed");
        this.pushesStale = pushCounter(meters, "stale");
        this.linkFailures = Counter.builder("slipstream.controller.link.failures")
                .description("Control streams to workers that broke").register(meters);
        for (Role role : new Role[] {Role.ROLE_WANOPT, Role.ROLE_CACHE, Role.ROLE_GATEWAY}) {
            for (Health health : Health.values()) {
                String roleName = Roles.name(role);
                Gauge.builder("slipstream.controller.workers", this, c -> c.count(roleName, health))
                        .description("Workers in the directory by role and health")
                        .tag("role", roleName).tag("health", health.label()).register(meters);
            }
        }
        Gauge.builder("slipstream.controller.directory.stale", this, c -> c.snapshot().stale() ? 1 : 0)
                .description("1 while ZooKeeper is away and membership is the last known one").register(meters);
        publish();
        loop.scheduleWithFixedDelay(this::expire, 250, 250, TimeUnit.MILLISECONDS);
    }

    private static Counter pushCounter(MeterRegistry meters, String result) {
        return Counter.builder("slipstream.controller.config.pushes").tag("result", result)
                .description("Configurations sent to workers, by outcome").register(meters);
    }

    private double count(String role, Health health) {
        int n = 0;
        for (WorkerView w : snapshot.workers()) {
            if (w.record().role().equals(role) && w.health() == health) {
                n++;
            }
        }
        return n;
    }

    /** How this controller opens control channels (the autoscaler's drain watch uses the same). */
    public ControlChannels controlChannels() {
        return channels;
    }

    // ---- inputs (any thread) ----

    /** The full set of workers registered in ZooKeeper now. */
    public void membership(Collection<WorkerRecord> registered) {
        List<WorkerRecord> copy = new ArrayList<>(registered);
        loop.execute(() -> {
            FleetDirectory.Changes changes = directory.onMembership(copy);
            apply(changes);
            publish();
        });
    }

    /** ZooKeeper connected or not. */
    public void zooKeeper(boolean connected) {
        loop.execute(() -> {
            directory.onZooKeeper(connected);
            log.info(connected ? "ZooKeeper connected" : "ZooKeeper away: keeping the last known fleet (stale)");
            publish();
        });
    }

    /** Replaces the fleet policy and pushes the resulting configurations. */
    public CompletableFuture<Long> updatePolicy(FleetPolicy newPolicy) {
        FleetPolicies.validate(newPolicy);
        CompletableFuture<Long> done = new CompletableFuture<>();
        loop.execute(() -> {
            policy = newPolicy;
            generation++;
            log.info("fleet policy updated: {} policies, generation {}", newPolicy.getPoliciesCount(), generation);
            reconcile();
            publish();
            done.complete(generation);
        });
        return done;
    }

    /**
     * Leadership gate (issue 23): a controller that does not lead keeps its directory (membership, health and
     * load streams) but never asks a worker's status or pushes; when it gains leadership it learns every serving
     * worker's status again before pushing anything (so it plans above the highest generation any of them runs).
     * Takes effect on the controller's loop before this returns: no push starts after it returned {@code false}.
     */
    public void leading(boolean now) {
        try {
            loop.submit(() -> {
                if (leading == now) {
                    return;
                }
                leading = now;
                // Whatever the reconciler knew may be outdated by the time this controller leads (again): forget it.
                for (String id : links.keySet()) {
                    reconciler.linkUp(id);
                }
                log.info(now ? "leading: learning every worker's configuration, then reconciling"
                        : "not leading: no status asked, nothing pushed");
                reconcile();
                publish();
            }).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("leadership change to " + now + " did not take effect", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while changing leadership to " + now, e);
        }
    }

    /** Asks one worker to drain. */
    public CompletableFuture<DrainResponse> drain(String workerId, DrainRequest request) {
        CompletableFuture<DrainResponse> result = new CompletableFuture<>();
        loop.execute(() -> {
            WorkerLink link = links.get(workerId);
            if (link == null) {
                result.completeExceptionally(new IllegalArgumentException("worker: '" + workerId + "' (expected: a worker in the directory)"));
            } else {
                link.drain(request).whenComplete((r, e) -> {
                    if (e != null) {
                        result.completeExceptionally(e);
                    } else {
                        result.complete(r);
                    }
                });
            }
        });
        return result;
    }

    /**
     * Asks every cache worker (of {@code site}, or all sites when it is empty) to purge; completes with
     * each worker's answer: the number purged, or the error's description.
     */
    public CompletableFuture<Map<String, Object>> purge(String site, io.slipstream.proto.v1.PurgeRequest request) {
        CompletableFuture<Map<String, Object>> result = new CompletableFuture<>();
        loop.execute(() -> {
            Map<String, CompletableFuture<io.slipstream.proto.v1.PurgeResponse>> calls = new java.util.TreeMap<>();
            for (Map.Entry<String, WorkerLink> e : links.entrySet()) {
                WorkerRecord r = e.getValue().record();
                if (r.role().equals("cache") && (site.isEmpty() || r.site().equals(site))) {
                    calls.put(e.getKey(), e.getValue().purge(request));
                }
            }
            CompletableFuture.allOf(calls.values().stream()
                            .map(c -> c.handle((v, t) -> null)).toArray(CompletableFuture[]::new))
                    .thenRun(() -> {
                        Map<String, Object> answers = new java.util.TreeMap<>();
                        calls.forEach((id, c) -> answers.put(id, c.handle((v, t) -> t == null
                                ? (Object) v.getPurged()
                                : (Object) ("error: " + io.grpc.Status.fromThrowable(t).getDescription())).join()));
                        result.complete(answers);
                    });
        });
        return result;
    }

    /** Called on the loop with a new snapshot after every change. */
    public void addListener(Consumer<FleetSnapshot> listener) {
        listeners.add(listener);
    }

    /** The latest picture of the fleet. */
    public FleetSnapshot snapshot() {
        return snapshot;
    }

    // ---- link callbacks (on the loop) ----

    @Override
    public void onHealth(String workerId, Health health) {
        boolean changed = directory.onHealth(workerId, health);
        if (health == Health.SERVING) {
            log.info("worker {} serving", workerId);
        }
        if (changed) {
            generation++;
        }
        reconcile();
        publish();
    }

    @Override
    public void onLinkDown(String workerId, String reason) {
        linkFailures.increment();
        // Whatever it ran, a worker whose stream broke may come back empty (restarted): learn it again.
        if (links.containsKey(workerId)) {
            reconciler.linkUp(workerId);
        }
        directory.onConfigApplied(workerId, "");
        boolean changed = directory.onLinkDown(workerId, reason);
        if (changed) {
            log.warn("worker {} down: {}", workerId, reason);
            generation++;
            reconcile();
        }
        dropLinksOfRemoved();
        publish();
    }

    @Override
    public void onLoad(String workerId, LoadReport load) {
        directory.onLoad(workerId, load);
        if (!leading) {
            // A follower pushes nothing; it still shows what each worker says it runs.
            directory.onConfigApplied(workerId, load.getConfigDigest());
        } else if (!load.getConfigDigest().isEmpty()) {
            reconciler.reported(workerId, load.getConfigGeneration(), load.getConfigDigest());
            directory.onConfigApplied(workerId, reconciler.appliedDigest(workerId));
        }
        publish();
    }

    // ---- internals (on the loop) ----

    private void expire() {
        FleetDirectory.Changes changes = directory.expire();
        if (!changes.isEmpty()) {
            apply(changes);
        } else {
            // Level-triggered: a worker that lags or diverges (a failed or lost push, a refused stale one) is
            // pushed again here once its backoff has passed, whatever else happens.
            reconcile();
        }
        publish();
    }

    private void apply(FleetDirectory.Changes changes) {
        for (WorkerRecord added : changes.added) {
            WorkerLink link = new WorkerLink(added, loop, this, loadIntervalMillis, channels);
            links.put(added.id(), link);
            reconciler.linkUp(added.id());
            link.connect();
        }
        for (WorkerRecord updated : changes.updated) {
            WorkerLink old = links.get(updated.id());
            if (old != null && !old.record().controlEndpoint().equals(updated.controlEndpoint())) {
                old.close();
                directory.onConfigApplied(updated.id(), "");
                WorkerLink link = new WorkerLink(updated, loop, this, loadIntervalMillis, channels);
                links.put(updated.id(), link);
                reconciler.linkUp(updated.id());
                link.connect();
            }
        }
        if (!changes.removed.isEmpty()) {
            generation++;
        }
        dropLinksOfRemoved();
        reconcile();
    }

    private void dropLinksOfRemoved() {
        for (String id : new ArrayList<>(links.keySet())) {
            if (directory.get(id) == null) {
                links.remove(id).close();
                reconciler.forget(id);
            }
        }
    }

    private boolean settledNow() {
        if (settled) {
            return true;
        }
        Duration up = Duration.between(startedAt, clock.instant());
        if (up.compareTo(SETTLE_MIN) < 0) {
            return false;
        }
        boolean allKnown = directory.workers().stream().noneMatch(w -> w.health() == Health.UNKNOWN);
        if (allKnown || up.compareTo(SETTLE_MAX) >= 0) {
            settled = true;
            log.info("fleet view settled after {} ms with {} workers; configuring", up.toMillis(),
                    directory.workers().size());
        }
        return settled;
    }

    private void reconcile() {
        if (!leading || !settledNow()) {
            return;
        }
        Set<String> eligible = new HashSet<>();
        for (WorkerView w : directory.workers()) {
            if (w.healthy() && links.containsKey(w.id())) {
                eligible.add(w.id());
            }
        }
        ConfigReconciler.Decision decision =
                reconciler.reconcile(policy, directory.workers(), generation, eligible, clock.instant());
        converged = decision.converged();
        if (decision.needGeneration() > generation) {
            log.info("planning generation {} (was {}): workers run generation {}", decision.needGeneration(),
                    generation, reconciler.highestGeneration());
            generation = decision.needGeneration();
        }
        for (String id : decision.askStatus()) {
            learnStatus(id, links.get(id));
        }
        for (ConfigReconciler.Push p : decision.pushes()) {
            push(p.workerId(), links.get(p.workerId()), p.config(), p.digest());
        }
    }

    private void learnStatus(String id, WorkerLink link) {
        link.status().whenComplete((status, error) -> loop.execute(() -> {
            if (links.get(id) != link) {
                return;
            }
            if (error == null) {
                reconciler.statusLearned(id, status.getConfig().getGeneration(), status.getConfigDigest());
                directory.onConfigApplied(id, status.getConfigDigest());
            } else {
                log.debug("status of {} unknown: {}", id, error.toString());
                reconciler.statusFailed(id, clock.instant());
            }
            reconcile();
            publish();
        }));
    }

    private void push(String id, WorkerLink link, WorkerConfig config, String digest) {
        link.apply(config).whenComplete((response, error) -> loop.execute(() -> {
            if (links.get(id) != link) {
                return;
            }
            if (error == null) {
                reconciler.answered(id, digest, response.getAppliedGeneration(), response.getConfigDigest());
                directory.onConfigApplied(id, response.getConfigDigest());
                if (response.getStale()) {
                    pushesStale.increment();
                    log.info("worker {} refused generation {} as stale: it runs generation {} (digest {})", id,
                            config.getGeneration(), response.getAppliedGeneration(),
                            abbreviate(response.getConfigDigest()));
                } else {
                    (response.getChanged() ? pushesApplied : pushesUnchanged).increment();
                    log.info("configured worker {} (generation {}, digest {})", id, config.getGeneration(),
                            abbreviate(digest));
                }
            } else if (Status.fromThrowable(error).getCode() == Status.Code.INVALID_ARGUMENT) {
                pushesRejected.increment();
                reconciler.failed(id, digest, true, clock.instant());
                log.error("worker {} rejected its configuration: {}", id, Status.fromThrowable(error).getDescription());
            } else {
                pushesFailed.increment();
                reconciler.failed(id, digest, false, clock.instant());
                log.warn("could not configure worker {}: {}", id, error.toString());
            }
            reconcile();
            publish();
        }));
    }

    private static String abbreviate(String digest) {
        return digest.length() > 12 ? digest.substring(0, 12) : digest;
    }

    private void publish() {
        FleetSnapshot next = new FleetSnapshot(clock.instant(), directory.stale(), directory.workers(),
                directory.healthy(), directory.events(), policy, generation, converged);
        snapshot = next;
        for (Consumer<FleetSnapshot> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                log.warn("fleet listener failed", e);
            }
        }
    }

    @Override
    public void close() {
        try {
            loop.submit(() -> {
                for (WorkerLink link : links.values()) {
                    link.closeNow();
                }
                links.clear();
            }).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.debug("closing links", e);
        }
        loop.shutdownNow();
    }

}
