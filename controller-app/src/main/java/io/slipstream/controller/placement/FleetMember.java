package io.slipstream.controller.placement;

import io.slipstream.contract.WorkerRecord;

/**
 * One worker as the pure planners see it ({@link SteeringPlanner}, {@code config.WorkerConfigPlanner}): its
 * registration and whether it serves. The fleet directory's {@code fleet.WorkerView} is one; the planners do not
 * depend on the directory that makes them.
 */
public interface FleetMember {

    /** The worker's id (its registration's). */
    String id();

    /** What the worker registered: role, site, endpoints, capacity. */
    WorkerRecord record();

    /** Serving: its health stream says so. */
    boolean healthy();

    /** Serving and known to run a configuration from the controller: only such workers are steered to. */
    boolean steerable();
}
