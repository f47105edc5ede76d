package io.slipstream.worker.compression.emulator;

import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.CompressionProviderContractTest;

/** The card emulator (healthy) against the TCK: it must be a faithful provider before it can fake faults. */
class CardEmulatorProviderTest extends CompressionProviderContractTest {

    @Override
    protected CompressionProvider provider() {
        return new CardEmulatorProvider(CardEmulator.builder().queueDepth(64).engines(2).build());
    }
}
