package io.slipstream.worker;

import io.slipstream.proto.v1.Role;
import io.slipstream.worker.gateway.GatewayListener;
import java.util.List;

/**
 * The gateway role: where it accepts client connections. Built by name: {@link #defaults()} then the
 * {@code with...} methods.
 *
 * @param listeners VIP and transparent listeners
 * @param clientTimeouts HTTP client timeouts (the gateway uses the head timeout)
 */
public record GatewayRoleSettings(List<GatewayListener> listeners, ClientTimeouts clientTimeouts)
        implements RoleSettings {

    public GatewayRoleSettings {
        listeners = List.copyOf(listeners);
        clientTimeouts = clientTimeouts == null ? ClientTimeouts.DEFAULT : clientTimeouts;
    }

    /** No listeners (they come with {@link #withListeners}), the default client timeouts. */
    public static GatewayRoleSettings defaults() {
        return new GatewayRoleSettings(List.of(), ClientTimeouts.DEFAULT);
    }

    @Override
    public Role role() {
        return Role.ROLE_GATEWAY;
    }

    @Override
    public DataPlane dataPlane(WorkerSettings worker) {
        return new GatewayDataPlane(worker, this);
    }

    public GatewayRoleSettings withListeners(List<GatewayListener> listeners) {
        return new GatewayRoleSettings(listeners, clientTimeouts);
    }

    public GatewayRoleSettings withClientTimeouts(ClientTimeouts clientTimeouts) {
        return new GatewayRoleSettings(listeners, clientTimeouts);
    }
}
