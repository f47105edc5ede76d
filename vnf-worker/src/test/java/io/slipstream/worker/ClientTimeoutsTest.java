package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.CacheProxySettings;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ClientTimeoutsTest {

    private static WorkerCommand parse(String... args) {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void flags_absent_defaultToTenSecondHeadAndMinuteIdle() {
        WorkerCommand c = parse("--role", "cache", "--site", "a");
        assertThat(new ClientTimeouts(c.httpHeadTimeoutMillis, c.httpIdleTimeoutMillis)).isEqualTo(ClientTimeouts.DEFAULT);
    }

    @Test
    void flags_given_areParsed() {
        WorkerCommand c = parse("--role", "gateway", "--site", "a", "--http-head-timeout-ms", "2500",
                "--http-idle-timeout-ms", "5000");
        assertThat(new ClientTimeouts(c.httpHeadTimeoutMillis, c.httpIdleTimeoutMillis))
                .isEqualTo(new ClientTimeouts(2500, 5000));
    }

    @Test
    void values_outOfRange_areRefusedSayingWhatIsExpected() {
        assertThatThrownBy(() -> new ClientTimeouts(0, 1000)).hasMessage("head timeout: 0 ms (expected: 1..3600000)");
        assertThatThrownBy(() -> new ClientTimeouts(1000, -5)).hasMessage("idle timeout: -5 ms (expected: 1..3600000)");
        assertThatThrownBy(() -> CacheProxySettings.builder().clientTimeouts(-1, 1000))
                .hasMessageContaining("expected: 1..3600000 ms each, 0 for the default");
        assertThatThrownBy(() -> parse("--role", "cache", "--site", "a", "--http-head-timeout-ms", "soon"))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--http-head-timeout-ms");
    }
}
