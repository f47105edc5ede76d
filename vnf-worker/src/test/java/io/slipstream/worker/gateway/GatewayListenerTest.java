package io.slipstream.worker.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.common.HostPort;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GatewayListenerTest {

    @Test
    void parseVip_portOnly_bindsLoopback() {
        GatewayListener l = GatewayListener.parseVip("8080=198.18.2.10:80");
        assertThat(l.bindHost()).isEqualTo("127.0.0.1");
        assertThat(l.port()).isEqualTo(8080);
        assertThat(l.destination()).isEqualTo(HostPort.of("198.18.2.10", 80));
        assertThat(l.isTransparent()).isFalse();
    }

    @Test
    void parseVip_withBindHost_bindsThere() {
        GatewayListener l = GatewayListener.parseVip("0.0.0.0:8080=origin:80");
        assertThat(l.bindHost()).isEqualTo("0.0.0.0");
        assertThat(l.destination()).isEqualTo(HostPort.of("origin", 80));
    }

    @Test
    void parseTransparent_bindHostAndPort() {
        assertThat(GatewayListener.parseTransparent("9000")).isEqualTo(GatewayListener.transparent("127.0.0.1", 9000));
        assertThat(GatewayListener.parseTransparent("[::1]:9000")).isEqualTo(GatewayListener.transparent("::1", 9000));
        assertThat(GatewayListener.parseTransparent("9000").isTransparent()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "8080", "=1.2.3.4:80", "8080=", "x=1.2.3.4:80", "8080=1.2.3.4", "70000=1.2.3.4:80",
        "8080=1.2.3.4:0", ":8080=1.2.3.4:80", "8080=1.2.3.4:http"})
    void parseVip_badValue_namesTheOptionAndTheExpectedForm(String text) {
        assertThatThrownBy(() -> GatewayListener.parseVip(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("listen");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "x", "-1", "65536", "1.2.3.4:", ":9000", "9000=1.2.3.4:80"})
    void parseTransparent_badValue_namesTheOptionAndTheExpectedForm(String text) {
        assertThatThrownBy(() -> GatewayListener.parseTransparent(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("listen-transparent");
    }
}
