package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.worker.control.DataPlaneStats;

/**
 * Counters of the wanopt data path, per peer and flow policy (tags {@code peer}, {@code policy}; "none" for
 * flows no policy matches): bytes the applications sent, bytes on the WAN, raw
 * (passthrough) bytes, passthrough engagements, application and WAN bytes by encoding (reference, delta,
 * literal, raw), delta candidates and hits. Also feeds the worker's load figures (the load report: totals and
 * per peer and policy).
 */
final class WanoptCounters {

    private final Counter bytesIn;
    private final Counter wireBytes;
    private final Counter rawBytes;
    private final Counter passthrough;
    private final Counter literalBytes;
    private final Counter referenceBytes;
    private final Counter needs;
    private final Counter deltaBytes;
    private final Counter literalWan;
    private final Counter referenceWan;
    private final Counter deltaWan;
    private final Counter rawWan;
    private final Counter deltaCandidates;
    private final Counter deltaHits;
    private final DataPlaneStats stats;
    private final DataPlaneStats.WanoptPair pair;

    WanoptCounters(MeterRegistry meters, String peer, DataPlaneStats stats) {
        this(meters, peer, "", stats);
    }

    /** @param policy the flow policy's name, empty when none matched */
    WanoptCounters(MeterRegistry meters, String peer, String policy, DataPlaneStats stats) {
        io.micrometer.core.instrument.Tags tags = io.micrometer.core.instrument.Tags.of("peer", peer, "policy",
                policy.isEmpty() ? "none" : policy);
        this.bytesIn = Counter.builder("slipstream.wanopt.bytes.in").baseUnit("bytes")
                .description("Application bytes encoded towards the peer").tags(tags).register(meters);
        this.wireBytes = Counter.builder("slipstream.wanopt.bytes.wan").baseUnit("bytes")
                .description("Bytes of DATA payload sent on the WAN").tags(tags).register(meters);
        this.rawBytes = Counter.builder("slipstream.wanopt.bytes.raw").baseUnit("bytes")
                .description("Bytes sent without compression (passthrough)").tags(tags).register(meters);
        this.passthrough = Counter.builder("slipstream.wanopt.passthrough")
                .description("Times a stream switched to passthrough on incompressible data").tags(tags)
                .register(meters);
        this.literalBytes = Counter.builder("slipstream.wanopt.chunk.bytes").baseUnit("bytes")
                .description("Bytes sent as new (literal) data, compressed").tags(tags).tag("kind", "literal")
                .register(meters);
        this.referenceBytes = Counter.builder("slipstream.wanopt.chunk.bytes").baseUnit("bytes")
                .description("Bytes sent as references to chunks the peer holds").tags(tags)
                .tag("kind", "reference").register(meters);
        this.needs = Counter.builder("slipstream.wanopt.chunk.needs")
                .description("References the peer no longer held and asked for again").tags(tags)
                .register(meters);
        this.deltaBytes = Counter.builder("slipstream.wanopt.chunk.bytes").baseUnit("bytes")
                .description("Bytes sent as deltas against similar chunks the peer holds").tags(tags)
                .tag("kind", "delta").register(meters);
        this.literalWan = wan(meters, tags, "literal");
        this.referenceWan = wan(meters, tags, "reference");
        this.deltaWan = wan(meters, tags, "delta");
        this.rawWan = wan(meters, tags, "raw");
        this.deltaCandidates = Counter.builder("slipstream.wanopt.delta.candidates")
                .description("Chunks the peer did not hold (each a chance for a delta)").tags(tags)
                .register(meters);
        this.deltaHits = Counter.builder("slipstream.wanopt.delta.hits")
                .description("Chunks sent as a delta; hit rate = hits / candidates").tags(tags)
                .register(meters);
        this.stats = stats;
        this.pair = stats.wanoptPair(peer, policy);
    }

    private static Counter wan(MeterRegistry meters, io.micrometer.core.instrument.Tags tags, String kind) {
        return Counter.builder("slipstream.wanopt.encoded.bytes").baseUnit("bytes")
                .description("Bytes of DATA records on the WAN by encoding").tags(tags).tag("kind", kind)
                .register(meters);
    }

    /** A literal (LIT, CLIT or BLOCK): {@code n} application bytes, {@code wire} bytes of records. */
    void literal(long n, long wire) {
        literalBytes.increment(n);
        literalWan.increment(wire);
        pair.addEncoded(DataPlaneStats.WanoptEncoding.LITERAL, n);
    }

    void reference(long n, long wire) {
        referenceBytes.increment(n);
        referenceWan.increment(wire);
        pair.addEncoded(DataPlaneStats.WanoptEncoding.REFERENCE, n);
    }

    void delta(long n, long wire) {
        deltaBytes.increment(n);
        deltaWan.increment(wire);
        pair.addEncoded(DataPlaneStats.WanoptEncoding.DELTA, n);
    }

    /** A chunk the peer did not hold: sent as a delta ({@code hit}) or as a literal. */
    void deltaCandidate(boolean hit) {
        deltaCandidates.increment();
        if (hit) {
            deltaHits.increment();
        }
        pair.deltaCandidate(hit);
    }

    void need() {
        needs.increment();
    }

    void bytesIn(long n) {
        bytesIn.increment(n);
        stats.addBytesIn(n);
        pair.addAppBytes(n);
    }

    void wireBytes(long n) {
        wireBytes.increment(n);
        stats.addBytesOut(n);
        pair.addWanBytes(n);
    }

    void rawBytes(long n, long wire) {
        rawBytes.increment(n);
        rawWan.increment(wire);
        pair.addEncoded(DataPlaneStats.WanoptEncoding.RAW, n);
    }

    void passthroughEngaged() {
        passthrough.increment();
    }
}
