package io.slipstream.worker.compression.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.slipstream.worker.compression.Codec;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@code slipstream.compression.*} meters. Tags are low-cardinality: provider name, codec,
 * operation (compress/decompress), fallback or rejection reason.
 */
public final class CompressionMetrics {

    public static final String BLOCKS = "slipstream.compression.blocks";
    public static final String BYTES_IN = "slipstream.compression.bytes.in";
    public static final String BYTES_OUT = "slipstream.compression.bytes.out";
    public static final String LATENCY = "slipstream.compression.latency";
    public static final String FALLBACKS = "slipstream.compression.fallbacks";
    public static final String REJECTED = "slipstream.compression.rejected";
    public static final String QUEUE_DEPTH = "slipstream.compression.queue.depth";
    public static final String BREAKER_OPEN = "slipstream.compression.breaker.open";

    /** Fallback reasons (the {@code reason} tag). */
    public static final String REASON_HARDWARE_ERROR = "hardware_error";
    public static final String REASON_DEVICE_LOST = "device_lost";
    public static final String REASON_QUEUE_FULL = "queue_full";
    public static final String REASON_VERIFY_FAILED = "verify_failed";
    public static final String REASON_CIRCUIT_OPEN = "circuit_open";

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Recorder> recorders = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

    public CompressionMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Meters of one (provider, codec, operation). Resolve once and keep it on hot paths. */
    public Recorder recorder(String provider, Codec codec, String op) {
        String key = provider + '|' + codec + '|' + op;
        return recorders.computeIfAbsent(key, k -> new Recorder(registry, provider, codec, op));
    }

    public void fallback(String provider, String reason) {
        counters.computeIfAbsent(FALLBACKS + '|' + provider + '|' + reason,
                k -> Counter.builder(FALLBACKS).description("Blocks moved from a provider to software, by reason")
                        .tag("provider", provider).tag("reason", reason).register(registry)).increment();
    }

    public void rejected(String reason) {
        counters.computeIfAbsent(REJECTED + '|' + reason,
                k -> Counter.builder(REJECTED).description("Blocks rejected on decompression, by reason")
                        .tag("reason", reason).register(registry)).increment();
    }

    /** Blocks, bytes and latency of one (provider, codec, operation). */
    public static final class Recorder {
        private final Counter blocks;
        private final Counter bytesIn;
        private final Counter bytesOut;
        private final Timer latency;

        Recorder(MeterRegistry registry, String provider, Codec codec, String op) {
            String c = codec.name().toLowerCase(Locale.ROOT);
            blocks = Counter.builder(BLOCKS).tag("provider", provider).tag("codec", c).tag("op", op)
                    .description("Blocks processed").register(registry);
            bytesIn = Counter.builder(BYTES_IN).baseUnit("bytes").tag("provider", provider).tag("codec", c)
                    .tag("op", op).description("Bytes given to the codec").register(registry);
            bytesOut = Counter.builder(BYTES_OUT).baseUnit("bytes").tag("provider", provider).tag("codec", c)
                    .tag("op", op).description("Bytes produced by the codec").register(registry);
            latency = Timer.builder(LATENCY).tag("provider", provider).tag("codec", c).tag("op", op)
                    .description("Time per block").register(registry);
        }

        public void record(long in, long out, long nanos) {
            blocks.increment();
            bytesIn.increment(in);
            bytesOut.increment(out);
            latency.record(nanos, TimeUnit.NANOSECONDS);
        }
    }
}
