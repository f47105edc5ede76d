package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.common.HostPort;
import io.slipstream.worker.gateway.GatewayListener;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WorkerCommandGatewayOptionsTest {

    private static WorkerCommand parse(String... args) {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void listenOptions_goodValues_areParsed() {
        WorkerCommand c = parse("--role", "gateway", "--site", "a", "--listen", "8080=198.18.2.10:80",
                "--listen", "0.0.0.0:8443=198.18.2.10:443", "--listen-transparent", "9000");
        assertThat(c.listen).containsExactly(GatewayListener.vip("127.0.0.1", 8080, HostPort.of("198.18.2.10", 80)),
                GatewayListener.vip("0.0.0.0", 8443, HostPort.of("198.18.2.10", 443)));
        assertThat(c.listenTransparent).containsExactly(GatewayListener.transparent("127.0.0.1", 9000));
    }

    @Test
    void listen_badValue_isAPicocliErrorSayingWhatIsExpected() {
        assertThatThrownBy(() -> parse("--role", "gateway", "--site", "a", "--listen", "8080"))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--listen")
                .hasMessageContaining("expected: [BIND_HOST:]PORT=HOST:PORT");
        assertThatThrownBy(() -> parse("--role", "gateway", "--site", "a", "--listen", "99999=1.2.3.4:80"))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("listen port: 99999 (expected: 0..65535");
    }

    @Test
    void listenTransparent_badValue_isAPicocliErrorSayingWhatIsExpected() {
        assertThatThrownBy(() -> parse("--role", "gateway", "--site", "a", "--listen-transparent", "nine"))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--listen-transparent")
                .hasMessageContaining("expected: [BIND_HOST:]PORT");
    }

    @Test
    void settings_listenersOnAnotherRole_areRefused() {
        assertThatThrownBy(() -> parse("--role", "wanopt", "--site", "a", "--insecure-plaintext",
                "--listen-transparent", "9000").settings())
                .hasMessageContaining("--listen and --listen-transparent are for the gateway role");
    }

    @Test
    void settings_steeredPortOnAnotherRole_orOutOfRange_isRefused() {
        assertThatThrownBy(() -> parse("--role", "gateway", "--site", "a", "--insecure-plaintext",
                "--steered-port", "7100").settings())
                .hasMessageContaining("--steered-port is for the wanopt role");
        assertThatThrownBy(() -> parse("--role", "wanopt", "--site", "a", "--insecure-plaintext",
                "--steered-port", "70000").settings())
                .hasMessageContaining("steered port: 70000 (expected: 0..65535");
        assertThat(((WanOptRoleSettings) parse("--role", "wanopt", "--site", "a", "--insecure-plaintext",
                "--steered-port", "0").settings().roleSettings()).steeredPort()).isZero();
        assertThatThrownBy(() -> WanOptRoleSettings.defaults().withSteeredPort(70000))
                .hasMessageContaining("steered port: 70000 (expected: 0..65535");
    }
}
