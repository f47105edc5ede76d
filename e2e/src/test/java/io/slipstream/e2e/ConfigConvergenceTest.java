package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.ConfigValidator;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.fleet.ConfigReconciler;
import io.slipstream.controller.fleet.FleetDirectory;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.control.WorkerLifecycle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The controller's planning and push logic ({@link FleetDirectory}, {@link ConfigReconciler} with the
 * planner, wired as {@code FleetController} wires them) against the workers' real appliers
 * ({@link WorkerLifecycle}), on a simulated network and clock: random interleavings of worker
 * restarts, health flaps, controller restarts, policy changes and load reports, with every RPC
 * delayed at random, some failing and answers arriving late. Checked at every step and at the end:
 * generations only grow at every worker; no policy and site with a serving member is left without one
 * in the gateway's table (nor a wanopt worker without a serving peer) for longer than the bound; and
 * once the disturbances stop, every worker runs the controller's newest plan within one second.
 */
class ConfigConvergenceTest {

    /** Worst case while RPCs fail: status, worker push and gateway push, each up to two failures + ticks. */
    static final long COVERAGE_BOUND_MILLIS = 3_000;
    static final long CONVERGENCE_BOUND_MILLIS = 1_000;
    static final long TICK_MILLIS = 250;
    static final long MAX_RPC_DELAY_MILLIS = 50;
    static final int MAX_CONSECUTIVE_FAILURES = 2;

    enum Kind { RESTART_WORKER, FLAP_HEALTH, RESTART_CONTROLLER, CHANGE_POLICY, LOAD_REPORT }

    record Disturbance(long atMillis, Kind kind, int worker) {}

    private static final List<String[]> FLEET = List.of(
            new String[] {"wa1", "wanopt", "a"}, new String[] {"wa2", "wanopt", "a"},
            new String[] {"wb1", "wanopt", "b"}, new String[] {"ca1", "cache", "a"},
            new String[] {"ca2", "cache", "a"}, new String[] {"ga1", "gateway", "a"});

    /** 150 scenarios; a failing one is named by its seed, which replays it exactly. */
    static LongStream seeds() {
        return LongStream.rangeClosed(1, Long.getLong("slipstream.convergence.seeds", 150));
    }

