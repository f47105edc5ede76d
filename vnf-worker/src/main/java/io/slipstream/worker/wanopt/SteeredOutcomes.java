package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Counts the connections gateways hand to the steered listener, by outcome ({@code slipstream.wanopt.steered.connections}). */
final class SteeredOutcomes {

    private final MeterRegistry meters;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    SteeredOutcomes(MeterRegistry meters) {
        this.meters = meters;
    }

    void count(String outcome) {
        counters.computeIfAbsent(outcome, o -> Counter.builder("slipstream.wanopt.steered.connections")
                .tag("outcome", o).description("Connections handed over by gateways on the steered listener")
                .register(meters)).increment();
    }
}
