package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.worker.dedup.ChunkStore;
import io.slipstream.worker.dedup.ChunkStoreStats;
import io.slipstream.worker.dedup.UnavailableChunkStore;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The meters of the chunk stores of one peer pair, {@code slipstream.wanopt.store.*} tagged {@code peer} and
 * {@code store} ({@code sent}: the chunks sent to the peer, kept to answer a NEED and mirror its store;
 * {@code received}: the peer's chunks). Read from whichever dictionary the pair has now (0 without one).
 */
final class StoreMeters {

    /** Micrometer holds the meters' state objects weakly: this instance (kept by the optimizer) holds them. */
    private final java.util.List<Supplier<ChunkStore>> suppliers = new java.util.ArrayList<>();

    StoreMeters(MeterRegistry meters, String peer, Supplier<PeerDictionary> dictionary) {
        for (String store : new String[] {"sent", "received"}) {
            Function<PeerDictionary, ChunkStore> pick = d -> "sent".equals(store) ? d.sent : d.received;
            Supplier<ChunkStore> current = () -> {
                PeerDictionary d = dictionary.get();
                return d == null ? null : pick.apply(d);
            };
            suppliers.add(current);
            gauge(meters, "slipstream.wanopt.store.bytes", "Chunk bytes held", "bytes", peer, store, current,
                    ChunkStoreStats::bytesHeld);
            gauge(meters, "slipstream.wanopt.store.disk.bytes", "Bytes of the store's segment files on disk", "bytes",
                    peer, store, current, ChunkStoreStats::bytesOnDisk);
            gauge(meters, "slipstream.wanopt.store.max.bytes", "The store's bound on chunk bytes", "bytes", peer,
                    store, current, ChunkStoreStats::maxBytes);
            gauge(meters, "slipstream.wanopt.store.chunks", "Chunks held", null, peer, store, current,
                    ChunkStoreStats::chunks);
            Gauge.builder("slipstream.wanopt.store.available", current,
                            s -> s.get() == null || s.get() instanceof UnavailableChunkStore ? 0 : 1)
                    .description("1 when the store works, 0 when its directory could not be used (chunks go as "
                            + "literals)").tag("peer", peer).tag("store", store).register(meters);
            counter(meters, "slipstream.wanopt.store.evictions", "Chunks evicted for space", null, peer, store, current,
                    ChunkStoreStats::evictions);
            counter(meters, "slipstream.wanopt.store.evicted.bytes", "Chunk bytes evicted for space", "bytes", peer,
                    store, current, ChunkStoreStats::evictedBytes);
            counter(meters, "slipstream.wanopt.store.corrupt", "Records found corrupt or truncated and dropped", null,
                    peer, store, current, ChunkStoreStats::corruptDropped);
            counter(meters, "slipstream.wanopt.store.write.failures",
                    "Chunks that could not be written (disk full, directory unusable)", null, peer, store, current,
                    ChunkStoreStats::writeFailures);
            counter(meters, "slipstream.wanopt.store.hits", "Lookups that found the chunk", null, peer, store,
                    current, ChunkStoreStats::hits);
            counter(meters, "slipstream.wanopt.store.misses", "Lookups that did not find the chunk", null, peer, store,
                    current, ChunkStoreStats::misses);
        }
    }

    private static double read(Supplier<ChunkStore> store, ToDoubleFunction<ChunkStoreStats> f) {
        ChunkStore s = store.get();
        return s == null ? 0 : f.applyAsDouble(s.stats());
    }

    private static void gauge(MeterRegistry meters, String name, String description, String unit, String peer,
                              String store, Supplier<ChunkStore> current, ToDoubleFunction<ChunkStoreStats> f) {
        Gauge.builder(name, current, s -> read(s, f)).description(description).baseUnit(unit).tag("peer", peer)
                .tag("store", store).register(meters);
    }

    private static void counter(MeterRegistry meters, String name, String description, String unit, String peer,
                                String store, Supplier<ChunkStore> current, ToDoubleFunction<ChunkStoreStats> f) {
        FunctionCounter.builder(name, current, s -> read(s, f)).description(description).baseUnit(unit)
                .tag("peer", peer).tag("store", store).register(meters);
    }
}
