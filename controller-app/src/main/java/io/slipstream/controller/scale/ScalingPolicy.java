package io.slipstream.controller.scale;

import io.slipstream.controller.scale.ScaleDecision.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The scaling decision for one role at one site: a pure function of the workers' load, the replica
 * count and the recent history of recommendations, with time from the injected clock. No I/O.
 *
 * <p>Each evaluation turns the serving workers' utilisations into a recommendation, the replicas
 * their summed load needs at the target utilisation ({@code ceil(sum / target)}, HPA's formula), or
 * the current count while the mean is inside the tolerance band. Then:
 * <ul>
 *   <li>scale-out happens once every recommendation for the whole scale-out window was above the
 *       current count, to the lowest of them (a short spike is not acted on);</li>
 *   <li>scale-in happens only to the highest recommendation over the scale-in window, and only once
 *       the policy has watched for a whole window (HPA's scale-down stabilisation), so oscillating load
 *       keeps the fleet at the size its peaks need and scale-in never goes below what the current
 *       load needs;</li>
 *   <li>no decision moves more than the maximum step, or outside min..max;</li>
 *   <li>while some replicas are not serving (starting, draining) it holds.</li>
 * </ul>
 * Not thread-safe: one caller (the autoscaler's loop).
 */
public final class ScalingPolicy {

    private static final class Recommendation {
        final Instant at;
        final int replicas;

        Recommendation(Instant at, int replicas) {
            this.at = at;
            this.replicas = replicas;
        }
    }

    private final ScalingRule rule;
    private final Clock clock;
    private final Deque<Recommendation> history = new ArrayDeque<>();
    private Instant watchingSince;
    private Instant overloadSince;

    public ScalingPolicy(ScalingRule rule, Clock clock) {
        this.rule = rule;
        this.clock = clock;
    }

    public ScalingRule rule() {
        return rule;
    }

    /** An operator's pin of min..max over the rule's; {@code null} when none. */
    private volatile int[] override;

    /**
     * Pins the replica range to {@code min..max} instead of the rule's until {@link #clearOverride()}
     * (an operator's scaling override); decisions then stay inside it like inside the rule's range.
     */
    public void override(int min, int max) {
        if (min < 0 || max < 1 || min > max || max > 1000) {
            throw new IllegalArgumentException("override: " + min + ".." + max + " (expected: 0 <= min <= max, 1..1000)");
        }
        this.override = new int[] {min, max};
    }

    public void clearOverride() {
        this.override = null;
    }

    /** The pinned {min, max}, or {@code null}. */
    public int[] currentOverride() {
        int[] o = override;
        return o == null ? null : o.clone();
    }

    private int minReplicas() {
        int[] o = override;
        return o == null ? rule.minReplicas() : o[0];
    }

    private int maxReplicas() {
        int[] o = override;
        return o == null ? rule.maxReplicas() : o[1];
    }

    /**
     * Decides.
     *
     * @param current replicas the scale target asks for now
     * @param ready how many of them are serving
     * @param loads utilisation of each serving worker that has reported load
     */
    public ScaleDecision decide(int current, int ready, List<WorkerLoad> loads) {
        Instant now = clock.instant();
        if (current < minReplicas()) {
            return decision(now, current, Math.min(minReplicas(), current + rule.maxStep()), -1, -1,
                    Reason.BELOW_MIN);
        }
        if (current > maxReplicas()) {
            return decision(now, current, Math.max(maxReplicas(), current - rule.maxStep()), -1, -1,
                    Reason.ABOVE_MAX);
        }
        if (ready < current) {
            return decision(now, current, current, -1, -1, Reason.NOT_READY);
        }
        if (loads.isEmpty()) {
            return decision(now, current, current, -1, -1, Reason.NO_LOAD_REPORTS);
        }
        double sum = 0;
        for (WorkerLoad l : loads) {
            sum += l.utilisation();
        }
        double mean = sum / loads.size();
        int needed = (int) Math.ceil(sum / rule.targetUtilisation() - 1e-9);
        int recommended = Math.abs(mean / rule.targetUtilisation() - 1) <= rule.tolerance() ? current : needed;
        recommended = clamp(recommended);
        record(now, recommended);

        if (recommended > current) {
            if (overloadSince == null) {
                overloadSince = now;
            }
            if (Duration.between(overloadSince, now).compareTo(rule.scaleOutWindow()) < 0) {
                return decision(now, current, current, needed, mean, Reason.OVERLOAD_PENDING);
            }
            int lowest = lowestSince(now.minus(rule.scaleOutWindow()));
            if (lowest <= current) {
                return decision(now, current, current, needed, mean, Reason.OVERLOAD_PENDING);
            }
            // The next scale-out waits for a whole window of overload on the new fleet.
            overloadSince = null;
            return decision(now, current, Math.min(current + rule.maxStep(), lowest), needed, mean, Reason.OVERLOAD);
        }
        overloadSince = null;
        if (recommended < current) {
            int highest = highestSince(now.minus(rule.scaleInWindow()));
            boolean watchedWholeWindow = Duration.between(watchingSince, now).compareTo(rule.scaleInWindow()) >= 0;
            if (highest < current && watchedWholeWindow) {
                return decision(now, current, Math.max(current - rule.maxStep(), highest), needed, mean,
                        Reason.UNDERLOAD);
            }
            return decision(now, current, current, needed, mean, Reason.STABILISING);
        }
        return decision(now, current, current, needed, mean, Reason.WITHIN_TARGET);
    }

    private int clamp(int replicas) {
        return Math.max(minReplicas(), Math.min(maxReplicas(), replicas));
    }

    private void record(Instant now, int replicas) {
        if (watchingSince == null) {
            watchingSince = now;
        }
        history.addLast(new Recommendation(now, replicas));
        Duration keep = rule.scaleInWindow().compareTo(rule.scaleOutWindow()) > 0
                ? rule.scaleInWindow() : rule.scaleOutWindow();
        Instant horizon = now.minus(keep);
        while (history.peekFirst().at.isBefore(horizon)) {
            history.removeFirst();
        }
    }

    private int lowestSince(Instant from) {
        int lowest = Integer.MAX_VALUE;
        for (Recommendation r : history) {
            if (!r.at.isBefore(from)) {
                lowest = Math.min(lowest, r.replicas);
            }
        }
        return lowest;
    }

    private int highestSince(Instant from) {
        int highest = 0;
        for (Recommendation r : history) {
            if (!r.at.isBefore(from)) {
                highest = Math.max(highest, r.replicas);
            }
        }
        return highest;
    }

    private ScaleDecision decision(Instant now, int current, int desired, int needed, double mean, Reason reason) {
        return new ScaleDecision(rule.role(), rule.site(), now, current, desired, needed, mean, reason);
    }
}
