package io.slipstream.worker.compression.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.Ticker;
import io.slipstream.worker.compression.internal.CircuitBreaker;
import io.slipstream.worker.compression.internal.CompressionMetrics;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * The compression providers of this process, best first, with the engines they made and the health
 * of each hardware provider (a circuit breaker and a fallback count shared by every
 * {@link ResilientCompressor} it creates). Modelled on grpc-java's {@code ServerRegistry}: providers
 * come from {@link ServiceLoader}, unavailable ones are kept with their reason, and a request nothing
 * can serve fails with a message that says what to add. Thread-safe; close it to release engines.
 */
public final class CompressionProviderRegistry implements AutoCloseable {

    private final List<CompressionProvider> providers;
    private final List<String> loadErrors;
    private final CompressionMetrics metrics;
    private final Ticker ticker;
    private final int maxHardwareFailures;
    private final long backoffNanos;
    private final long maxBackoffNanos;
    private final ConcurrentMap<String, CompressionEngine> engines = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Health> health = new ConcurrentHashMap<>();

    /** Per-provider health: breaker (hardware only) and fallbacks. */
    static final class Health {
        final CircuitBreaker breaker;
        final LongAdder fallbacks = new LongAdder();

        Health(CircuitBreaker breaker) {
            this.breaker = breaker;
        }
    }

    private CompressionProviderRegistry(Builder b, List<CompressionProvider> providers, List<String> loadErrors) {
        this.providers = List.copyOf(providers);
        this.loadErrors = List.copyOf(loadErrors);
        this.metrics = new CompressionMetrics(b.meterRegistry);
        this.ticker = b.ticker;
        this.maxHardwareFailures = b.maxHardwareFailures;
        this.backoffNanos = b.backoff.toNanos();
        this.maxBackoffNanos = b.maxBackoff.toNanos();
        for (CompressionProvider p : this.providers) {
            Health h = health(p);
            if (p.hardware()) {
                Gauge.builder(CompressionMetrics.BREAKER_OPEN, h.breaker,
                                cb -> cb.state() == CircuitBreaker.State.CLOSED ? 0 : 1)
                        .tag("provider", p.name()).description("1 while the provider's circuit breaker keeps it out")
                        .register(b.meterRegistry);
            }
        }
        Gauge.builder(CompressionMetrics.QUEUE_DEPTH, this, CompressionProviderRegistry::totalQueueDepth)
                .description("Submissions waiting or running in compression engines").register(b.meterRegistry);
    }

    /** Providers from the context class loader's ServiceLoader, without those that are not {@link CompressionProvider#enabled()}. */
    public static CompressionProviderRegistry load() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All providers, available or not, highest priority first (hardware first on ties). */
    public List<CompressionProvider> providers() {
        return providers;
    }

    /** Provider classes listed in a services file that could not be instantiated, with the error. */
    public List<String> loadErrors() {
        return loadErrors;
    }

    public MeterRegistry meterRegistry() {
        return metrics.registry();
    }

    /**
     * The provider that large blocks of {@code config.codec()} go to: the forced one, or the best
     * available that supports the codec (software only when hardware is disabled).
     *
     * @throws IllegalStateException with what was considered and what to add, when nothing fits
     */
    public CompressionProvider select(CompressionConfig config) {
        Codec codec = config.codec();
        if (config.forceProvider() != null) {
            CompressionProvider forced = byName(config.forceProvider());
            if (forced == null) {
                throw new IllegalStateException("force_provider '" + config.forceProvider() + "' is not installed; installed: "
                        + providers.stream().map(CompressionProvider::name).collect(Collectors.joining(", "))
                        + ". Add its jar to the class path (with META-INF/services/" + CompressionProvider.class.getName()
                        + ") or clear force_provider.");
            }
            if (config.disableHardware() && forced.hardware()) {
                throw new IllegalStateException("force_provider '" + forced.name()
                        + "' is a hardware provider but disable_hardware is set; clear one of them.");
            }
            String why = unusableReason(forced, codec);
            if (why != null) {
                throw new IllegalStateException("force_provider '" + forced.name() + "' cannot serve " + codec + ": " + why
                        + ". Fix that, or clear force_provider to use the best available provider.");
            }
            return forced;
        }
        for (CompressionProvider p : providers) {
            if ((config.disableHardware() && p.hardware()) || unusableReason(p, codec) != null) {
                continue;
            }
            return p;
        }
        throw noProvider(codec, config.disableHardware());
    }

