package io.slipstream.worker;

import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.gateway.Gateway;
import io.slipstream.worker.gateway.HttpHead;

/** The gateway role's data plane: the {@link Gateway}'s listeners; it registers no data endpoint of its own. */
final class GatewayDataPlane implements DataPlane {

    private final WorkerSettings worker;
    private final GatewayRoleSettings settings;
    private Gateway gateway;

    GatewayDataPlane(WorkerSettings worker, GatewayRoleSettings settings) {
        this.worker = worker;
        this.settings = settings;
    }

    @Override
    public Endpoints start(Context context) throws Exception {
        gateway = new Gateway(new Gateway.Settings(worker.id(), worker.site(), settings.listeners(),
                Math.max(1, Runtime.getRuntime().availableProcessors()), Gateway.DEFAULT_POOL_PER_MEMBER,
                Gateway.DEFAULT_POOL_MAX_IDLE_MILLIS, HttpHead.DEFAULT_MAX_BYTES,
                settings.clientTimeouts().headMillis()), context.meters(), context.stats()).start();
        return Endpoints.NONE;
    }

    @Override
    public void apply(WorkerConfig config) {
        gateway.apply(config);
    }

    @Override
    public void close() {
        if (gateway != null) {
            gateway.close();
        }
    }
}
