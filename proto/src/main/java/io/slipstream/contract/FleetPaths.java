package io.slipstream.contract;

/** Where the fleet lives in ZooKeeper. Versioned so that a future layout can live beside this one. */
public final class FleetPaths {

    /** Base path of Curator service discovery for the fleet. */
    public static final String DISCOVERY_BASE_PATH = "/slipstream/v1/discovery";

    /** Curator service name under which every worker registers (the role is in the payload). */
    public static final String WORKER_SERVICE = "worker";

    /** Root of the standalone controllers' own durable state (policy, scaling overrides, leader election). */
    public static final String CONTROLLER_BASE_PATH = "/slipstream/v1/controller";

    /** The current record of each kind of controller state, e.g. {@code .../state/policy}. */
    public static final String CONTROLLER_STATE_PATH = CONTROLLER_BASE_PATH + "/state";

    /** Earlier records of each kind, one sequential node a version, e.g. {@code .../history/policy/v-0000000007}. */
    public static final String CONTROLLER_HISTORY_PATH = CONTROLLER_BASE_PATH + "/history";

    /**
     * The leader's scaling intent (issue 23): what it decided and is carrying out ({@code .../scaling/intent}), and
     * the worker processes the local scale target started ({@code .../scaling/local-workers}), so that a new
     * leader finishes a scale-out or a drain and adopts the workers instead of starting them twice.
     */
    public static final String CONTROLLER_SCALING_PATH = CONTROLLER_BASE_PATH + "/scaling";

    /** The controllers' leader election (a Curator LeaderLatch). */
    public static final String CONTROLLER_LEADER_PATH = CONTROLLER_BASE_PATH + "/leader";

    private FleetPaths() {}

    /** The ephemeral node of one worker instance. */
    public static String instancePath(String workerId) {
        return DISCOVERY_BASE_PATH + "/" + WORKER_SERVICE + "/" + workerId;
    }
}
