package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.worker.control.DataPlaneStats;

/**
 * Counters of the wanopt data path, per peer: bytes the applications sent, bytes on the WAN, raw
 * (passthrough) bytes, passthrough engagements. Also feeds the worker's load figures.
 */
final class WanoptCounters {

    private final Counter bytesIn;
    private final Counter wireBytes;
    private final Counter rawBytes;
    private final Counter passthrough;
    private final Counter literalBytes;
    private final Counter referenceBytes;
    private final Counter needs;
    private final DataPlaneStats stats;

    WanoptCounters(MeterRegistry meters, String peer, DataPlaneStats stats) {
        this.bytesIn = Counter.builder("slipstream.wanopt.bytes.in").baseUnit("bytes")
                .description("Application bytes encoded towards the peer").tag("peer", peer).register(meters);
        this.wireBytes = Counter.builder("slipstream.wanopt.bytes.wan").baseUnit("bytes")
                .description("Bytes of DATA payload sent on the WAN").tag("peer", peer).register(meters);
        this.rawBytes = Counter.builder("slipstream.wanopt.bytes.raw").baseUnit("bytes")
                .description("Bytes sent without compression (passthrough)").tag("peer", peer).register(meters);
        this.passthrough = Counter.builder("slipstream.wanopt.passthrough")
                .description("Times a stream switched to passthrough on incompressible data").tag("peer", peer)
                .register(meters);
        this.literalBytes = Counter.builder("slipstream.wanopt.chunk.bytes").baseUnit("bytes")
                .description("Bytes sent as new (literal) data, compressed").tag("peer", peer).tag("kind", "literal")
                .register(meters);
        this.referenceBytes = Counter.builder("slipstream.wanopt.chunk.bytes").baseUnit("bytes")
                .description("Bytes sent as references to chunks the peer holds").tag("peer", peer)
                .tag("kind", "reference").register(meters);
        this.needs = Counter.builder("slipstream.wanopt.chunk.needs")
                .description("References the peer no longer held and asked for again").tag("peer", peer)
                .register(meters);
        this.stats = stats;
    }

    void literal(long n) {
        literalBytes.increment(n);
    }

    void reference(long n) {
        referenceBytes.increment(n);
    }

    void need() {
        needs.increment();
    }

    void bytesIn(long n) {
        bytesIn.increment(n);
        stats.addBytesIn(n);
        stats.addWanoptAppBytes(n);
    }

    void wireBytes(long n) {
        wireBytes.increment(n);
        stats.addBytesOut(n);
        stats.addWanoptWanBytes(n);
    }

    void rawBytes(long n) {
        rawBytes.increment(n);
    }

    void passthroughEngaged() {
        passthrough.increment();
    }
}
