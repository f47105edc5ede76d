package io.slipstream.controller.onos;

import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.SteeringTable;
import java.util.List;

/** The Slipstream ONOS app: fleet policy, the fleet as the controller sees it, and where flows are steered. */
public interface SlipstreamService {

    /** The fleet policy in force. */
    FleetPolicy policy();

    /**
     * Validates a fleet policy (JSON, as for {@code bin/slipstream policy validate}), puts it in force and
     * stores it in the app's network configuration.
     *
     * @throws IllegalArgumentException with every problem, each naming its JSON path
     */
    FleetPolicy applyPolicy(String json);

    /** Workers in the directory; empty on an instance that is not the leader. */
    List<WorkerView> workers();

    /** The current placement (flow buckets of each policy and site to workers). */
    SteeringTable placement();

    /** What this instance last programmed on the edge switches, and what it could not steer. */
    SteeringProgrammer.Program program();

    /** Whether this ONOS instance leads the app (and so runs the fleet core and programs the switches). */
    boolean isLeader();
}
