package io.slipstream.contract;

/** Where the fleet lives in ZooKeeper. Versioned so that a future layout can live beside this one. */
public final class FleetPaths {

    /** Base path of Curator service discovery for the fleet. */
    public static final String DISCOVERY_BASE_PATH = "/slipstream/v1/discovery";

    /** Curator service name under which every worker registers (the role is in the payload). */
    public static final String WORKER_SERVICE = "worker";

    private FleetPaths() {}

    /** The ephemeral node of one worker instance. */
    public static String instancePath(String workerId) {
        return DISCOVERY_BASE_PATH + "/" + WORKER_SERVICE + "/" + workerId;
    }
}
