package io.slipstream.worker.compression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.worker.compression.emulator.CardEmulatorFaults;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ProviderState;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The card emulator the system properties create (as a worker started with
 * {@code -Dslipstream.compression.emulator=true -Dslipstream.compression.emulator.faults=...} does),
 * driven by a ResilientCompressor: every block round-trips and every fallback is counted.
 */
class EmulatorFaultSpecTest {

    private static <T> T withProperties(String faults, boolean emulator, Supplier<T> body) {
        String oldFaults = System.getProperty(CardEmulatorFaults.PROPERTY);
        String oldEmulator = System.getProperty(CardEmulatorProvider.PROPERTY);
        System.setProperty(CardEmulatorFaults.PROPERTY, faults);
        System.setProperty(CardEmulatorProvider.PROPERTY, Boolean.toString(emulator));
        try {
            return body.get();
        } finally {
            restore(CardEmulatorFaults.PROPERTY, oldFaults);
            restore(CardEmulatorProvider.PROPERTY, oldEmulator);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    private static double fallbacks(SimpleMeterRegistry meters, String reason) {
        Counter c = meters.find("slipstream.compression.fallbacks").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void registry_faultSpecFromProperty_everyBlockRoundTripsAndFallbacksCounted() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CompressionProviderRegistry sender = withProperties("fail-probability:0.1,corrupt-probability:0.1,seed:5,lose-device-at:150",
                true, () -> CompressionProviderRegistry.builder().loadServices(false)
                        .addProvider(new SoftwareCompressionProvider()).addProvider(new CardEmulatorProvider()).meterRegistry(meters)
                        .breaker(50, Duration.ofSeconds(30), Duration.ofSeconds(60)).build());
        CompressionProviderRegistry receiver = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new SoftwareCompressionProvider()).build();
        try (sender; receiver) {
            CardEmulatorProvider card = (CardEmulatorProvider) sender.byName(CardEmulatorProvider.NAME);
            assertThat(card).isNotNull();
            ResilientCompressor tx = sender.compressor(CompressionConfig.builder().codec(Codec.LZ4).build());
            ResilientCompressor rx = receiver.compressor(tx.config());
            int blocks = 300;
            for (int i = 0; i < blocks; i++) {
                byte[] block = TestData.mixed(7000L + i, 16 * 1024);
                ByteBuffer envelope = tx.compress(ByteBuffer.wrap(block));
                assertThat(TestData.bytes(rx.decompress(envelope))).as("block %d", i).isEqualTo(block);
            }

            // the breaker (50 consecutive failures) never trips on the random faults, so the card meets request 150
            assertThat(card.card().deviceLost()).isTrue();
            double hardwareErrors = fallbacks(meters, "hardware_error");
            double verifyFailed = fallbacks(meters, "verify_failed");
            double deviceLost = fallbacks(meters, "device_lost");
            assertThat(hardwareErrors).isPositive();
            assertThat(verifyFailed).isPositive();
            assertThat(deviceLost).isPositive();
            ProviderState state = sender.providerStates().stream()
                    .filter(s -> s.name().equals(CardEmulatorProvider.NAME)).findFirst().orElseThrow();
            assertThat(state.available()).isFalse();
            double allFallbacks = meters.find("slipstream.compression.fallbacks").counters().stream()
                    .mapToDouble(Counter::count).sum();
            assertThat(state.fallbacks()).isEqualTo((long) allFallbacks);
            // after the loss every block goes to software; before it, the card served the rest
            assertThat(state.fallbacks()).isGreaterThan(blocks - 150);
        }
    }

    @Test
    void registry_badFaultSpec_refusesToBuildNamingTheItem() {
        assertThatThrownBy(() -> withProperties("lose-device-at:soon", true,
                () -> CompressionProviderRegistry.builder().build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-D" + CardEmulatorFaults.PROPERTY)
                .hasMessageContaining("bad item 'lose-device-at:soon'")
                .hasMessageContaining("request number >= 1");
    }

    @Test
    void registry_faultSpecWithoutEmulator_refusesToBuild() {
        assertThatThrownBy(() -> withProperties("lose-device-at:3", false,
                () -> CompressionProviderRegistry.builder().build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(CardEmulatorProvider.PROPERTY + "=true");
    }
}
