package io.slipstream.worker.compression.qat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ProviderState;
import org.junit.jupiter.api.Test;

/** The QAT probe on any machine: never throws, and explains an absent card. */
class QatProbeTest {

    @Test
    void availability_anyMachine_neverThrowsAndExplainsAbsence() {
        QatCompressionProvider qat = new QatCompressionProvider();
        assertThatCode(qat::availability).doesNotThrowAnyException();
        Availability a = qat.availability();
        if (!a.isAvailable()) {
            assertThat(a.reason()).isNotBlank();
        }
        assertThat(qat.hardware()).isTrue();
        assertThat(qat.priority()).isGreaterThan(CompressionProvider.SOFTWARE_PRIORITY);
    }

    @Test
    void registry_serviceLoader_listsQatWithItsState() {
        try (CompressionProviderRegistry r = CompressionProviderRegistry.load()) {
            ProviderState qat = r.providerStates().stream().filter(s -> s.name().equals("qat")).findFirst().orElseThrow();
            assertThat(qat.hardware()).isTrue();
            assertThat(qat.available() || !qat.reason().isBlank()).isTrue();
        }
    }
}
