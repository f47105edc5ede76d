package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.steering.FlowKey;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerFallbackTest {

    private static FlowPolicy policy(String name, int port, PeerUnavailable choice) {
        return FlowPolicy.newBuilder().setName(name).setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                .addDstPorts(PortRange.newBuilder().setFirst(port).setLast(port)).setPeerUnavailable(choice).build();
    }

    private static FlowKey flow(int dstPort) throws Exception {
        return FlowKey.tcp(InetAddress.getByName("198.18.0.1"), 40000, InetAddress.getByName("198.19.0.1"), dstPort,
                "a");
    }

    private final PeerFallback fallback = PeerFallback.of(List.of(
            policy("bulk", 445, PeerUnavailable.PEER_UNAVAILABLE_BYPASS),
            policy("strict", 22, PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST),
            policy("plain", 80, PeerUnavailable.PEER_UNAVAILABLE_UNSPECIFIED),
            policy("shadowed", 445, PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST)));

    @Test
    void decide_bypassPolicy_bypasses() throws Exception {
        assertThat(fallback.decide(flow(445))).isEqualTo(PeerFallback.Action.BYPASS);
    }

    @Test
    void decide_failFastPolicy_failsFast() throws Exception {
        assertThat(fallback.decide(flow(22))).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void decide_unspecified_failsFastAsBefore() throws Exception {
        assertThat(fallback.decide(flow(80))).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void decide_noMatchingPolicy_failsFast() throws Exception {
        assertThat(fallback.decide(flow(8080))).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void decide_unclassifiableFlow_failsFast() {
        assertThat(fallback.decide(null)).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void decide_beforeAnyConfiguration_failsFast() throws Exception {
        assertThat(PeerFallback.NONE.decide(flow(445))).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void decide_firstMatchWins() throws Exception {
        PeerFallback reversed = PeerFallback.of(List.of(
                policy("shadowed", 445, PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST),
                policy("bulk", 445, PeerUnavailable.PEER_UNAVAILABLE_BYPASS)));
        assertThat(reversed.decide(flow(445))).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void action_unrecognizedValue_failsFast() {
        assertThat(PeerFallback.action(PeerUnavailable.UNRECOGNIZED)).isEqualTo(PeerFallback.Action.FAIL_FAST);
    }

    @Test
    void policyOf_firstMatchingPolicysName_emptyWithoutMatchOrFlow() throws Exception {
        assertThat(fallback.policyOf(flow(445))).isEqualTo("bulk");
        assertThat(fallback.policyOf(flow(22))).isEqualTo("strict");
        assertThat(fallback.policyOf(flow(9999))).isEmpty();
        assertThat(fallback.policyOf(null)).isEmpty();
        assertThat(PeerFallback.NONE.policyOf(flow(445))).isEmpty();
    }

    @Test
    void policyOf_nameLongerThanAnOpenFrameHolds_empty() throws Exception {
        PeerFallback longName = PeerFallback.of(List.of(policy("p".repeat(256), 445,
                PeerUnavailable.PEER_UNAVAILABLE_BYPASS)));
        assertThat(longName.policyOf(flow(445))).isEmpty();
    }

    @Test
    void namedCacheWanoptPolicy_winsOverClassification_otherNamesIgnored() throws Exception {
        FlowPolicy chained = FlowPolicy.newBuilder().setName("web-b").setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT)
                .addSrcPrefixes("10.1.0.0/16") // clients; a cache's miss comes from the cache
                .setPeerUnavailable(PeerUnavailable.PEER_UNAVAILABLE_BYPASS).build();
        PeerFallback withChain = PeerFallback.of(List.of(policy("strict", 80, PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST),
                chained));

        assertThat(withChain.decide(flow(80), "web-b")).isEqualTo(PeerFallback.Action.BYPASS);
        assertThat(withChain.policyOf(flow(80), "web-b")).isEqualTo("web-b");
        // A name that is no cache+wanopt policy (or none) falls back to classifying the flow
        assertThat(withChain.decide(flow(80), "strict")).isEqualTo(PeerFallback.Action.FAIL_FAST);
        assertThat(withChain.policyOf(flow(80), "nosuch")).isEqualTo("strict");
        assertThat(withChain.policyOf(flow(80), "")).isEqualTo("strict");
        assertThat(withChain.decide(null, "web-b")).isEqualTo(PeerFallback.Action.BYPASS);
    }
}
