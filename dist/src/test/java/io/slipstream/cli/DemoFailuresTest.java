package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class DemoFailuresTest {

    private static ObjectNode clean() {
        return new ObjectMapper().createObjectNode().put("lost_bytes", 0).put("corrupted_bytes", 0)
                .put("http_failures_unexpected", 0).put("http_failures_in_kill_window", 12)
                .put("kill_window_seconds", 0.2).put("failover_data_plane_seconds", 0.1);
    }

    @Test
    void failures_cleanRun_withFailuresOnlyInTheKillWindow_isEmpty() {
        assertThat(DemoCommand.failures(clean())).isEmpty();
    }

    @Test
    void failures_eachKindOfLoss_isNamed() {
        assertThat(DemoCommand.failures(clean().put("lost_bytes", 16777216))).singleElement().asString()
                .contains("16777216 bulk bytes lost");
        assertThat(DemoCommand.failures(clean().put("corrupted_bytes", 3))).singleElement().asString()
                .contains("wrong digest");
        assertThat(DemoCommand.failures(clean().put("http_failures_unexpected", 1))).singleElement().asString()
                .contains("1 HTTP requests failed outside the kill window");
        assertThat(DemoCommand.failures(clean().put("kill_window_seconds", -1))).singleElement().asString()
                .contains("never got a steering table without the killed worker");
        assertThat(DemoCommand.failures(clean().put("failover_data_plane_seconds", -1))).singleElement().asString()
                .contains("no key the killed worker owned");
    }
}
