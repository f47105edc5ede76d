package io.slipstream.worker;

import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.cache.CacheProxySettings;
import io.slipstream.worker.cache.CacheServer;
import io.slipstream.worker.cache.ChainRoutes;
import io.slipstream.worker.control.LoadSampler;
import java.net.URI;

/** The cache role's data plane: the caching proxy, its counters in the load reports, and PURGE over control. */
final class CacheDataPlane implements DataPlane {

    private final WorkerSettings worker;
    private final CacheRoleSettings settings;
    private CacheServer cache;

    CacheDataPlane(WorkerSettings worker, CacheRoleSettings settings) {
        this.worker = worker;
        this.settings = settings;
    }

    @Override
    public Endpoints start(Context context) throws Exception {
        cache = new CacheServer(CacheProxySettings.builder().workerId(worker.id())
                .bind(worker.bindHost(), worker.dataPort())
                .origin(settings.origin() == null ? null : URI.create(settings.origin()))
                // A reverse proxy for its origin is not also an open forward proxy; without an
                // origin the worker is an explicit forward proxy.
                .forwardProxy(settings.origin() == null)
                .adminToken(settings.adminToken())
                .cacheTargets(settings.targets())
                .diskTier(settings.disk().dir(), settings.disk().bytes())
                .clientTimeouts(settings.clientTimeouts().headMillis(), settings.clientTimeouts().idleMillis())
                .build()).start().bindMetrics(context.meters());
        CacheServer counters = cache;
        context.load().cacheFrom(new LoadSampler.CacheCounters() {
            @Override
            public long hits() {
                return counters.hits();
            }

            @Override
            public long misses() {
                return counters.misses();
            }

            @Override
            public long originRequests() {
                return counters.originRequests();
            }

            @Override
            public long originBytes() {
                return counters.originBytes();
            }
        });
        context.control().purger(r -> counters.purge(r.getUrl(), r.getPrefix(), r.getTagsList(), r.getSoft()));
        return new Endpoints(HostPort.of(worker.advertiseHost(), cache.address().getPort()).toString(), "");
    }

    @Override
    public void apply(WorkerConfig config) {
        cache.apply(config.getCache());
        cache.chain(ChainRoutes.of(config));
    }

    @Override
    public void close() {
        if (cache != null) {
            cache.close();
        }
    }
}
