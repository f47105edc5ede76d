package io.slipstream.controller.scale.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Argument checks that need no API server (the behaviour against a real one: e2e KubernetesScaleTargetIT). */
class KubernetesScaleTargetTest {

    private final KubernetesClient client = new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:1").build()).build();

    @AfterEach
    void close() {
        client.close();
    }

    @Test
    void constructor_blankNamespace_rejected() {
        assertThatThrownBy(() -> new KubernetesScaleTarget(client, " ", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("namespace: ' ' (expected: a non-empty name)");
    }

    @Test
    void constructor_baseLabelsWithRole_rejectedBecauseTheTargetSetsIt() {
        assertThatThrownBy(() -> new KubernetesScaleTarget(client, "edge",
                Map.of(KubernetesScaleTarget.COMPONENT_LABEL, "wanopt")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: no 'app.kubernetes.io/component'");
    }

    @Test
    void scale_blankRoleOrNegativeCount_rejectedBeforeAnyCall() {
        KubernetesScaleTarget target = new KubernetesScaleTarget(client, "edge", Map.of());
        assertThatThrownBy(() -> target.replicas("", "a"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("role: '' (expected: a non-empty name)");
        assertThatThrownBy(() -> target.scale("wanopt", "a", -2, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("replicas: -2 (expected: >= 0)");
        assertThat(target.name()).isEqualTo("kubernetes");
        assertThat(target.namespace()).isEqualTo("edge");
    }

    @Test
    void victimCost_isTheLowestInt32() {
        assertThat(Integer.parseInt(KubernetesScaleTarget.VICTIM_COST)).isEqualTo(Integer.MIN_VALUE);
    }
}
