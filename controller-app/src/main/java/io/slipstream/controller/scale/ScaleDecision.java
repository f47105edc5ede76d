package io.slipstream.controller.scale;

import java.time.Instant;
import java.util.Locale;

/** What the {@link ScalingPolicy} decided for one role and site at one moment, and why. */
public final class ScaleDecision {

    /** Why a decision was taken; the tag of the decisions counter. */
    public enum Reason {
        /** Sustained overload for the scale-out window. */
        OVERLOAD,
        /** Overloaded, but not yet for the whole scale-out window. */
        OVERLOAD_PENDING,
        /** Load fell, and stayed low for the whole scale-in window. */
        UNDERLOAD,
        /** Load fell, but a higher recommendation is still inside the scale-in window. */
        STABILISING,
        /** Utilisation inside the tolerance band around the target (or the count is already right). */
        WITHIN_TARGET,
        /** Fewer replicas than the minimum. */
        BELOW_MIN,
        /** More replicas than the maximum. */
        ABOVE_MAX,
        /** Some replicas are not serving yet (starting or draining): wait before deciding. */
        NOT_READY,
        /** No serving worker has reported load yet. */
        NO_LOAD_REPORTS;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String role;
    private final String site;
    private final Instant at;
    private final int current;
    private final int desired;
    private final int needed;
    private final double utilisation;
    private final Reason reason;

    public ScaleDecision(String role, String site, Instant at, int current, int desired, int needed,
                         double utilisation, Reason reason) {
        this.role = role;
        this.site = site;
        this.at = at;
        this.current = current;
        this.desired = desired;
        this.needed = needed;
        this.utilisation = utilisation;
        this.reason = reason;
    }

    public String role() {
        return role;
    }

    public String site() {
        return site;
    }

    public Instant at() {
        return at;
    }

    /** Replicas the target asks for now. */
    public int current() {
        return current;
    }

    /** Replicas the policy wants. */
    public int desired() {
        return desired;
    }

    /** Replicas the load of this moment needs at the target utilisation (before windows and step); -1 if unknown. */
    public int needed() {
        return needed;
    }

    /** Mean utilisation of the serving workers; -1 if unknown. */
    public double utilisation() {
        return utilisation;
    }

    public Reason reason() {
        return reason;
    }

    public boolean scalesOut() {
        return desired > current;
    }

    public boolean scalesIn() {
        return desired < current;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s@%s: %d -> %d (%s; utilisation %.2f, load needs %d)", role, site,
                current, desired, reason.tag(), utilisation, needed);
    }
}
