package io.slipstream.worker.compression.software;

import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.CompressionProviderContractTest;

/** The software provider against the TCK. */
class SoftwareCompressionProviderTest extends CompressionProviderContractTest {

    @Override
    protected CompressionProvider provider() {
        return new SoftwareCompressionProvider();
    }
}