    /** The best available software provider for {@code codec}, the target of every fallback. */
    public CompressionProvider software(Codec codec) {
        for (CompressionProvider p : providers) {
            if (!p.hardware() && unusableReason(p, codec) == null) {
                return p;
            }
        }
        throw noProvider(codec, true);
    }

    private IllegalStateException noProvider(Codec codec, boolean softwareOnly) {
        StringBuilder m = new StringBuilder("No available ").append(softwareOnly ? "software " : "")
                .append("compression provider for ").append(codec).append(". Considered: ");
        if (providers.isEmpty()) {
            m.append("none (no provider on the class path)");
        }
        for (Iterator<CompressionProvider> it = providers.iterator(); it.hasNext(); ) {
            CompressionProvider p = it.next();
            String why = unusableReason(p, codec);
            m.append(p.name()).append(p.hardware() ? " [hardware]" : " [software]").append(": ")
                    .append(why == null ? (softwareOnly && p.hardware() ? "hardware disabled" : "usable") : why);
            if (it.hasNext()) {
                m.append("; ");
            }
        }
        for (String e : loadErrors) {
            m.append("; failed to load ").append(e);
        }
        m.append(". Add a provider that supports ").append(codec).append(" to the class path (a jar with META-INF/services/")
                .append(CompressionProvider.class.getName()).append(")");
        if (codec == Codec.ZSTD) {
            m.append(", e.g. com.github.luben:zstd-jni for the built-in software provider");
        } else if (codec == Codec.LZ4) {
            m.append(", e.g. org.lz4:lz4-java for the built-in software provider");
        }
        return new IllegalStateException(m.append('.').toString());
    }

    private static String unusableReason(CompressionProvider p, Codec codec) {
        Availability a = safeAvailability(p);
        if (!a.isAvailable()) {
            return "unavailable (" + a.reason() + ")";
        }
        if (!p.codecs().contains(codec)) {
            String extra = p instanceof SoftwareCompressionProvider
                    ? ((SoftwareCompressionProvider) p).missingReason(codec) : "";
            return "does not support " + codec + (extra.isEmpty() ? "" : " (" + extra + ")");
        }
        return null;
    }

