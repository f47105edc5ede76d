package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.tls.TlsFiles;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fleet core's settings, refused before anything starts (no ZooKeeper needed). */
class FleetCoreTest {

    @TempDir
    Path dir;

    @Test
    void start_noMeters_refusedSayingWhatIsExpected() {
        assertThatThrownBy(() -> FleetCore.builder("127.0.0.1:2181").plaintext("test").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fleet core meters: null (expected: a MeterRegistry)");
    }

    @Test
    void start_neitherTlsNorPlaintextChosen_refused() {
        assertThatThrownBy(() -> FleetCore.builder("127.0.0.1:2181").meters(new SimpleMeterRegistry()).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither mutualTls(files, period) nor plaintext(reason) chosen");
    }

    @Test
    void start_tlsWithoutAPositiveReloadPeriod_refused() {
        assertThatThrownBy(() -> FleetCore.builder("127.0.0.1:2181").meters(new SimpleMeterRegistry())
                .mutualTls(TlsFiles.inDirectory(dir), Duration.ZERO).start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fleet core TLS reload period: PT0S (expected: > 0)");
    }

    @Test
    void start_blankZooKeeper_refusedNamingTheExpectedForm() {
        assertThatThrownBy(() -> FleetCore.builder(" ").meters(new SimpleMeterRegistry()).plaintext("test").start())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: host:port[,host:port...]");
    }

    @Test
    void start_tlsDirectoryWithoutCertificates_failsAndSaysWhichFile() {
        assertThatThrownBy(() -> FleetCore.builder("127.0.0.1:2181").meters(new SimpleMeterRegistry())
                .mutualTls(TlsFiles.inDirectory(dir), Duration.ofSeconds(10)).start())
                .hasMessageContaining(dir.toString());
    }
}
