package io.slipstream.controller.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.tls.FleetIdentity;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificates of the throwaway CA, as {@link TlsMaterial} loads and reloads them; bad material named. */
class FleetCaTest {

    @TempDir
    Path dir;

    @Test
    void issueWorker_loadsWithItsIdentity() throws Exception {
        FleetCa ca = FleetCa.create(dir, "t");
        try (TlsMaterial m = TlsMaterial.load(TlsFiles.inDirectory(ca.issueWorker("a", "w1")))) {
            assertThat(m.identity()).isEqualTo(FleetIdentity.worker("a", "w1"));
            assertThat(m.identity().uri()).isEqualTo("urn:slipstream:worker:a:w1");
        }
    }

    @Test
    void reload_kubernetesSecretSymlinkSwap_takesTheNewCertificate() throws Exception {
        FleetCa ca = FleetCa.create(dir, "t");
        FleetIdentity id = FleetIdentity.controller("c");
        // The layout kubelet's atomic writer makes: files -> ..data/<file>, ..data -> a timestamped directory.
        Path secret = Files.createDirectories(dir.resolve("secret"));
        ca.issue(id, secret.resolve("..2026_11_22_01"));
        Files.createSymbolicLink(secret.resolve("..data"), Path.of("..2026_11_22_01"));
        for (String f : new String[] {TlsFiles.CERT, TlsFiles.KEY, TlsFiles.CA}) {
            Files.createSymbolicLink(secret.resolve(f), Path.of("..data", f));
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (TlsMaterial m = TlsMaterial.load(TlsFiles.inDirectory(secret)).bindTo(meters)) {
            BigInteger first = m.serial();
            assertThat(m.reload()).as("unchanged files").isFalse();

            ca.issue(id, secret.resolve("..2026_11_22_02"));
            Path tmp = secret.resolve("..data_tmp");
            Files.createSymbolicLink(tmp, Path.of("..2026_11_22_02"));
            Files.move(tmp, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            assertThat(m.reload()).isTrue();
            assertThat(m.serial()).isNotEqualTo(first);
            assertThat(meters.get("slipstream.tls.reload").tag("result", "success").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void reload_keyOfAnotherIssuance_keepsTheOldMaterialAndCountsOnce() throws Exception {
        FleetCa ca = FleetCa.create(dir, "t");
        Path live = ca.issueWorker("a", "w1");
        Path other = ca.issue(FleetIdentity.worker("a", "w1"), dir.resolve("other"));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (TlsMaterial m = TlsMaterial.load(TlsFiles.inDirectory(live)).bindTo(meters)) {
            BigInteger before = m.serial();
            Files.copy(other.resolve(TlsFiles.KEY), live.resolve(TlsFiles.KEY), StandardCopyOption.REPLACE_EXISTING);
            assertThat(m.reload()).isFalse();
            assertThat(m.reload()).as("the same bad content again").isFalse();
            assertThat(m.serial()).isEqualTo(before);
            assertThat(meters.get("slipstream.tls.reload").tag("result", "failure").counter().count()).isEqualTo(1);
            // The matching certificate arrives: taken.
            Files.copy(other.resolve(TlsFiles.CERT), live.resolve(TlsFiles.CERT), StandardCopyOption.REPLACE_EXISTING);
            assertThat(m.reload()).isTrue();
        }
    }

    @Test
    void load_badMaterial_refusedNamingTheFileAndWhatWasExpected() throws Exception {
        FleetCa ca = FleetCa.create(dir.resolve("ca"), "t");
        FleetCa otherCa = FleetCa.create(dir.resolve("other-ca"), "o");
        Path good = ca.issueWorker("a", "w1");

        Path foreign = otherCa.issueWorker("a", "w1");
        Files.copy(good.resolve(TlsFiles.CA), foreign.resolve(TlsFiles.CA), StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> TlsMaterial.load(TlsFiles.inDirectory(foreign)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not signed by the CA bundle");

        Path expired = ca.issue(FleetIdentity.worker("a", "w2"), dir.resolve("expired"), Duration.ofMinutes(-1));
        assertThatThrownBy(() -> TlsMaterial.load(TlsFiles.inDirectory(expired)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid now");

        Files.writeString(good.resolve(TlsFiles.KEY), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TlsMaterial.load(TlsFiles.inDirectory(good)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tls.key").hasMessageContaining("expected: a PKCS#8 PEM private key");
    }

    @Test
    void fleetIdentity_parse_onlyFleetUris() {
        assertThat(FleetIdentity.parse("urn:slipstream:worker:a:w-1")).isEqualTo(FleetIdentity.worker("a", "w-1"));
        assertThat(FleetIdentity.parse("urn:slipstream:controller:c")).isEqualTo(FleetIdentity.controller("c"));
        assertThat(FleetIdentity.parse("urn:slipstream:worker:a")).isNull();
        assertThat(FleetIdentity.parse("urn:slipstream:worker::w")).isNull();
        assertThat(FleetIdentity.parse("spiffe://fleet/worker/a/w")).isNull();
        assertThatThrownBy(() -> FleetIdentity.worker("a:b", "w"))
                .hasMessageContaining("expected: a non-empty site without ':'");
    }
}
