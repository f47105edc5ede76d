package io.slipstream.worker.control;

import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * Turns the data-plane counters into {@link LoadReport}s. Each reader holds a {@link Cursor} so that
 * rates are exact over that reader's own interval, whatever other readers do.
 */
public final class LoadSampler {

    private final WorkerLifecycle lifecycle;
    private final DataPlaneStats stats;
    private final long capacityBytesPerSecond;
    private final Clock clock;
    private final DoubleSupplier cpu;
    private volatile Supplier<List<CompressionProviderState>> compression = List::of;
    private volatile CacheCounters cache;
    private volatile java.util.function.Supplier<java.util.List<io.slipstream.proto.v1.ChunkStoreState>> chunkStores;

    /** Cumulative counters of the caching proxy, read at each sample. */
    public interface CacheCounters {
        long hits();

        long misses();

        long originRequests();

        /** Body bytes fetched from origins. */
        default long originBytes() {
            return 0;
        }
    }

    public LoadSampler(WorkerLifecycle lifecycle, DataPlaneStats stats, long capacityBytesPerSecond, Clock clock,
                       DoubleSupplier cpu) {
        this.lifecycle = lifecycle;
        this.stats = stats;
        this.capacityBytesPerSecond = capacityBytesPerSecond;
        this.clock = clock;
        this.cpu = cpu;
    }

    /** A sampler reading this JVM's process CPU load. */
    public static LoadSampler forProcess(WorkerLifecycle lifecycle, DataPlaneStats stats, long capacity) {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        DoubleSupplier cpu = os instanceof com.sun.management.OperatingSystemMXBean
                ? () -> Math.max(0, ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuLoad())
                : () -> 0;
        return new LoadSampler(lifecycle, stats, capacity, Clock.systemUTC(), cpu);
    }

    /** Where provider states come from (the compression registry, once wired). */
    public void compressionFrom(Supplier<List<CompressionProviderState>> supplier) {
        this.compression = supplier;
    }

    /** Where the cache's hit, miss and origin counters come from (cache workers only). */
    public void cacheFrom(CacheCounters counters) {
        this.cache = counters;
    }

    /** Where the wanopt chunk stores' figures come from (wanopt workers only). */
    public void chunkStoresFrom(java.util.function.Supplier<java.util.List<io.slipstream.proto.v1.ChunkStoreState>> stores) {
        this.chunkStores = stores;
    }

    public Cursor cursor() {
        return new Cursor();
    }

    /** Remembers the previous sample of one reader. */
    public final class Cursor {
        private long lastMillis = clock.millis();
        private long lastIn = stats.bytesIn();
        private long lastOut = stats.bytesOut();

        /** A report with rates over the time since this cursor's previous sample. */
        public synchronized LoadReport sample() {
            long now = clock.millis();
            long in = stats.bytesIn();
            long out = stats.bytesOut();
            double seconds = Math.max(1, now - lastMillis) / 1000.0;
            LoadReport.Builder report = LoadReport.newBuilder()
                    .setWorkerId(lifecycle.id())
                    .setTimestampMillis(now)
                    .setCpu(cpu.getAsDouble())
                    .setBytesInPerSecond((in - lastIn) / seconds)
                    .setBytesOutPerSecond((out - lastOut) / seconds)
                    .setActiveFlows(stats.activeFlows())
                    .setQueueDepth(stats.queueDepth())
                    .addAllCompression(compression.get())
                    .setCapacityBytesPerSecond(capacityBytesPerSecond)
                    .setDraining(lifecycle.draining())
                    .setWanoptAppBytes(stats.wanoptAppBytes())
                    .setWanoptWanBytes(stats.wanoptWanBytes())
                    .setWanoptReferenceBytes(stats.wanoptEncoded(DataPlaneStats.WanoptEncoding.REFERENCE))
                    .setWanoptDeltaBytes(stats.wanoptEncoded(DataPlaneStats.WanoptEncoding.DELTA))
                    .setWanoptLiteralBytes(stats.wanoptEncoded(DataPlaneStats.WanoptEncoding.LITERAL))
                    .setWanoptRawBytes(stats.wanoptEncoded(DataPlaneStats.WanoptEncoding.RAW))
                    .setWanoptDeltaCandidates(stats.wanoptDeltaCandidates())
                    .setWanoptDeltaHits(stats.wanoptDeltaHits());
            for (DataPlaneStats.WanoptPair pair : stats.wanoptPairs()) {
                report.addWanoptTraffic(io.slipstream.proto.v1.WanoptTraffic.newBuilder()
                        .setPeerWorkerId(pair.peer()).setPolicy(pair.policy())
                        .setAppBytes(pair.appBytes()).setWanBytes(pair.wanBytes())
                        .setReferenceBytes(pair.encoded(DataPlaneStats.WanoptEncoding.REFERENCE))
                        .setDeltaBytes(pair.encoded(DataPlaneStats.WanoptEncoding.DELTA))
                        .setLiteralBytes(pair.encoded(DataPlaneStats.WanoptEncoding.LITERAL))
                        .setRawBytes(pair.encoded(DataPlaneStats.WanoptEncoding.RAW))
                        .setDeltaCandidates(pair.deltaCandidates()).setDeltaHits(pair.deltaHits()));
            }
            WorkerLifecycle.Applied config = lifecycle.applied();
            if (config != null) {
                report.setConfigGeneration(config.generation()).setConfigDigest(config.digest());
            }
            java.util.function.Supplier<java.util.List<io.slipstream.proto.v1.ChunkStoreState>> stores = chunkStores;
            if (stores != null) {
                report.addAllChunkStores(stores.get());
            }
            CacheCounters counters = cache;
            if (counters != null) {
                long hits = counters.hits();
                report.setCacheHits(hits)
                        .setCacheLookups(hits + counters.misses())
                        .setCacheOriginRequests(counters.originRequests())
                        .setCacheOriginBytes(counters.originBytes());
            }
            lastMillis = now;
            lastIn = in;
            lastOut = out;
            return report.build();
        }
    }
}
