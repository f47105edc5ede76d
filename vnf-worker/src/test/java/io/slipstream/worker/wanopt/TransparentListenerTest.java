package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TransparentListenerTest {

    @Test
    void parse_portAtSite_bindsLoopback() {
        assertThat(TransparentListener.parse("9000@b")).isEqualTo(new TransparentListener("127.0.0.1", 9000, "b"));
    }

    @Test
    void parse_withBindHost() {
        assertThat(TransparentListener.parse("198.18.0.1:9000@site-b"))
                .isEqualTo(new TransparentListener("198.18.0.1", 9000, "site-b"));
        assertThat(TransparentListener.parse("[::1]:9000@b")).isEqualTo(new TransparentListener("::1", 9000, "b"));
        assertThat(TransparentListener.parse("[::1]:9000@b")).hasToString("[::1]:9000@b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"9000", "9000@", "@b", "x@b", ":9000@b", "70000@b", "h:@b"})
    void parse_rejectsMalformed(String text) {
        assertThatThrownBy(() -> TransparentListener.parse(text))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("transparent");
    }
}
