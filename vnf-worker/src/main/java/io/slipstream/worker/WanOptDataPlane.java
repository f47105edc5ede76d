package io.slipstream.worker;

import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.dedup.ChunkStoreBudget;
import io.slipstream.worker.wanopt.WanOptimizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The wanopt role's data plane: the {@link WanOptimizer}, its tunnel endpoint and steered listener. */
final class WanOptDataPlane implements DataPlane {

    private static final Logger log = LoggerFactory.getLogger(WanOptDataPlane.class);
    static final int WINDOW_BYTES = 1 << 20;

    private final WorkerSettings worker;
    private final WanOptRoleSettings settings;
    private WanOptimizer optimizer;

    WanOptDataPlane(WorkerSettings worker, WanOptRoleSettings settings) {
        this.worker = worker;
        this.settings = settings;
    }

    @Override
    public Endpoints start(Context context) throws Exception {
        // On disk the stores take no heap beyond their index (~40 bytes a chunk); on the heap they must fit it.
        long storeBytes = settings.chunkStoreDir() != null ? settings.chunkStoreBytes()
                : ChunkStoreBudget.perStore(settings.chunkStoreBytes(), Runtime.getRuntime().maxMemory());
        if (storeBytes < settings.chunkStoreBytes()) {
            log.warn("wanopt {}: chunk store of {} MiB per peer and direction does not fit the heap (max {} MiB): "
                    + "using {} MiB; give the JVM more heap (-Xmx) or lower --chunk-store-memory-mib (or keep the stores on disk)", worker.id(),
                    settings.chunkStoreBytes() >> 20, Runtime.getRuntime().maxMemory() >> 20, storeBytes >> 20);
        }
        optimizer = new WanOptimizer(new WanOptimizer.Settings(worker.id(), worker.site(), worker.bindHost(),
                worker.dataPort(), settings.forwards(), settings.transparent(), WINDOW_BYTES,
                Math.max(1, Runtime.getRuntime().availableProcessors()), storeBytes, true,
                worker.tls()).steeredPort(settings.steeredPort()).chunkStoreDir(settings.chunkStoreDir()),
                context.meters(), context.stats(), context.compressor(),
                context.compression().compressor(CompressionConfig.defaults())).start();
        context.load().chunkStoresFrom(optimizer::chunkStoreStates);
        String steered = optimizer.steeredAddress() == null ? ""
                : HostPort.of(worker.advertiseHost(), optimizer.steeredAddress().getPort()).toString();
        String data = settings.dataAdvertise().isEmpty()
                ? HostPort.of(worker.advertiseHost(), optimizer.tunnelAddress().getPort()).toString()
                : settings.dataAdvertise();
        return new Endpoints(data, steered);
    }

    @Override
    public void apply(WorkerConfig config) {
        optimizer.sites(config.getSitesList());
        optimizer.policies(config.getPoliciesList());
        optimizer.peers(config.getPeersList());
    }

    /** The running optimizer ({@code null} before {@link #start}). */
    WanOptimizer optimizer() {
        return optimizer;
    }

    @Override
    public void close() {
        if (optimizer != null) {
            optimizer.close();
        }
    }
}
