package io.slipstream.controller.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
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
                .hasMessageContaining("$.policies[0].srcPrefixes[0]: '10.0.0.0/40' (expected: a prefix length 0..32)");
    }

    @Test
    void parse_emptyOrNotAnObject_isRejected() {
        assertThatThrownBy(() -> FleetPolicies.parse(" ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> FleetPolicies.parse("[1,2]")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parse_shortForms_meanTheCanonicalValues() {
        FleetPolicy p = FleetPolicies.parse("{\"policies\":[{\"name\":\"smb\",\"protocol\":\"tcp\","
                + "\"dst_ports\":[445,\"8000-8090\",{\"first\":9000,\"last\":9001}],\"chain\":\"cache+wanopt\"}],"
                + "\"compression\":{\"codec\":\"ZSTD\"},\"sites\":[{\"name\":\"b\",\"prefixes\":[\"198.19.0.0/16\"]}],"
                + "\"bucketCount\":1024}");
        assertThat(p.getPolicies(0).getChain()).isEqualTo(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT);
        assertThat(p.getPolicies(0).getProtocol()).isEqualTo(io.slipstream.proto.v1.Protocol.PROTOCOL_TCP);
        assertThat(p.getPolicies(0).getDstPortsList()).extracting(r -> r.getFirst() + "-" + r.getLast())
                .containsExactly("445-445", "8000-8090", "9000-9001");
        assertThat(p.getCompression().getCodec()).isEqualTo(io.slipstream.proto.v1.Codec.CODEC_ZSTD);
        assertThat(p.getSites(0).getPrefixes(0)).isEqualTo("198.19.0.0/16");
        assertThat(p.getBucketCount()).isEqualTo(1024);
    }

    @Test
    void parse_badValues_eachNamedByJsonPath() {
        String json = "{\"policies\":[{\"name\":\"a\",\"chain\":\"wanopt\"},{\"name\":7,\"chain\":\"teleport\","
                + "\"dstPorts\":[\"80-\",70000,\"90-80\"],\"protocol\":\"icmp\",\"srcPrefixes\":\"10.0.0.0/8\","
                + "\"color\":\"red\"}],\"bucketCount\":-4,\"compression\":[]}";
        assertThatThrownBy(() -> FleetPolicies.parse(json))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("$.policies[1].name: 7 (expected: a string)")
                .hasMessageContaining("$.policies[1].chain: \"teleport\" (expected: one of bypass, wanopt, cache, cache+wanopt)")
                .hasMessageContaining("$.policies[1].dstPorts[0]: \"80-\" (expected: a port 1..65535")
                .hasMessageContaining("$.policies[1].dstPorts[1]: 70000 (expected: ports 1..65535")
                .hasMessageContaining("$.policies[1].dstPorts[2]: \"90-80\" (expected: ports 1..65535, first <= last)")
                .hasMessageContaining("$.policies[1].protocol: \"icmp\" (expected: one of any, tcp, udp)")
                .hasMessageContaining("$.policies[1].srcPrefixes: \"10.0.0.0/8\" (expected: an array)")
                .hasMessageContaining("$.policies[1].color: unknown field (expected one of: name, srcPrefixes")
                .hasMessageContaining("$.bucketCount: -4 (expected: a whole number >= 0 up to 4294967295)")
                .hasMessageContaining("$.compression: an array (expected: an object with fields codec");
    }

    @Test
    void parse_semanticErrorsOfSitesAndBuckets_namedByJsonPath() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"sites\":[{\"name\":\"a\",\"prefixes\":[\"10.0.0.0/8\"]},"
                + "{\"name\":\"a\",\"prefixes\":[\"nope\"]}],\"bucketCount\":100}"))
                .hasMessageContaining("$.sites[1].name: 'a' (expected: unique")
                .hasMessageContaining("$.sites[1].prefixes[0]: 'nope'")
                .hasMessageContaining("$.bucketCount: 100 (expected: 0 for the default, or a power of two 1..65536)");
    }

    @Test
    void parse_malformedJson_saysWhere() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\n  \"policies\": [,]\n}"))
                .hasMessageContaining("line 2");
    }

    @Test
    void parse_peerUnavailable_shortFormsAndDefault() {
        FleetPolicy p = FleetPolicies.parse("{\"policies\":[{\"name\":\"bulk\",\"chain\":\"wanopt\","
                + "\"peerUnavailable\":\"bypass\"},{\"name\":\"strict\",\"chain\":\"wanopt\","
                + "\"peer_unavailable\":\"fail-fast\"},{\"name\":\"old\",\"chain\":\"wanopt\","
                + "\"peerUnavailable\":\"PEER_UNAVAILABLE_FAIL_FAST\"},{\"name\":\"plain\",\"chain\":\"wanopt\"}]}");
        assertThat(p.getPolicies(0).getPeerUnavailable()).isEqualTo(PeerUnavailable.PEER_UNAVAILABLE_BYPASS);
        assertThat(p.getPolicies(1).getPeerUnavailable()).isEqualTo(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST);
        assertThat(p.getPolicies(2).getPeerUnavailable()).isEqualTo(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST);
        assertThat(p.getPolicies(3).getPeerUnavailable()).isEqualTo(PeerUnavailable.PEER_UNAVAILABLE_UNSPECIFIED);
        assertThat(FleetPolicies.parse(FleetPolicies.toJson(p))).isEqualTo(p);
    }

    @Test
    void parse_unknownPeerUnavailable_namedByJsonPathWithTheChoices() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"a\",\"chain\":\"wanopt\"},"
                + "{\"name\":\"b\",\"chain\":\"wanopt\",\"peerUnavailable\":\"retry-forever\"}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("$.policies[1].peerUnavailable: \"retry-forever\" (expected: one of bypass, fail-fast)");
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"a\",\"chain\":\"wanopt\","
                + "\"peerUnavailable\":true}]}"))
                .hasMessageContaining("$.policies[0].peerUnavailable: true (expected: one of bypass, fail-fast)");
    }
}
