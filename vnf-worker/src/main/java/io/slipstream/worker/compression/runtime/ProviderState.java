package io.slipstream.worker.compression.runtime;

/**
 * A provider as seen by this process, for load reports ({@code CompressionProviderState}).
 *
 * @param reason why it is unavailable or its breaker is open; empty when healthy
 * @param fallbacks blocks moved from this provider to software since start
 * @param queueDepth submissions waiting or running in its engines
 */
public record ProviderState(String name, boolean hardware, boolean available, String reason, long fallbacks,
        int queueDepth) {
}