    /** Up to 25 disturbances at random times in a 6 s window, of random kinds, on random workers. */
    static List<Disturbance> disturbances(Random random) {
        List<Disturbance> list = new ArrayList<>();
        int n = random.nextInt(26);
        for (int i = 0; i < n; i++) {
            list.add(new Disturbance(random.nextInt(6_001), Kind.values()[random.nextInt(Kind.values().length)],
                    random.nextInt(FLEET.size())));
        }
        return list;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void fleet_underRandomInterleavings_convergesToTheNewestGeneration_andKeepsEveryPolicyServed(long seed) {
        Random random = new Random(seed);
        List<Disturbance> disturbances = disturbances(random);
        Simulation sim = new Simulation(random);
        sim.start();
        for (Disturbance d : disturbances) {
            sim.at(1_000 + d.atMillis(), () -> sim.disturb(d));
        }
        // The last disturbance's effects (a restarted worker back, a flap over) land within 700 ms.
        long calm = 1_000 + 6_000 + 700;
        sim.at(calm, sim::calm);
        sim.runUntil(calm);
        long from = calm;
        while (!sim.controllerSettled()) {
            from += 10;
            sim.runUntil(from);
        }
        sim.runUntil(from + CONVERGENCE_BOUND_MILLIS);

        assertThat(sim.converged()).as("every serving worker runs the newest plan 1 s after the last disturbance: %s",
                sim.describe()).isTrue();
        sim.runUntil(from + 3 * CONVERGENCE_BOUND_MILLIS);
        assertThat(sim.lastPush).as("nothing pushed once converged").isLessThanOrEqualTo(from + CONVERGENCE_BOUND_MILLIS);
        assertThat(sim.converged()).isTrue();
        assertThat(sim.controller.converged).as("the controller knows it converged").isTrue();
    }

    /** One simulated fleet, controller and network. Single-threaded, simulated time. */
    static final class Simulation {
        private final Random random;
        private final SimClock clock = new SimClock();
        private final PriorityQueue<Event> queue = new PriorityQueue<>();
        private long sequence;
        private final Map<String, SimWorker> workers = new LinkedHashMap<>();
        private FleetPolicy policy = policy(0);
        private int policyVersion;
        private SimController controller;
        private boolean calm;
        private long lastPush;
        private final Map<String, Long> uncoveredSince = new HashMap<>();

        Simulation(Random random) {
            this.random = random;
        }

        void start() {
            for (String[] w : FLEET) {
                workers.put(w[0], new SimWorker(w[0], w[1], w[2]));
            }
            controller = new SimController();
            for (SimWorker w : workers.values()) {
                at(random.nextInt(200), () -> bringUp(w));
            }
            every(TICK_MILLIS, () -> controller.tick());
            for (SimWorker w : workers.values()) {
                // Each worker's load stream: what it runs, every second (the controller's default interval).
                at(random.nextInt(1000), () -> every(1000, () -> loadReport(w)));
            }
            every(10, this::checkCoverage);
        }

        // ---- the disturbances ----

        void disturb(Disturbance d) {
            SimWorker w = workers.get(FLEET.get(d.worker())[0]);
            switch (d.kind()) {
                case RESTART_WORKER -> {
                    if (w.up) {
                        kill(w);
                        at(clock.now + 50 + random.nextInt(400), () -> bringUp(w));
                    }
                }
                case FLAP_HEALTH -> {
                    if (w.up && w.serving) {
                        w.serving = false;
                        stream(w, () -> controller.health(w.id, Health.NOT_SERVING, w.life));
                        at(clock.now + 20 + random.nextInt(300), () -> {
                            if (w.up) {
                                w.serving = true;
                                stream(w, () -> controller.health(w.id, Health.SERVING, w.life));
                            }
                        });
                    }
                }
                case RESTART_CONTROLLER -> {
                    controller.dead = true;
                    at(clock.now + 100 + random.nextInt(500), () -> {
                        controller = new SimController();
                        for (SimWorker x : workers.values()) {
                            if (x.up && x.serving) {
                                stream(x, () -> controller.health(x.id, Health.SERVING, x.life));
                            }
                        }
                    });
                }
                case CHANGE_POLICY -> {
                    policy = policy(++policyVersion);
                    controller.policyChanged();
                }
                case LOAD_REPORT -> loadReport(w);
            }
        }

        /** A load report, which may arrive after a push's answer that it predates. */
        void loadReport(SimWorker w) {
            if (w.up) {
                WorkerLifecycle.Applied a = w.lifecycle.applied();
                long gen = a == null ? 0 : a.generation();
                String digest = a == null ? "" : a.digest();
                int life = w.life;
                stream(w, clock.now + 1 + random.nextInt((int) (4 * MAX_RPC_DELAY_MILLIS)),
                        () -> controller.load(w.id, gen, digest, life));
            }
        }

        void calm() {
            calm = true;
        }

        private void kill(SimWorker w) {
            w.up = false;
            w.serving = false;
            w.life++;
            int life = w.life;
            stream(w, () -> controller.linkDown(w.id, life));
        }

        private void bringUp(SimWorker w) {
            w.up = true;
            w.serving = true;
            w.life++;
            w.lifecycle = new WorkerLifecycle(w.id, Role.valueOf("ROLE_" + w.role.toUpperCase()), w.site);
            w.generations = new ArrayList<>();
            List<Long> seen = w.generations;
            w.lifecycle.onConfig(c -> {
                if (!seen.isEmpty()) {
                    assertThat(c.getGeneration()).as("generations at %s: %s", w.id, seen)
                            .isGreaterThan(seen.get(seen.size() - 1));
                }
                seen.add(c.getGeneration());
            });
            int life = w.life;
            later(() -> controller.membership());
            stream(w, clock.now + MAX_RPC_DELAY_MILLIS + 1 + random.nextInt((int) MAX_RPC_DELAY_MILLIS),
                    () -> controller.health(w.id, Health.SERVING, life));
        }

        // ---- the network: RPCs with random delays, some failing while not calm ----

        void status(SimController from, String id) {
            SimWorker w = workers.get(id);
            int life = w.life;
            boolean fail = failNow(w);
            later(() -> {
                if (fail || !w.up || w.life != life) {
                    later(() -> from.statusFailed(id, life));
                    return;
                }
                WorkerLifecycle.Applied a = w.lifecycle.applied();
                long gen = a == null ? 0 : a.generation();
                String digest = a == null ? "" : a.digest();
                later(() -> from.statusAnswered(id, gen, digest, life));
            });
        }

        void apply(SimController from, String id, WorkerConfig config, String digest) {
            SimWorker w = workers.get(id);
            int life = w.life;
            lastPush = clock.now;
            boolean failBefore = failNow(w);
            boolean answerLost = !failBefore && failNow(w);
            assertThat(ConfigValidator.validate(config, w.lifecycle.role(), w.site)).isEmpty();
            later(() -> {
                if (failBefore || !w.up || w.life != life) {
                    later(() -> from.pushFailed(id, digest, life));
                    return;
                }
                w.lifecycle.apply(config);
                WorkerLifecycle.Applied a = w.lifecycle.applied();
                if (answerLost) {
                    later(() -> from.pushFailed(id, digest, life));
                } else {
                    later(() -> from.pushAnswered(id, digest, a.generation(), a.digest(), life));
                }
            });
        }

        private boolean failNow(SimWorker w) {
            if (calm || w.failuresInARow >= MAX_CONSECUTIVE_FAILURES || random.nextInt(100) >= 15) {
                w.failuresInARow = 0;
                return false;
            }
            w.failuresInARow++;
            return true;
        }

        // ---- the properties ----

        /** Every policy and site with a serving member has one in the gateway's table; every wanopt a peer. */
        private void checkCoverage() {
            SimWorker gateway = workers.get("ga1");
            Map<String, Boolean> problems = new HashMap<>();
            boolean healing = !controller.dead && controller.settled();
            if (gateway.up && gateway.serving && healing) {
                for (FlowPolicy p : policy.getPoliciesList()) {
                    if (p.getChain() == ServiceChain.SERVICE_CHAIN_BYPASS) {
                        continue;
                    }
                    String role = p.getChain() == ServiceChain.SERVICE_CHAIN_CACHE ? "cache" : "wanopt";
                    if (!servingOf(role, "a").isEmpty()) {
                        boolean covered = false;
                        for (SteeringEntry e : gateway.lifecycle.applied() == null ? List.<SteeringEntry>of()
                                : gateway.lifecycle.applied().config().getSteering().getEntriesList()) {
                            if (gateway.lifecycle.applied() != null && e.getPolicy().equals(p.getName())
                                    && e.getSite().equals("a")) {
                                covered = e.getMembersList().stream()
                                        .anyMatch(m -> servingOf(role, "a").contains(m.getWorkerId()));
                            }
                        }
                        problems.put("gateway table: " + p.getName() + "@a", !covered);
                    }
                }
            }
            for (SimWorker w : workers.values()) {
                if (w.role.equals("wanopt") && w.up && w.serving && healing) {
                    String other = w.site.equals("a") ? "b" : "a";
                    if (!servingOf("wanopt", other).isEmpty()) {
                        WorkerLifecycle.Applied a = w.lifecycle.applied();
                        boolean covered = a != null && a.config().getPeersList().stream()
                                .map(Peer::getWorkerId).anyMatch(servingOf("wanopt", other)::contains);
                        problems.put("peers of " + w.id, !covered);
                    }
                }
            }
            for (Map.Entry<String, Boolean> e : problems.entrySet()) {
                if (e.getValue()) {
                    long since = uncoveredSince.computeIfAbsent(e.getKey(), k -> clock.now);
                    assertThat(clock.now - since).as("%s left without a serving member since %d ms (now %d): %s",
                            e.getKey(), since, clock.now, describe()).isLessThanOrEqualTo(COVERAGE_BOUND_MILLIS);
                } else {
                    uncoveredSince.remove(e.getKey());
                }
            }
            uncoveredSince.keySet().retainAll(problems.entrySet().stream().filter(Map.Entry::getValue)
                    .map(Map.Entry::getKey).toList());
        }

        private Set<String> servingOf(String role, String site) {
            Set<String> ids = new HashSet<>();
            for (SimWorker w : workers.values()) {
                if (w.up && w.serving && w.role.equals(role) && w.site.equals(site)) {
                    ids.add(w.id);
                }
            }
            return ids;
        }

        boolean converged() {
            Map<String, WorkerConfig> plan = controller.plan();
            for (SimWorker w : workers.values()) {
                if (!w.up || !w.serving) {
                    continue;
                }
                WorkerLifecycle.Applied a = w.lifecycle.applied();
                if (a == null || !a.digest().equals(io.slipstream.contract.ConfigDigest.of(plan.get(w.id)))) {
                    return false;
                }
            }
            return true;
        }

        boolean controllerSettled() {
            return !controller.dead && controller.settled();
        }

        String describe() {
            StringBuilder b = new StringBuilder("t=" + clock.now + " controller generation " + controller.generation);
            for (SimWorker w : workers.values()) {
                WorkerLifecycle.Applied a = w.up ? w.lifecycle.applied() : null;
                b.append("; ").append(w.id).append(w.up ? (w.serving ? " serving" : " not serving") : " down")
                        .append(a == null ? " (no config)" : " gen " + a.generation() + " " + a.digest().substring(0, 6))
                        .append(" [controller: ").append(controller.directory.get(w.id) == null ? "absent"
                                : controller.directory.get(w.id).health().label())
                        .append(controller.linkedLife.containsKey(w.id) ? ", linked" : ", no link")
                        .append(", believes ").append(abbreviate(controller.reconciler.appliedDigest(w.id)))
                        .append(", wants ").append(controller.plan().containsKey(w.id)
                                ? abbreviate(io.slipstream.contract.ConfigDigest.of(controller.plan().get(w.id))) : "-")
                        .append("]");
            }
            return b.toString();
        }

        private static String abbreviate(String digest) {
            return digest.isEmpty() ? "nothing" : digest.substring(0, 6);
        }

        // ---- the clock ----

        void at(long millis, Runnable action) {
            queue.add(new Event(millis, sequence++, action));
        }

        void later(Runnable action) {
            at(clock.now + 1 + random.nextInt((int) MAX_RPC_DELAY_MILLIS), action);
        }

        /**
         * A message on the worker's control streams (health Watch, load, the stream breaking): delayed at random
         * like any message, but never ahead of an earlier one of the same worker (a stream keeps its order).
         */
        void stream(SimWorker w, Runnable action) {
            stream(w, clock.now + 1 + random.nextInt((int) MAX_RPC_DELAY_MILLIS), action);
        }

        void stream(SimWorker w, long atMillis, Runnable action) {
            long t = Math.max(atMillis, w.streamAt);
            w.streamAt = t;
            at(t, action);
        }

        void every(long period, Runnable action) {
            at(clock.now + period, () -> {
                action.run();
                every(period, action);
            });
        }

        void runUntil(long millis) {
            while (!queue.isEmpty() && queue.peek().at <= millis) {
                Event e = queue.poll();
                clock.now = Math.max(clock.now, e.at);
                e.action.run();
            }
            clock.now = millis;
        }

        /** The controller's core, wired as FleetController wires it (membership, health, links, pushes). */
        final class SimController {
            final FleetDirectory directory = new FleetDirectory(clock, Duration.ZERO);
            final ConfigReconciler reconciler = new ConfigReconciler();
            final Map<String, Integer> linkedLife = new HashMap<>();
            long generation = 1;
            boolean converged;
            boolean dead;

            final long startedAt = clock.now;
            boolean settled;

            SimController() {
                directory.onZooKeeper(true);
                membership();
            }

            /** ZooKeeper's view: the workers that are up (FleetController.membership). */
            void membership() {
                if (dead) {
                    return;
                }
                List<WorkerRecord> records = new ArrayList<>();
                for (SimWorker w : workers.values()) {
                    if (w.up) {
                        records.add(w.record());
                    }
                }
                FleetDirectory.Changes changes = directory.onMembership(records);
                for (String id : changes.removed) {
                    linkedLife.remove(id);
                    reconciler.forget(id);
                }
                if (!changes.removed.isEmpty()) {
                    generation++;
                }
                reconcile();
            }

            /** As FleetController: nothing is planned before the view settled (2 s and all health known, or 10 s). */
            boolean settled() {
                if (!settled) {
                    long up = clock.now - startedAt;
                    boolean allKnown = directory.workers().stream().noneMatch(w -> w.health() == Health.UNKNOWN);
                    settled = up >= 10_000 || (up >= 2_000 && allKnown);
                }
                return settled;
            }

            void health(String id, Health health, int life) {
                if (dead) {
                    return;
                }
                if (!Integer.valueOf(life).equals(linkedLife.get(id))) {
                    linkedLife.put(id, life); // a (re)connected link: what the worker runs is unknown
                    reconciler.linkUp(id);
                    directory.onConfigApplied(id, "");
                }
                if (directory.onHealth(id, health)) {
                    generation++;
                }
                reconcile();
            }

            void linkDown(String id, int life) {
                if (dead) {
                    return;
                }
                linkedLife.remove(id);
                reconciler.forget(id);
                directory.onConfigApplied(id, "");
                if (directory.onLinkDown(id, "stream broke")) {
                    generation++;
                }
                reconcile();
            }

            void load(String id, long gen, String digest, int life) {
                if (dead || !Integer.valueOf(life).equals(linkedLife.get(id))) {
                    return;
                }
                if (!digest.isEmpty()) {
                    reconciler.reported(id, gen, digest);
                    directory.onConfigApplied(id, reconciler.appliedDigest(id));
                }
            }

            void policyChanged() {
                if (!dead) {
                    generation++;
                    reconcile();
                }
            }

            void tick() {
                if (!dead) {
                    reconcile();
                }
            }

            void statusAnswered(String id, long gen, String digest, int life) {
                if (dead || !Integer.valueOf(life).equals(linkedLife.get(id))) {
                    return;
                }
                reconciler.statusLearned(id, gen, digest);
                directory.onConfigApplied(id, digest);
                reconcile();
            }

            void statusFailed(String id, int life) {
                if (dead || !Integer.valueOf(life).equals(linkedLife.get(id))) {
                    return;
                }
                reconciler.statusFailed(id, clock.instant());
                reconcile();
            }

            void pushAnswered(String id, String pushed, long gen, String digest, int life) {
                if (dead || !Integer.valueOf(life).equals(linkedLife.get(id))) {
                    return;
                }
                reconciler.answered(id, pushed, gen, digest);
                directory.onConfigApplied(id, digest);
                reconcile();
            }

            void pushFailed(String id, String pushed, int life) {
                if (dead || !Integer.valueOf(life).equals(linkedLife.get(id))) {
                    return;
                }
                reconciler.failed(id, pushed, false, clock.instant());
                reconcile();
            }

            Map<String, WorkerConfig> plan() {
                return io.slipstream.controller.config.WorkerConfigPlanner.plan(policy, directory.workers(), generation);
            }

            private void reconcile() {
                if (!settled()) {
                    return;
                }
                Set<String> eligible = new HashSet<>();
                for (WorkerView w : directory.workers()) {
                    if (w.healthy() && linkedLife.containsKey(w.id())) {
                        eligible.add(w.id());
                    }
                }
                ConfigReconciler.Decision d = reconciler.reconcile(policy, directory.workers(), generation, eligible,
                        clock.instant());
                generation = Math.max(generation, d.needGeneration());
                converged = d.converged();
                for (String id : d.askStatus()) {
                    status(this, id);
                }
                for (ConfigReconciler.Push p : d.pushes()) {
                    apply(this, p.workerId(), p.config(), p.digest());
                }
            }
        }
    }

    static FleetPolicy policy(int version) {
        FleetPolicy.Builder b = FleetPolicy.newBuilder()
                .addPolicies(FlowPolicy.newBuilder().setName("smb").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                        .addDstPorts(PortRange.newBuilder().setFirst(445).setLast(445)))
                .addPolicies(FlowPolicy.newBuilder().setName("web").setIngressSite("a")
                        .setChain(ServiceChain.SERVICE_CHAIN_CACHE)
                        .addDstPorts(PortRange.newBuilder().setFirst(80).setLast(80)))
                .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.0.0/24"))
                .addSites(Site.newBuilder().setName("b").addPrefixes("198.18.1.0/24"))
                .setBucketCount(64);
        if (version % 2 == 1) {
            b.addPolicies(FlowPolicy.newBuilder().setName("extra" + version).setChain(ServiceChain.SERVICE_CHAIN_BYPASS)
                    .addDstPorts(PortRange.newBuilder().setFirst(8000 + version).setLast(8000 + version)));
        }
        return b.build();
    }

    static final class SimWorker {
        final String id;
        final String role;
        final String site;
        boolean up;
        boolean serving;
        int life;
        int failuresInARow;
        long streamAt;
        WorkerLifecycle lifecycle;
        List<Long> generations = new ArrayList<>();

        SimWorker(String id, String role, String site) {
            this.id = id;
            this.role = role;
            this.site = site;
        }

        WorkerRecord record() {
            int n = Math.abs(id.hashCode() % 1000);
            return new WorkerRecord(id, role, site, "127.0.0.1:" + (20000 + n), "127.0.0.1:" + (21000 + n), "",
                    100_000_000L, List.of(), "sim");
        }
    }

    record Event(long at, long sequence, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(sequence, o.sequence);
        }
    }

    static final class SimClock extends Clock {
        long now;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(1_800_000_000_000L + now);
        }
    }
}
