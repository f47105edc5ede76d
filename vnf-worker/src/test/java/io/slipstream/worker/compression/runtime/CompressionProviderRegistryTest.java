package io.slipstream.worker.compression.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.emulator.CardEmulator;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CompressionProviderRegistryTest {

    /** A provider that only does DEFLATE, or whose probe misbehaves. */
    static final class OddProvider implements CompressionProvider {
        private final String name;
        private final boolean throwing;

        OddProvider(String name, boolean throwing) {
            this.name = name;
            this.throwing = throwing;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean hardware() {
            return true;
        }

        @Override
        public int priority() {
            return 200;
        }

        @Override
        public Set<Codec> codecs() {
            return EnumSet.of(Codec.DEFLATE);
        }

        @Override
        public Availability availability() {
            if (throwing) {
                throw new UnsatisfiedLinkError("libodd.so: cannot open shared object file");
            }
            return Availability.unavailable("no device at /dev/odd0");
        }

        @Override
        public CompressionEngine engine(Codec codec, int level) {
            throw new UnsupportedOperationException();
        }
    }

    private static CompressionProviderRegistry withEmulator() {
        return CompressionProviderRegistry.builder().loadServices(false).addProvider(new SoftwareCompressionProvider())
                .addProvider(new CardEmulatorProvider(CardEmulator.builder().build())).build();
    }

    @Test
    void select_hardwareAvailable_prefersHardware() {
        try (CompressionProviderRegistry r = withEmulator()) {
            assertThat(r.providers()).extracting(CompressionProvider::name).containsExactly("emulator", "software");
            assertThat(r.select(CompressionConfig.defaults()).name()).isEqualTo("emulator");
        }
    }

    @Test
    void select_hardwareDisabled_picksSoftware() {
        try (CompressionProviderRegistry r = withEmulator()) {
            CompressionConfig c = CompressionConfig.builder().disableHardware(true).build();
            assertThat(r.select(c).name()).isEqualTo("software");
            assertThat(r.compressor(c).primary().name()).isEqualTo("software");
        }
    }

    @Test
    void select_forcedSoftwareWithCardPresent_usesSoftware() {
        try (CompressionProviderRegistry r = withEmulator()) {
            assertThat(r.select(CompressionConfig.builder().forceProvider("software").build()).name()).isEqualTo("software");
        }
    }

    @Test
    void select_forcedUnknownProvider_failsNamingInstalledOnes() {
        try (CompressionProviderRegistry r = withEmulator()) {
            assertThatThrownBy(() -> r.select(CompressionConfig.builder().forceProvider("qat").build()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("force_provider 'qat' is not installed")
                    .hasMessageContaining("installed: emulator, software");
        }
    }

    @Test
    void select_forcedUnavailableProvider_failsWithItsReason() {
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new OddProvider("odd", false)).addProvider(new SoftwareCompressionProvider()).build()) {
            assertThatThrownBy(() -> r.select(CompressionConfig.builder().codec(Codec.DEFLATE).forceProvider("odd").build()))
                    .hasMessageContaining("no device at /dev/odd0");
        }
    }

    @Test
    void select_noProviderForCodec_messageSaysWhatToAdd() {
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new OddProvider("odd", false)).build()) {
            assertThatThrownBy(() -> r.select(CompressionConfig.defaults()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("No available compression provider for ZSTD")
                    .hasMessageContaining("odd [hardware]: unavailable (no device at /dev/odd0)")
                    .hasMessageContaining("META-INF/services/io.slipstream.worker.compression.CompressionProvider")
                    .hasMessageContaining("com.github.luben:zstd-jni");
        }
    }

    @Test
    void providerStates_probeThrowsError_reportedUnavailableWithCause() {
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new OddProvider("odd", true)).addProvider(new SoftwareCompressionProvider()).build()) {
            ProviderState odd = r.providerStates().get(0);
            assertThat(odd.available()).isFalse();
            assertThat(odd.reason()).contains("UnsatisfiedLinkError").contains("libodd.so");
            assertThat(r.select(CompressionConfig.builder().codec(Codec.DEFLATE).build()).name()).isEqualTo("software");
        }
    }

    @Test
    void load_defaultClassPath_findsSoftwareAndQatButNotEmulator() {
        try (CompressionProviderRegistry r = CompressionProviderRegistry.load()) {
            assertThat(r.providers()).extracting(CompressionProvider::name).contains("software", "qat")
                    .doesNotContain(CardEmulatorProvider.NAME);
            assertThat(r.select(CompressionConfig.defaults()).name()).isIn("software", "qat");
            assertThat(r.loadErrors()).isEmpty();
        }
    }

    @Test
    void build_providerNotEnabled_leftOutOfEveryList() {
        CompressionProvider off = new CardEmulatorProvider(); // as ServiceLoader makes it, without its property
        assertThat(off.enabled()).isFalse();
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(off).addProvider(new SoftwareCompressionProvider()).build()) {
            assertThat(r.providers()).extracting(CompressionProvider::name).containsExactly("software");
            assertThat(r.providerStates()).extracting(ProviderState::name).containsExactly("software");
            assertThatThrownBy(() -> r.select(CompressionConfig.builder().forceProvider(CardEmulatorProvider.NAME).build()))
                    .hasMessageContaining("force_provider 'emulator' is not installed; installed: software");
        }
    }

    @Test
    void load_emulatorPropertySet_findsEmulatorThroughServiceLoaderAboveSoftware() {
        String old = System.setProperty(CardEmulatorProvider.PROPERTY, "true");
        try (CompressionProviderRegistry r = CompressionProviderRegistry.load()) {
            assertThat(r.providers()).extracting(CompressionProvider::name).contains(CardEmulatorProvider.NAME);
            assertThat(r.select(CompressionConfig.defaults()).name()).isIn(CardEmulatorProvider.NAME, "qat");
        } finally {
            if (old == null) {
                System.clearProperty(CardEmulatorProvider.PROPERTY);
            } else {
                System.setProperty(CardEmulatorProvider.PROPERTY, old);
            }
        }
    }

    @Test
    void protos_settingsAndStates_mapBothWays() {
        CompressionConfig c = CompressionProtos.fromProto(CompressionSettings.newBuilder()
                .setCodec(io.slipstream.proto.v1.Codec.CODEC_GZIP).setLevel(9).setMinHardwareBlockBytes(4096)
                .setForceProvider("software").build());
        assertThat(c.codec()).isEqualTo(Codec.GZIP);
        assertThat(c.level()).isEqualTo(9);
        assertThat(c.minHardwareBlockBytes()).isEqualTo(4096);
        assertThat(c.forceProvider()).isEqualTo("software");
        assertThat(CompressionProtos.fromProto(CompressionSettings.getDefaultInstance()).codec()).isEqualTo(Codec.ZSTD);

        try (CompressionProviderRegistry r = withEmulator()) {
            CompressionProviderState s = CompressionProtos.toProto(r.providerStates()).get(0);
            assertThat(s.getName()).isEqualTo("emulator");
            assertThat(s.getHardware()).isTrue();
            assertThat(s.getAvailable()).isTrue();
        }
    }

    @Test
    void config_levelOutOfRange_rejectedWithExpectedRange() {
        assertThatThrownBy(() -> CompressionConfig.builder().codec(Codec.DEFLATE).level(12).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: 0 for default or 1..9 for DEFLATE");
    }
}