    /** A provider's availability; a provider that breaks the never-throw rule is unavailable with the cause. */
    static Availability safeAvailability(CompressionProvider p) {
        try {
            Availability a = p.availability();
            return a == null ? Availability.unavailable("availability() returned null") : a;
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError) {
                throw (VirtualMachineError) t;
            }
            return Availability.unavailable("availability probe threw", t);
        }
    }

    public CompressionProvider byName(String name) {
        for (CompressionProvider p : providers) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** The registry's engine of {@code provider} for (codec, level), created once and closed with the registry. */
    public CompressionEngine engine(CompressionProvider provider, Codec codec, int level) {
        int lvl = codec.checkLevel(level);
        String key = provider.name() + '|' + codec + '|' + lvl;
        CompressionEngine e = engines.get(key);
        if (e != null) {
            return e;
        }
        return engines.computeIfAbsent(key, k -> Objects.requireNonNull(provider.engine(codec, lvl),
                () -> provider.name() + ".engine(" + codec + ", " + lvl + ") returned null"));
    }

    /** A switch for {@code config}: best provider for large blocks, software for small ones and every fallback. */
    public ResilientCompressor compressor(CompressionConfig config) {
        return new ResilientCompressor(this, config);
    }

    Health health(CompressionProvider p) {
        return health.computeIfAbsent(p.name(), n -> new Health(
                new CircuitBreaker(maxHardwareFailures, backoffNanos, maxBackoffNanos, ticker)));
    }

    CompressionMetrics metrics() {
        return metrics;
    }

    Ticker ticker() {
        return ticker;
    }

    /** Every provider's state, for load reports. */
    public List<ProviderState> providerStates() {
        List<ProviderState> out = new ArrayList<>();
        Map<String, Integer> depth = queueDepthByProvider();
        for (CompressionProvider p : providers) {
            Availability a = safeAvailability(p);
            Health h = health(p);
            String reason = a.isAvailable() ? (p.hardware() ? h.breaker.reason() : "") : a.reason();
            out.add(new ProviderState(p.name(), p.hardware(), a.isAvailable(), reason, h.fallbacks.sum(),
                    depth.getOrDefault(p.name(), 0)));
        }
        return out;
    }

    /** Submissions waiting or running in every engine of this registry. */
    public int totalQueueDepth() {
        int sum = 0;
        for (CompressionEngine e : engines.values()) {
            sum += e.queueDepth();
        }
        return sum;
    }

    private Map<String, Integer> queueDepthByProvider() {
        Map<String, Integer> m = new LinkedHashMap<>();
        engines.forEach((k, e) -> m.merge(k.substring(0, k.indexOf('|')), e.queueDepth(), Integer::sum));
        return m;
    }

    @Override
    public void close() {
        for (CompressionEngine e : engines.values()) {
            try {
                e.close();
            } catch (RuntimeException ignored) {
                // closing quietly, as Curator does
            }
        }
        engines.clear();
    }

    /** Builder: ServiceLoader discovery, extra providers, metrics, clock and breaker settings. */
    public static final class Builder {
        private ClassLoader classLoader = Thread.currentThread().getContextClassLoader();
        private boolean loadServices = true;
        private final List<CompressionProvider> extra = new ArrayList<>();
        private MeterRegistry meterRegistry = new SimpleMeterRegistry();
        private Ticker ticker = Ticker.system();
        private int maxHardwareFailures = 3;
        private Duration backoff = Duration.ofSeconds(30);
        private Duration maxBackoff = Duration.ofMinutes(5);

        private Builder() {
        }

        public Builder classLoader(ClassLoader classLoader) {
            this.classLoader = classLoader;
            return this;
        }

        /** Whether to discover providers with ServiceLoader (default true). */
        public Builder loadServices(boolean load) {
            this.loadServices = load;
            return this;
        }

        public Builder addProvider(CompressionProvider provider) {
            extra.add(Objects.requireNonNull(provider, "provider"));
            return this;
        }

        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Circuit breaker of each hardware provider: after {@code maxFailures} consecutive failed blocks
         * (each re-run in software) hardware is kept out for {@code backoff}, doubled after each failed
         * probe up to {@code maxBackoff}.
         */
        public Builder breaker(int maxFailures, Duration backoff, Duration maxBackoff) {
            if (maxFailures < 1) {
                throw new IllegalArgumentException("maxFailures: " + maxFailures + " (expected: > 0)");
            }
            if (backoff.isNegative() || backoff.isZero() || maxBackoff.compareTo(backoff) < 0) {
                throw new IllegalArgumentException("backoff: " + backoff + ", maxBackoff: " + maxBackoff
                        + " (expected: 0 < backoff <= maxBackoff)");
            }
            this.maxHardwareFailures = maxFailures;
            this.backoff = backoff;
            this.maxBackoff = maxBackoff;
            return this;
        }

        /**
         * Builds the registry.
         *
         * @throws IllegalArgumentException when a discovered provider refuses its configuration (its constructor
         *     threw it, e.g. the card emulator's bad fault spec)
         */
        public CompressionProviderRegistry build() {
            Map<String, CompressionProvider> byName = new LinkedHashMap<>();
            List<String> errors = new ArrayList<>();
            List<CompressionProvider> all = new ArrayList<>(extra);
            if (loadServices) {
                Iterator<CompressionProvider> it = ServiceLoader.load(CompressionProvider.class, classLoader).iterator();
                while (true) {
                    try {
                        if (!it.hasNext()) {
                            break;
                        }
                        all.add(it.next());
                    } catch (ServiceConfigurationError e) {
                        if (e.getCause() instanceof IllegalArgumentException) {
                            // configured wrongly by the user: say so rather than run without the provider
                            throw (IllegalArgumentException) e.getCause();
                        }
                        errors.add(String.valueOf(e));
                    } catch (LinkageError e) {
                        errors.add(String.valueOf(e));
                    }
                }
            }
            for (CompressionProvider p : all) {
                if (!p.enabled()) {
                    continue;
                }
                byName.putIfAbsent(p.name(), p); // explicit providers win over discovered ones of the same name
            }
            List<CompressionProvider> sorted = new ArrayList<>(byName.values());
            sorted.sort(Comparator.comparingInt(CompressionProvider::priority).reversed()
                    .thenComparing(p -> !p.hardware()));
            return new CompressionProviderRegistry(this, sorted, errors);
        }
    }
}
