package io.slipstream.worker.compression.qat;

import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.CompressionProviderContractTest;

/**
 * QAT against the TCK where a card is present; elsewhere every test is skipped with the probe's reason.
 */
class QatCompressionProviderTest extends CompressionProviderContractTest {

    @Override
    protected CompressionProvider provider() {
        return new QatCompressionProvider();
    }
}
