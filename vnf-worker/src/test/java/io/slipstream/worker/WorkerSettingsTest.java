package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Settings built by name: the shared part and each role's own, each checked where it is defined. */
class WorkerSettingsTest {

    @Test
    void of_defaults_areTheCommandLinesDefaults() {
        WorkerSettings settings = WorkerSettings.of("w1", "a", "127.0.0.1:2181", GatewayRoleSettings.defaults());
        assertThat(settings.role()).isEqualTo(Role.ROLE_GATEWAY);
        assertThat(settings.zkSessionTimeoutMillis()).isEqualTo(10_000);
        assertThat(settings.bindHost()).isEqualTo("127.0.0.1");
        assertThat(settings.advertiseHost()).isEqualTo("127.0.0.1");
        assertThat(settings.capacityBytesPerSecond()).isEqualTo(125_000_000L);
        assertThat(settings.tls()).isNull();
        assertThat(settings.withPorts(7000, 7001, 7002)).extracting(WorkerSettings::controlPort,
                WorkerSettings::metricsPort, WorkerSettings::dataPort).containsExactly(7000, 7001, 7002);
    }

    @Test
    void withers_badValues_areRefusedSayingWhatIsExpected() {
        WorkerSettings settings = WorkerSettings.of("w1", "a", "127.0.0.1:2181", CacheRoleSettings.defaults());
        assertThatThrownBy(() -> settings.withPorts(-1, 0, 0))
                .hasMessage("control port: -1 (expected: 0..65535, 0 for any free port)");
        assertThatThrownBy(() -> settings.withCapacityBytesPerSecond(0))
                .hasMessage("capacity: 0 bytes/s (expected: > 0)");
        assertThatThrownBy(() -> WanOptRoleSettings.defaults().withChunkStore(1000, null))
                .hasMessage("chunk store: 1000 bytes (expected: >= 1 MiB)");
        assertThatThrownBy(() -> CacheRoleSettings.defaults().withOrigin("ftp://x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CacheRoleSettings.Disk(java.nio.file.Path.of("/tmp/d"), 1000))
                .hasMessage("cache disk: 1000 bytes (expected: >= 1 MiB)");
    }

    @Test
    void roleSettings_lists_areCopied() {
        List<String> targets = new java.util.ArrayList<>(List.of("Slipstream-Cache-Control"));
        CacheRoleSettings cache = CacheRoleSettings.defaults().withTargets(targets);
        targets.clear();
        assertThat(cache.targets()).containsExactly("Slipstream-Cache-Control");
    }
}
