package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.Role;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command builds the shared settings and the role's own, and refuses another role's options by name. */
class WorkerCommandRoleOptionsTest {

    private static WorkerSettings settings(String... args) {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    @Test
    void settings_eachRole_getsItsOwnRoleSettings() {
        WorkerSettings wanopt = settings("--role", "wanopt", "--site", "a", "--id", "w1", "--insecure-plaintext",
                "--forward", "9445=198.18.2.10:445@b", "--data-port", "7002", "--data-advertise", "198.18.0.9:7002");
        assertThat(wanopt.role()).isEqualTo(Role.ROLE_WANOPT);
        assertThat(wanopt.dataPort()).isEqualTo(7002);
        WanOptRoleSettings wan = (WanOptRoleSettings) wanopt.roleSettings();
        assertThat(wan.forwards()).hasSize(1);
        assertThat(wan.dataAdvertise()).isEqualTo("198.18.0.9:7002");
        assertThat(wanopt.roleSettings().dataPlane(wanopt)).isInstanceOf(WanOptDataPlane.class);

        WorkerSettings cache = settings("--role", "cache", "--site", "a", "--insecure-plaintext",
                "--origin", "http://127.0.0.1:8081", "--cache-admin-token", " ");
        CacheRoleSettings proxy = (CacheRoleSettings) cache.roleSettings();
        assertThat(proxy.origin()).isEqualTo("http://127.0.0.1:8081");
        assertThat(proxy.adminToken()).isNull();
        assertThat(cache.roleSettings().dataPlane(cache)).isInstanceOf(CacheDataPlane.class);

        WorkerSettings gateway = settings("--role", "gateway", "--site", "a", "--insecure-plaintext",
                "--listen", "8080=198.18.2.10:80", "--http-head-timeout-ms", "500");
        GatewayRoleSettings gw = (GatewayRoleSettings) gateway.roleSettings();
        assertThat(gw.listeners()).hasSize(1);
        assertThat(gw.clientTimeouts().headMillis()).isEqualTo(500);
        assertThat(gateway.roleSettings().dataPlane(gateway)).isInstanceOf(GatewayDataPlane.class);
    }

    @Test
    void settings_wanoptOptionsOnAnotherRole_areRefused() {
        assertThatThrownBy(() -> settings("--role", "cache", "--site", "a", "--insecure-plaintext",
                "--forward", "9445=198.18.2.10:445@b"))
                .hasMessageContaining("(expected: none, they are for the wanopt role)")
                .hasMessageStartingWith("forwards: ");
        assertThatThrownBy(() -> settings("--role", "gateway", "--site", "a", "--insecure-plaintext",
                "--transparent", "9000@b"))
                .hasMessageContaining("(expected: none, they are for the wanopt role)")
                .hasMessageStartingWith("transparent: ");
    }

    @Test
    void settings_originOnAnotherRole_isRefused() {
        assertThatThrownBy(() -> settings("--role", "wanopt", "--site", "a", "--insecure-plaintext",
                "--origin", "http://127.0.0.1:8081"))
                .hasMessage("origin: http://127.0.0.1:8081 (expected: none, it is for the cache role)");
    }

    @Test
    void settings_anotherRolesOptionValues_areStillChecked() {
        assertThatThrownBy(() -> settings("--role", "cache", "--site", "a", "--insecure-plaintext",
                "--data-advertise", "nowhere"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> settings("--role", "wanopt", "--site", "a", "--insecure-plaintext",
                "--cache-targets", "Bad Name"))
                .hasMessageContaining("cache target: 'Bad Name'");
        assertThatThrownBy(() -> settings("--role", "gateway", "--site", "a", "--insecure-plaintext",
                "--data-port", "70000"))
                .hasMessage("data port: 70000 (expected: 0..65535, 0 for any free port)");
    }

    @Test
    void settings_badIdOrSite_isRefusedSayingWhatIsExpected() {
        assertThatThrownBy(() -> settings("--role", "wanopt", "--site", "a b", "--id", "w1", "--insecure-plaintext"))
                .hasMessage("site: 'a b' (expected: 1-64 letters, digits, '.', '_' or '-')");
        assertThatThrownBy(() -> settings("--role", "wanopt", "--site", "a", "--id", "w/1", "--insecure-plaintext"))
                .hasMessage("id: 'w/1' (expected: 1-64 letters, digits, '.', '_' or '-')");
        assertThatThrownBy(() -> settings("--role", "router", "--site", "a", "--insecure-plaintext"))
                .hasMessage("role: 'router' (expected: wanopt, cache or gateway)");
    }
}
