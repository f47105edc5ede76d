package io.slipstream.controller.fleet;

import io.slipstream.contract.ConfigDigest;
import io.slipstream.controller.config.WorkerConfigPlanner;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.WorkerConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides which worker is sent which configuration, level-triggered: it knows what each worker
 * runs (generation and digest, from status answers, ApplyConfig answers and load reports) and
 * whenever that differs from what the plan wants it pushes again — one push at a time per worker,
 * with backoff after a failure — so a lost, failed or reordered push heals by itself. Pure: no I/O,
 * time is passed in; not thread-safe (the controller's loop owns it).
 *
 * <p>Per worker: first its status is asked (nothing is pushed blind, so a restarted controller does
 * not reprogram a running fleet; and nothing is pushed to anyone while some serving worker's status
 * is still unknown, since a plan that does not know it runs a configuration would steer around it);
 * then, while its digest differs from the wanted one and no push is
 * in flight and no backoff pending, a push. A configuration the worker refused as invalid is not
 * sent again until the plan changes.
 */
public final class ConfigReconciler {

    static final Duration MIN_BACKOFF = Duration.ofMillis(50);
    static final Duration MAX_BACKOFF = Duration.ofMillis(800);

    /** A push to make now. */
    public static final class Push {
        private final String workerId;
        private final WorkerConfig config;
        private final String digest;

        Push(String workerId, WorkerConfig config, String digest) {
            this.workerId = workerId;
            this.config = config;
            this.digest = digest;
        }

        public String workerId() {
            return workerId;
        }

        public WorkerConfig config() {
            return config;
        }

        public String digest() {
            return digest;
        }
    }

    /**
     * What to do now: {@link #pushes}, or, when {@link #needGeneration} is above the generation the
     * plan was made with, nothing yet: a worker already runs that generation (planned by an earlier
     * controller or an older counter) and the plan must be made again with at least this generation.
     */
    public static final class Decision {
        private final List<Push> pushes;
        private final List<String> askStatus;
        private final long needGeneration;
        private final boolean converged;

        Decision(List<Push> pushes, List<String> askStatus, long needGeneration, boolean converged) {
            this.pushes = pushes;
            this.askStatus = askStatus;
            this.needGeneration = needGeneration;
            this.converged = converged;
        }

        /** Every eligible worker is known to run what the plan wants: nothing to ask, push or wait for. */
        public boolean converged() {
            return converged;
        }

        /** Configurations to send now (each marked in flight). */
        public List<Push> pushes() {
            return pushes;
        }

        /** Workers whose status to ask now. */
        public List<String> askStatus() {
            return askStatus;
        }

        /** The generation the plan must have; above the one given when it must be made again. */
        public long needGeneration() {
            return needGeneration;
        }
    }

    private static final class State {
        boolean statusAsked;
        boolean known;
        long generation;
        String digest = "";
        String inFlight;
        int failures;
        Instant notBefore = Instant.MIN;
        String rejected;
    }

    private final Map<String, State> states = new HashMap<>();

    /** A (new) control link to the worker: what it runs is unknown until its status is learned. */
    public void linkUp(String id) {
        states.put(id, new State());
    }

    /** The worker's link is gone (it left, or its stream broke): forget what it ran. */
    public void forget(String id) {
        states.remove(id);
    }

    /** The worker's status: it runs {@code generation} with {@code digest} (empty before any). */
    public void statusLearned(String id, long generation, String digest) {
        State s = states.get(id);
        if (s != null) {
            s.known = true;
            s.generation = generation;
            s.digest = digest;
        }
    }

    /** Asking the worker's status failed: ask again after a backoff. */
    public void statusFailed(String id, Instant now) {
        State s = states.get(id);
        if (s != null) {
            s.statusAsked = false;
            backoff(s, now);
        }
    }

    /**
     * The worker answered a push: it now runs {@code appliedGeneration} with {@code appliedDigest}
     * (the pushed one, or — when it refused the push as stale — a newer one it already ran).
     */
    public void answered(String id, String pushedDigest, long appliedGeneration, String appliedDigest) {
        State s = states.get(id);
        if (s != null && pushedDigest.equals(s.inFlight)) {
            s.inFlight = null;
            s.failures = 0;
            s.known = true;
            s.generation = appliedGeneration;
            s.digest = appliedDigest;
        }
    }

    /** The push failed (the call broke or timed out); {@code invalid}: the worker refused its content. */
    public void failed(String id, String pushedDigest, boolean invalid, Instant now) {
        State s = states.get(id);
        if (s != null && pushedDigest.equals(s.inFlight)) {
            s.inFlight = null;
            if (invalid) {
                s.rejected = pushedDigest;
            }
            backoff(s, now);
        }
    }

    /**
     * A load report said what the worker runs (so a configuration that reached it by another way, say
     * a late push of an earlier controller, is noticed); ignored while a push to it is in flight and
     * when older than what is known (reports travel separately from answers).
     */
    public void reported(String id, long generation, String digest) {
        State s = states.get(id);
        if (s != null && s.known && s.inFlight == null && !digest.isEmpty()
                && Long.compareUnsigned(generation, s.generation) >= 0) {
            s.generation = generation;
            s.digest = digest;
        }
    }

    /** The digest the worker runs as far as known; empty when unknown or none. */
    public String appliedDigest(String id) {
        State s = states.get(id);
        return s == null || !s.known ? "" : s.digest;
    }

    /** The highest generation any worker is known to run (a floor for the controller's own). */
    public long highestGeneration() {
        long max = 0;
        for (State s : states.values()) {
            if (s.known) {
                max = Math.max(max, s.generation);
            }
        }
        return max;
    }

    /**
     * What to send now so that every worker in {@code eligible} (serving, with a link) runs its
     * configuration of {@code plan} (all made with {@code generation}).
     */
    public Decision decide(Map<String, WorkerConfig> plan, long generation, Set<String> eligible, Instant now) {
        List<Push> pushes = new ArrayList<>();
        List<String> ask = new ArrayList<>();
        long need = generation;
        boolean unknown = false;
        for (String id : eligible) {
            State s = states.get(id);
            if (s != null && !s.known) {
                unknown = true;
                if (!s.statusAsked && !now.isBefore(s.notBefore)) {
                    s.statusAsked = true;
                    ask.add(id);
                }
            }
        }
        if (unknown) {
            // A plan made while some worker's configuration is unknown would steer around it: wait for its answer.
            return new Decision(List.of(), ask, generation, false);
        }
        boolean converged = true;
        for (String id : eligible) {
            State s = states.get(id);
            WorkerConfig wanted = plan.get(id);
            if (s == null || wanted == null) {
                continue;
            }
            String digest = ConfigDigest.of(wanted);
            if (digest.equals(s.digest)) {
                continue;
            }
            converged = false;
            if (s.inFlight != null || now.isBefore(s.notBefore) || digest.equals(s.rejected)) {
                continue;
            }
            if (Long.compareUnsigned(s.generation, generation) >= 0) {
                need = Math.max(need, s.generation + 1);
                continue;
            }
            pushes.add(new Push(id, wanted, digest));
        }
        if (need > generation) {
            return new Decision(List.of(), ask, need, false);
        }
        for (Push p : pushes) {
            State s = states.get(p.workerId());
            s.inFlight = p.digest();
            s.rejected = null;
        }
        return new Decision(pushes, ask, generation, converged);
    }

    /**
     * Plans every worker's configuration ({@link WorkerConfigPlanner}) at a generation no worker has
     * run yet with other content, and decides what to send: the controller's whole reconciliation
     * step, without I/O. {@link Decision#needGeneration()} is the generation the pushes carry (the
     * controller keeps it as its own).
     *
     * @param eligible the workers that may be asked or pushed now (serving, with a control link)
     */
    public Decision reconcile(FleetPolicy policy, List<WorkerView> workers, long generation, Set<String> eligible,
                              Instant now) {
        long gen = Math.max(generation, highestGeneration());
        Decision decision = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(policy, workers, gen);
            decision = decide(plan, gen, eligible, now);
            if (decision.needGeneration() <= gen) {
                break;
            }
            gen = decision.needGeneration();
        }
        return decision;
    }

    private static void backoff(State s, Instant now) {
        s.failures++;
        long millis = MIN_BACKOFF.toMillis() << Math.min(10, s.failures - 1);
        s.notBefore = now.plusMillis(Math.min(MAX_BACKOFF.toMillis(), millis));
    }
}
