package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompressionEventsTest {

    private final CompressionEvents events = new CompressionEvents(Duration.ofSeconds(60));
    private final Instant t0 = Instant.parse("2026-11-22T03:00:00Z");

    private static LoadReport report(boolean available, long fallbacks) {
        return LoadReport.newBuilder()
                .addCompression(CompressionProviderState.newBuilder().setName("emulator").setHardware(true)
                        .setAvailable(available).setFallbacks(fallbacks)
                        .setReason(available ? "" : "emulated card: device lost"))
                .addCompression(CompressionProviderState.newBuilder().setName("software").setAvailable(true)
                        .setFallbacks(0))
                .build();
    }

    private static List<String> kinds(List<CompressionEvents.Derived> derived) {
        return derived.stream().map(d -> d.kind).collect(java.util.stream.Collectors.toList());
    }

    @Test
    void derive_cardLost_unavailableAndFirstFallbackAtOnce() {
        List<CompressionEvents.Derived> d = events.derive("w1", report(true, 0), report(false, 3), t0);

        assertThat(kinds(d)).containsExactly("compression_unavailable", "compression_fallback");
        assertThat(d.get(0).detail).isEqualTo("hardware provider emulator unavailable: emulated card: device lost");
        assertThat(d.get(1).detail).isEqualTo("3 blocks moved from emulator to software (3 since start)");
    }

    @Test
    void derive_fallbacksKeepGrowing_atMostOneEventPerQuietPeriodWithTheGrowth() {
        events.derive("w1", report(true, 0), report(true, 1), t0);

        assertThat(events.derive("w1", report(true, 1), report(true, 50), t0.plusSeconds(1))).isEmpty();
        assertThat(events.derive("w1", report(true, 50), report(true, 90), t0.plusSeconds(59))).isEmpty();
        List<CompressionEvents.Derived> d = events.derive("w1", report(true, 90), report(true, 120), t0.plusSeconds(60));
        assertThat(kinds(d)).containsExactly("compression_fallback");
        assertThat(d.get(0).detail).isEqualTo("119 blocks moved from emulator to software since the last event"
                + " (120 since start)");
    }

    @Test
    void derive_noChangeOrSoftwareOnly_noEvents() {
        assertThat(events.derive("w1", report(true, 0), report(true, 0), t0)).isEmpty();
        assertThat(events.derive("w1", LoadReport.getDefaultInstance(), LoadReport.getDefaultInstance(), t0)).isEmpty();
        // Still unavailable: no second unavailable event.
        events.derive("w1", report(true, 0), report(false, 0), t0);
        assertThat(events.derive("w1", report(false, 0), report(false, 0), t0.plusSeconds(1))).isEmpty();
    }

    @Test
    void derive_cardBack_availableEvent() {
        assertThat(kinds(events.derive("w1", report(false, 0), report(true, 0), t0)))
                .containsExactly("compression_available");
    }

    @Test
    void derive_workerRestartedCountsFromZero_firstGrowthReportedAgain() {
        events.derive("w1", report(true, 0), report(true, 40), t0);
        List<CompressionEvents.Derived> d = events.derive("w1", report(true, 40), report(true, 2), t0.plusSeconds(5));
        assertThat(kinds(d)).containsExactly("compression_fallback");
        assertThat(d.get(0).detail).isEqualTo("2 blocks moved from emulator to software (2 since start)");
    }

    @Test
    void derive_workersAreTrackedApart() {
        events.derive("w1", report(true, 0), report(true, 5), t0);
        assertThat(kinds(events.derive("w2", report(true, 0), report(true, 5), t0.plusSeconds(1))))
                .containsExactly("compression_fallback");
        events.forget("w1");
        assertThat(kinds(events.derive("w1", report(true, 5), report(true, 6), t0.plusSeconds(2))))
                .containsExactly("compression_fallback");
    }
}
