package io.slipstream.worker.compression;

/** The software provider against the TCK. */
class SoftwareCompressionProviderTest extends CompressionProviderContractTest {

    @Override
    protected CompressionProvider provider() {
        return new SoftwareCompressionProvider();
    }
}
