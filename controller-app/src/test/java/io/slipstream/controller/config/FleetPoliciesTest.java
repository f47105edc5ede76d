package io.slipstream.controller.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.ServiceChain;
import org.junit.jupiter.api.Test;

class FleetPoliciesTest {

    @Test
    void parse_validJson_roundTrips() {
        FleetPolicy p = FleetPolicies.parse("{\"policies\":[{\"name\":\"web\",\"dstPorts\":[{\"first\":80,\"last\":80}],"
                + "\"chain\":\"SERVICE_CHAIN_CACHE\"}],\"compression\":{\"codec\":\"CODEC_LZ4\",\"level\":1}}");
        assertThat(p.getPolicies(0).getChain()).isEqualTo(ServiceChain.SERVICE_CHAIN_CACHE);
        assertThat(FleetPolicies.parse(FleetPolicies.toJson(p))).isEqualTo(p);
    }

    @Test
    void parse_malformedJson_saysSo() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\": [")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("fleet policy:");
    }

    @Test
    void parse_unknownField_namesIt() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"polices\": []}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("polices");
    }

    @Test
    void parse_unknownEnumValue_namesIt() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"x\",\"chain\":\"SERVICE_CHAIN_TELEPORT\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SERVICE_CHAIN_TELEPORT");
    }

    @Test
    void parse_semanticError_namesFieldPath() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"x\",\"chain\":\"SERVICE_CHAIN_WANOPT\","
                + "\"srcPrefixes\":[\"10.0.0.0/40\"]}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policies[0].src_prefixes[0]: '10.0.0.0/40'");
    }

    @Test
    void parse_emptyOrNotAnObject_isRejected() {
        assertThatThrownBy(() -> FleetPolicies.parse(" ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> FleetPolicies.parse("[1,2]")).isInstanceOf(IllegalArgumentException.class);
    }
}
