package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.proto.v1.FleetPolicy;
import org.junit.jupiter.api.Test;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.net.DeviceId;

class SlipstreamConfigTest {

    private final ObjectMapper mapper = new ObjectMapper();

    private SlipstreamConfig config(String json) throws Exception {
        JsonNode node = mapper.readTree(json);
        SlipstreamConfig config = new SlipstreamConfig();
        config.init(new DefaultApplicationId(7, SlipstreamManager.APP_NAME), SlipstreamConfig.KEY, node, mapper,
                c -> { });
        return config;
    }

    @Test
    void valid_allFields_readBack() throws Exception {
        SlipstreamConfig c = config("{\"zookeeper\":\"zk:2181\",\"edgeDevices\":[{\"device\":\"of:0000000000000001\","
                + "\"site\":\"a\"}],\"policy\":{\"policies\":[{\"name\":\"web\",\"dstPorts\":[{\"first\":80,\"last\":80}],"
                + "\"chain\":\"SERVICE_CHAIN_CACHE\"}],\"sites\":[{\"name\":\"a\",\"prefixes\":[\"198.18.1.0/24\"]}]}}");

        assertThat(c.errors()).isEmpty();
        assertThat(c.isValid()).isTrue();
        assertThat(c.zookeeper()).isEqualTo("zk:2181");
        assertThat(c.edgeDevices()).containsEntry(DeviceId.deviceId("of:0000000000000001"), "a");
        assertThat(c.policy().getPolicies(0).getName()).isEqualTo("web");
    }

    @Test
    void tls_directoryOrExplicitPlaintext_readBackAndBothAtOnceRefused() throws Exception {
        SlipstreamConfig tls = config("{\"tlsDir\":\"/etc/slipstream/tls\"}");
        assertThat(tls.errors()).isEmpty();
        assertThat(tls.tlsDir()).isEqualTo("/etc/slipstream/tls");
        assertThat(tls.insecurePlaintext()).isFalse();
        assertThat(config("{\"insecurePlaintext\":true}").insecurePlaintext()).isTrue();

        SlipstreamConfig both = config("{\"tlsDir\":\"/t\",\"insecurePlaintext\":true}");
        assertThat(both.errors()).containsExactly(
                "slipstream.insecurePlaintext: true with tlsDir (expected: one or the other)");
        assertThat(config("{\"tlsDir\":7,\"insecurePlaintext\":\"yes\"}").errors())
                .anyMatch(e -> e.startsWith("slipstream.tlsDir: 7 (expected: a directory path"))
                .anyMatch(e -> e.startsWith("slipstream.insecurePlaintext: \"yes\" (expected: true or false)"));
    }

    @Test
    void empty_isValidAndSetsNothing() throws Exception {
        SlipstreamConfig c = config("{}");

        assertThat(c.isValid()).isTrue();
        assertThat(c.zookeeper()).isNull();
        assertThat(c.policy()).isNull();
        assertThat(c.edgeDevices()).isEmpty();
    }

    @Test
    void invalid_everyProblemNamedByJsonPath() throws Exception {
        SlipstreamConfig c = config("{\"zookeper\":\"x\",\"zookeeper\":5,"
                + "\"edgeDevices\":[{\"device\":\"not a device\",\"site\":\"a\"},{\"device\":\"of:1\"},"
                + "{\"device\":\"of:1\",\"site\":\"c\",\"port\":3}, 7],"
                + "\"policy\":{\"policies\":[{\"name\":\"x\",\"chain\":\"SERVICE_CHAIN_WANOPT\","
                + "\"srcPrefixes\":[\"10.0.0.0/40\"]}],\"sites\":[{\"name\":\"a\",\"prefixes\":[\"198.18.1.0/24\"]}]}}");

        assertThat(c.isValid()).isFalse();
        assertThat(c.errors()).anyMatch(e -> e.startsWith("slipstream.zookeper: unknown field"))
                .anyMatch(e -> e.startsWith("slipstream.zookeeper: 5 (expected: a connect string"))
                .anyMatch(e -> e.startsWith("slipstream.edgeDevices[0].device: \"not a device\" (expected: an ONOS device id"))
                .anyMatch(e -> e.startsWith("slipstream.edgeDevices[1].site: null"))
                .anyMatch(e -> e.startsWith("slipstream.edgeDevices[2].device: \"of:1\" listed twice"))
                .anyMatch(e -> e.startsWith("slipstream.edgeDevices[2].port: unknown field"))
                .anyMatch(e -> e.startsWith("slipstream.edgeDevices[3]: 7"))
                .anyMatch(e -> e.startsWith("slipstream.policy.policies[0].srcPrefixes[0]: '10.0.0.0/40'"));
    }

    @Test
    void invalid_siteNotAmongPolicySites_named() throws Exception {
        SlipstreamConfig c = config("{\"edgeDevices\":[{\"device\":\"of:1\",\"site\":\"c\"}],"
                + "\"policy\":{\"sites\":[{\"name\":\"a\",\"prefixes\":[\"198.18.1.0/24\"]}]}}");

        assertThat(c.errors()).containsExactly(
                "slipstream.edgeDevices[0].site: \"c\" (expected: one of the policy's sites [a])");
    }

    @Test
    void invalid_notAnObjectOrBadPolicyJson_named() throws Exception {
        assertThat(config("[1]").errors()).containsExactly("slipstream: array (expected: a JSON object)");
        assertThat(config("{\"policy\":{\"polices\":[]}}").errors())
                .containsExactly("slipstream.policy.polices: unknown field (expected one of: policies, compression, cache,"
                        + " sites, bucketCount)");
        assertThat(config("{\"policy\":[]}").errors())
                .containsExactly("slipstream.policy: array (expected: a fleet policy object)");
    }

    @Test
    void withPolicy_existingConfig_replacesThePolicyAndKeepsEveryOtherField() throws Exception {
        SlipstreamConfig current = config("{\"zookeeper\":\"zk:2181\",\"edgeDevices\":[{\"device\":"
                + "\"of:0000000000000001\",\"site\":\"a\"}],\"policy\":{\"bucketCount\":64}}");
        FleetPolicy next = FleetPolicies.parse("{\"bucketCount\":128}");

        ObjectNode tree = SlipstreamConfig.withPolicy(current, next);

        assertThat(tree.get("zookeeper").asText()).isEqualTo("zk:2181");
        assertThat(tree.get("edgeDevices")).isEqualTo(current.node().get("edgeDevices"));
        assertThat(FleetPolicies.parse(mapper.writeValueAsString(tree.get("policy")))).isEqualTo(next);
        assertThat(current.node().get("policy").get("bucketCount").asInt()).isEqualTo(64);
    }

    @Test
    void withPolicy_noConfig_onlyThePolicy() throws Exception {
        FleetPolicy next = FleetPolicies.parse("{\"bucketCount\":128}");

        ObjectNode tree = SlipstreamConfig.withPolicy(null, next);

        assertThat(tree.size()).isEqualTo(1);
        assertThat(config(mapper.writeValueAsString(tree)).policy()).isEqualTo(next);
    }
}
