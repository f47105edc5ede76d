package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The issue 23 settings refuse bad input with what was expected. */
class ControllerSettingsTest {

    @Test
    void name_badValues_refusedWithExpectation() {
        ControllerSettings.Builder b = ControllerSettings.builder("127.0.0.1:2181");
        assertThatThrownBy(() -> b.name("two words")).hasMessageContaining("'two words'")
                .hasMessageContaining("expected: letters, digits");
        assertThatThrownBy(() -> b.name("")).hasMessageContaining("expected");
        assertThatThrownBy(() -> b.name(null)).hasMessageContaining("expected");
    }

    @Test
    void advertisedUrl_badValues_refusedWithExpectation() {
        ControllerSettings.Builder b = ControllerSettings.builder("127.0.0.1:2181");
        assertThatThrownBy(() -> b.advertisedUrl("10.0.0.5:8080")).hasMessageContaining("expected: http://host:port");
        assertThatThrownBy(() -> b.advertisedUrl("http://10.0.0.5:8080/api")).hasMessageContaining("no path");
        b.advertisedUrl("http://10.0.0.5:8080");
    }

    @Test
    void zkSessionTimeout_outOfRange_refused() {
        assertThatThrownBy(() -> ControllerSettings.builder("127.0.0.1:2181").zkSessionTimeoutMillis(500))
                .hasMessageContaining("500 ms (expected: 1000..600000)");
    }
}
