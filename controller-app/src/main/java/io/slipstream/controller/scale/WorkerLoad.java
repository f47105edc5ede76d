package io.slipstream.controller.scale;

import io.slipstream.proto.v1.LoadReport;

/**
 * One worker's utilisation under a {@link ScalingRule}: the most loaded of CPU, throughput against
 * declared capacity, active flows and compression queue depth, each as a fraction of what the rule
 * counts as a full worker. Pure.
 */
public final class WorkerLoad {

    private final String workerId;
    private final double utilisation;
    private final String dimension;
    private final int activeFlows;

    public WorkerLoad(String workerId, double utilisation, String dimension, int activeFlows) {
        if (!(utilisation >= 0) || Double.isInfinite(utilisation)) {
            throw new IllegalArgumentException("utilisation: " + utilisation + " (expected: a finite number >= 0)");
        }
        this.workerId = workerId;
        this.utilisation = utilisation;
        this.dimension = dimension;
        this.activeFlows = activeFlows;
    }

    /**
     * The utilisation of a worker from its latest load report.
     *
     * @param declaredCapacity bytes per second from the worker's registration, used when the report has none
     */
    public static WorkerLoad of(String workerId, LoadReport load, long declaredCapacity, ScalingRule rule) {
        double best = 0;
        String dimension = "idle";
        if (rule.cpuPerWorker() > 0) {
            double cpu = load.getCpu() / rule.cpuPerWorker();
            if (cpu > best) {
                best = cpu;
                dimension = "cpu";
            }
        }
        long capacity = load.getCapacityBytesPerSecond() > 0 ? load.getCapacityBytesPerSecond() : declaredCapacity;
        if (capacity > 0) {
            double throughput = Math.max(load.getBytesInPerSecond(), load.getBytesOutPerSecond()) / capacity;
            if (throughput > best) {
                best = throughput;
                dimension = "throughput";
            }
        }
        if (rule.flowsPerWorker() > 0) {
            double flows = (double) load.getActiveFlows() / rule.flowsPerWorker();
            if (flows > best) {
                best = flows;
                dimension = "flows";
            }
        }
        if (rule.queueLimit() > 0) {
            double queue = (double) load.getQueueDepth() / rule.queueLimit();
            if (queue > best) {
                best = queue;
                dimension = "queue";
            }
        }
        if (!Double.isFinite(best) || best < 0) {
            best = 0;
        }
        return new WorkerLoad(workerId, best, dimension, load.getActiveFlows());
    }

    public String workerId() {
        return workerId;
    }

    /** 1.0 is a full worker. */
    public double utilisation() {
        return utilisation;
    }

    /** Which dimension is the most loaded: cpu, throughput, flows, queue, or idle. */
    public String dimension() {
        return dimension;
    }

    public int activeFlows() {
        return activeFlows;
    }

    @Override
    public String toString() {
        return workerId + "=" + String.format(java.util.Locale.ROOT, "%.2f", utilisation) + "(" + dimension + ")";
    }
}
