package io.slipstream.worker;

import io.slipstream.proto.v1.Role;

/** What a worker of one role runs beyond what every worker has; one record per role. */
public sealed interface RoleSettings permits WanOptRoleSettings, CacheRoleSettings, GatewayRoleSettings {

    Role role();

    /** The role's data plane for a worker started with {@code worker}; not started yet. */
    DataPlane dataPlane(WorkerSettings worker);
}
