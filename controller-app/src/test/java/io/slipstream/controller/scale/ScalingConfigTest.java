package io.slipstream.controller.scale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScalingConfigTest {

    @Test
    void parse_fullSection_readsEveryField() {
        ScalingConfig c = ScalingConfig.parse("{\"scaling\": {\"enabled\": true, \"intervalMillis\": 250, "
                + "\"target\": \"kubernetes\", \"rules\": [{\"role\": \"wanopt\", \"site\": \"a\", \"minReplicas\": 2,"
                + " \"maxReplicas\": 8, \"targetUtilisation\": 0.6, \"tolerance\": 0.05, \"scaleOutWindowSeconds\": 1.5,"
                + " \"scaleInWindowSeconds\": 45, \"maxStep\": 3, \"cpuPerWorker\": 0.5, \"flowsPerWorker\": 200,"
                + " \"queueLimit\": 32, \"drainTimeoutSeconds\": 20}]}}");
        assertThat(c.enabled()).isTrue();
        assertThat(c.interval()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.target()).isEqualTo("kubernetes");
        ScalingRule r = c.rules().get(0);
        assertThat(r.role()).isEqualTo("wanopt");
        assertThat(r.minReplicas()).isEqualTo(2);
        assertThat(r.maxReplicas()).isEqualTo(8);
        assertThat(r.targetUtilisation()).isEqualTo(0.6);
        assertThat(r.tolerance()).isEqualTo(0.05);
        assertThat(r.scaleOutWindow()).isEqualTo(Duration.ofMillis(1500));
        assertThat(r.scaleInWindow()).isEqualTo(Duration.ofSeconds(45));
        assertThat(r.maxStep()).isEqualTo(3);
        assertThat(r.cpuPerWorker()).isEqualTo(0.5);
        assertThat(r.flowsPerWorker()).isEqualTo(200);
        assertThat(r.queueLimit()).isEqualTo(32);
        assertThat(r.drainTimeout()).isEqualTo(Duration.ofSeconds(20));
    }

    @Test
    void parse_noSection_isDisabled() {
        assertThat(ScalingConfig.parse("{}").enabled()).isFalse();
    }

    @Test
    void parse_badFields_everyErrorNamesItsPath() {
        assertThatThrownBy(() -> ScalingConfig.parse("{\"scaling\": {\"target\": \"mesos\", \"intervalMillis\": 5,"
                + " \"rules\": [{\"role\": \"firewall\", \"site\": \"a\"}, {\"role\": \"cache\", \"site\": \"a\","
                + " \"minReplicas\": 4, \"maxReplicas\": 2, \"targetUtilisation\": 1.5, \"maxStep\": \"two\","
                + " \"scaleInWindow\": 30}]}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("scaling.target: 'mesos' (expected: one of [local, kubernetes])")
                .hasMessageContaining("scaling.intervalMillis: 5 (expected: a whole number 50..60000)")
                .hasMessageContaining("scaling.rules[0].role: 'firewall' (expected: wanopt, cache or gateway)")
                .hasMessageContaining("scaling.rules[1].maxReplicas: 2 (expected: >= 1 and >= minReplicas 4)")
                .hasMessageContaining("scaling.rules[1].targetUtilisation: 1.5 (expected: > 0 and <= 1)")
                .hasMessageContaining("scaling.rules[1].maxStep: \"two\" (expected: a number)")
                .hasMessageContaining("scaling.rules[1].scaleInWindow: unknown field");
    }

    @Test
    void parse_duplicateRuleAndNotJson_areRejected() {
        assertThatThrownBy(() -> ScalingConfig.parse("{\"scaling\": {\"rules\": [{\"role\": \"cache\", \"site\": \"a\"},"
                + " {\"role\": \"cache\", \"site\": \"a\"}]}}"))
                .hasMessageContaining("scaling.rules[1]: a second rule for cache at site a");
        assertThatThrownBy(() -> ScalingConfig.parse("{\"scaling\": ")).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> ScalingConfig.parse("{\"scaling\": {}}"))
                .hasMessageContaining("scaling.rules: null (expected: an array of rules");
        assertThatThrownBy(() -> ScalingConfig.parse("{\"scaling\": {\"rules\": [{\"role\": \"cache\", \"site\": \"a\","
                + " \"scaleOutWindowSeconds\": -1}]}}"))
                .hasMessageContaining("scaling.rules[0].scaleOutWindowSeconds: -1.0 (expected: seconds, 0..86400)");
    }
}
