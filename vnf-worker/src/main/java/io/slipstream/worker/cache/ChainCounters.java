package io.slipstream.worker.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;

/** What the {@code cache+wanopt} chain did with origin fetches ({@code slipstream.cache.chain.*}). */
final class ChainCounters {

    /** Fetches sent through a wanopt worker of this site. */
    final LongAdder tunneled = new LongAdder();
    /** Fetches a chain policy covered that went directly: no wanopt worker, and the policy says bypass. */
    final LongAdder bypassed = new LongAdder();
    /** Fetches refused (502): no wanopt worker, and the policy says fail-fast. */
    final LongAdder refused = new LongAdder();
    /** Connections a wanopt worker did not accept (the next one was tried). */
    final LongAdder hopFailures = new LongAdder();
    /** Body bytes received from origins through the chain (before the cache's own encoding). */
    final LongAdder originBytes = new LongAdder();

    void bind(MeterRegistry meters) {
        FunctionCounter.builder("slipstream.cache.chain.fetches", tunneled, LongAdder::sum).tag("route", "tunnel")
                .description("Origin fetches of cache+wanopt policies, by route").register(meters);
        FunctionCounter.builder("slipstream.cache.chain.fetches", bypassed, LongAdder::sum).tag("route", "bypass")
                .description("Origin fetches of cache+wanopt policies, by route").register(meters);
        FunctionCounter.builder("slipstream.cache.chain.fetches", refused, LongAdder::sum).tag("route", "refused")
                .description("Origin fetches of cache+wanopt policies, by route").register(meters);
        FunctionCounter.builder("slipstream.cache.chain.hop.failures", hopFailures, LongAdder::sum)
                .description("Connections to a wanopt worker that failed (the next one was tried)").register(meters);
        FunctionCounter.builder("slipstream.cache.chain.origin.bytes", originBytes, LongAdder::sum)
                .description("Body bytes received from origins through the tunnel").register(meters);
    }
}
