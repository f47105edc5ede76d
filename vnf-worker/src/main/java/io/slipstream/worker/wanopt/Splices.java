package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Makes the {@link StreamSplice} of a new stream, either direction: its encoder and decoder (with the chunk
 * dictionary shared with the connection's peer, when deduplicating) and its counters, kept per peer and policy.
 */
final class Splices {

    private final ChunkStores stores;
    private final boolean dedup;
    private final Supplier<ResilientCompressor> compressor;
    private final ResilientCompressor decompressor;
    private final DataPlaneStats stats;
    private final MeterRegistry meters;
    private final long needTimeoutMillis;
    private final Map<String, WanoptCounters> counters = new ConcurrentHashMap<>();

    /**
     * @param stores the chunk dictionaries, used when {@code dedup}
     * @param compressor the switch for the applied configuration, read per stream ({@code null}: send raw)
     * @param decompressor decodes whatever codec a peer used
     */
    Splices(ChunkStores stores, boolean dedup, Supplier<ResilientCompressor> compressor,
            ResilientCompressor decompressor, DataPlaneStats stats, MeterRegistry meters, long needTimeoutMillis) {
        this.stores = stores;
        this.dedup = dedup;
        this.compressor = compressor;
        this.decompressor = decompressor;
        this.stats = stats;
        this.meters = meters;
        this.needTimeoutMillis = needTimeoutMillis;
    }

    private WanoptCounters countersFor(String peer, String policy) {
        return counters.computeIfAbsent(peer + "\u0000" + policy, k -> new WanoptCounters(meters, peer, policy, stats));
    }

    /** @param policy the flow's policy (counters are kept per peer and policy); empty when none matched */
    StreamSplice newSplice(TunnelConnection connection, int credit, String policy, String description) {
        String peer = connection.peer().workerId;
        PeerDictionary dictionary = dedup ? stores.dictionaryFor(peer) : null;
        WanoptCounters peerCounters = countersFor(peer, policy);
        return new StreamSplice(connection, credit,
                new StreamEncoder(compressor.get(), dictionary, WanOptimizer.CHUNKER, peerCounters),
                new StreamDecoder(decompressor, dictionary), stats, peerCounters, description,
                needTimeoutMillis);
    }
}
