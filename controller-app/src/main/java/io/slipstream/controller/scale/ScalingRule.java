package io.slipstream.controller.scale;

import io.slipstream.contract.Roles;
import java.time.Duration;
import java.util.Objects;

/**
 * How one role at one site scales: replica bounds, the utilisation to aim for and the windows and
 * step that keep the fleet from reacting to noise. Immutable; built with {@link #builder(String, String)}.
 *
 * <p>A worker's utilisation is the most loaded of its dimensions: CPU against {@link #cpuPerWorker()},
 * throughput against its declared capacity, active flows against {@link #flowsPerWorker()} and
 * compression queue depth against {@link #queueLimit()}. A dimension whose limit is 0 is not counted.
 */
public final class ScalingRule {

    private final String role;
    private final String site;
    private final int minReplicas;
    private final int maxReplicas;
    private final double targetUtilisation;
    private final double tolerance;
    private final Duration scaleOutWindow;
    private final Duration scaleInWindow;
    private final int maxStep;
    private final double cpuPerWorker;
    private final int flowsPerWorker;
    private final int queueLimit;
    private final Duration drainTimeout;

    private ScalingRule(Builder b) {
        this.role = b.role;
        this.site = b.site;
        this.minReplicas = b.minReplicas;
        this.maxReplicas = b.maxReplicas;
        this.targetUtilisation = b.targetUtilisation;
        this.tolerance = b.tolerance;
        this.scaleOutWindow = b.scaleOutWindow;
        this.scaleInWindow = b.scaleInWindow;
        this.maxStep = b.maxStep;
        this.cpuPerWorker = b.cpuPerWorker;
        this.flowsPerWorker = b.flowsPerWorker;
        this.queueLimit = b.queueLimit;
        this.drainTimeout = b.drainTimeout;
    }

    /** A rule with the defaults: 1..10 replicas, target 0.7 +- 0.1, out after 2 s, in after 60 s, step 2. */
    public static Builder builder(String role, String site) {
        return new Builder(role, site);
    }

    public String role() {
        return role;
    }

    public String site() {
        return site;
    }

    public int minReplicas() {
        return minReplicas;
    }

    public int maxReplicas() {
        return maxReplicas;
    }

    /** Utilisation (0..1 of a worker) the rule aims for on average. */
    public double targetUtilisation() {
        return targetUtilisation;
    }

    /** Relative band around the target inside which nothing changes (0.1: 0.63..0.77 for a 0.7 target). */
    public double tolerance() {
        return tolerance;
    }

    /** How long overload must last before scaling out. */
    public Duration scaleOutWindow() {
        return scaleOutWindow;
    }

    /** Scale-in goes only down to the highest recommendation over this window. */
    public Duration scaleInWindow() {
        return scaleInWindow;
    }

    /** Most replicas added or removed by one decision. */
    public int maxStep() {
        return maxStep;
    }

    /** Share of the machine's CPU (0..1, as load reports give it) one worker counts as full at; 0 ignores CPU. */
    public double cpuPerWorker() {
        return cpuPerWorker;
    }

    /** Active flows one worker counts as full at; 0 ignores flows. */
    public int flowsPerWorker() {
        return flowsPerWorker;
    }

    /** Compression queue depth one worker counts as full at; 0 ignores the queue. */
    public int queueLimit() {
        return queueLimit;
    }

    /** How long a worker chosen for scale-in may take to finish its flows before it is removed anyway. */
    public Duration drainTimeout() {
        return drainTimeout;
    }

    @Override
    public String toString() {
        return role + "@" + site + "[" + minReplicas + ".." + maxReplicas + ", target " + targetUtilisation
                + " +-" + tolerance + ", out after " + scaleOutWindow.toMillis() + " ms, in over "
                + scaleInWindow.toMillis() + " ms, step " + maxStep + "]";
    }

    /** Builder; every setter checks its argument and names what it expected. */
    public static final class Builder {
        private final String role;
        private final String site;
        private int minReplicas = 1;
        private int maxReplicas = 10;
        private double targetUtilisation = 0.7;
        private double tolerance = 0.1;
        private Duration scaleOutWindow = Duration.ofSeconds(2);
        private Duration scaleInWindow = Duration.ofSeconds(60);
        private int maxStep = 2;
        private double cpuPerWorker = 1.0;
        private int flowsPerWorker = 1000;
        private int queueLimit = 64;
        private Duration drainTimeout = Duration.ofSeconds(30);

        private Builder(String role, String site) {
            this.role = Roles.name(Roles.parse(role));
            Objects.requireNonNull(site, "site");
            if (site.isBlank()) {
                throw new IllegalArgumentException("site: '" + site + "' (expected: non-empty)");
            }
            this.site = site;
        }

        public Builder replicas(int min, int max) {
            if (min < 0) {
                throw new IllegalArgumentException("minReplicas: " + min + " (expected: >= 0)");
            }
            if (max < 1 || max < min) {
                throw new IllegalArgumentException("maxReplicas: " + max + " (expected: >= 1 and >= minReplicas " + min + ")");
            }
            this.minReplicas = min;
            this.maxReplicas = max;
            return this;
        }

        public Builder targetUtilisation(double target) {
            if (!(target > 0 && target <= 1)) {
                throw new IllegalArgumentException("targetUtilisation: " + target + " (expected: > 0 and <= 1)");
            }
            this.targetUtilisation = target;
            return this;
        }

        public Builder tolerance(double tolerance) {
            if (!(tolerance >= 0 && tolerance < 1)) {
                throw new IllegalArgumentException("tolerance: " + tolerance + " (expected: >= 0 and < 1)");
            }
            this.tolerance = tolerance;
            return this;
        }

        public Builder scaleOutWindow(Duration window) {
            this.scaleOutWindow = window("scaleOutWindowSeconds", window, Duration.ofMinutes(10));
            return this;
        }

        public Builder scaleInWindow(Duration window) {
            this.scaleInWindow = window("scaleInWindowSeconds", window, Duration.ofHours(1));
            return this;
        }

        public Builder maxStep(int step) {
            if (step < 1) {
                throw new IllegalArgumentException("maxStep: " + step + " (expected: >= 1)");
            }
            this.maxStep = step;
            return this;
        }

        public Builder cpuPerWorker(double share) {
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("cpuPerWorker: " + share + " (expected: 0 to ignore CPU, or > 0 and <= 1)");
            }
            this.cpuPerWorker = share;
            return this;
        }

        public Builder flowsPerWorker(int flows) {
            if (flows < 0) {
                throw new IllegalArgumentException("flowsPerWorker: " + flows + " (expected: 0 to ignore flows, or > 0)");
            }
            this.flowsPerWorker = flows;
            return this;
        }

        public Builder queueLimit(int depth) {
            if (depth < 0) {
                throw new IllegalArgumentException("queueLimit: " + depth + " (expected: 0 to ignore the queue, or > 0)");
            }
            this.queueLimit = depth;
            return this;
        }

        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = window("drainTimeoutSeconds", timeout, Duration.ofHours(1));
            if (timeout.isZero()) {
                throw new IllegalArgumentException("drainTimeoutSeconds: 0 (expected: > 0)");
            }
            return this;
        }

        private static Duration window(String name, Duration d, Duration max) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.compareTo(max) > 0) {
                throw new IllegalArgumentException(name + ": " + d.toMillis() / 1000.0 + " (expected: 0.." + max.getSeconds() + ")");
            }
            return d;
        }

        public ScalingRule build() {
            return new ScalingRule(this);
        }
    }
}
