package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.contract.steering.ProxyTlv;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChainRoutesTest {

    private static final List<Site> SITES = List.of(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24").build(),
            Site.newBuilder().setName("b").addPrefixes("198.18.2.0/24").build());

    private static FlowPolicy policy(String name, ServiceChain chain, PeerUnavailable whenNoHop) {
        return FlowPolicy.newBuilder().setName(name).setChain(chain).addSrcPrefixes("10.0.0.0/8")
                .addDstPorts(PortRange.newBuilder().setFirst(80).setLast(80)).setPeerUnavailable(whenNoHop).build();
    }

    private static Peer hop(String id, int port) {
        return Peer.newBuilder().setWorkerId(id).setSite("a").setWeight(1).setDataEndpoint("198.18.1.5:" + port).build();
    }

    private static WorkerConfig config(FlowPolicy policy, Peer... hops) {
        SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy(policy.getName()).setSite("a")
                .setChain(policy.getChain());
        for (Peer p : hops) {
            entry.addMembers(p);
        }
        for (int b = 0; b < 4 && hops.length > 0; b++) {
            entry.addOwners(b % hops.length);
        }
        return WorkerConfig.newBuilder().setRole(Role.ROLE_CACHE).setSite("a").addPolicies(policy).addAllSites(SITES)
                .setChain(SteeringTable.newBuilder().setBucketCount(4).addEntries(entry)).build();
    }

    private static final FlowPolicy CHAIN = policy("web-b", ServiceChain.SERVICE_CHAIN_CACHE_WANOPT,
            PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST);

    @Test
    void originAtAnotherSite_coveredByTheChain_goesThroughTheOwnerOfItsBucket_thenTheOthers() {
        ChainRoutes routes = ChainRoutes.of(config(CHAIN, hop("w1", 1), hop("w2", 2), hop("w3", 3)));
        HostPort origin = HostPort.of("198.18.2.10", 80);

        ChainRoutes.Route route = routes.route(origin);

        assertThat(route).isInstanceOf(ChainRoutes.Tunnel.class);
        ChainRoutes.Tunnel tunnel = (ChainRoutes.Tunnel) route;
        assertThat(tunnel.policy()).isEqualTo("web-b");
        assertThat(tunnel.site()).isEqualTo("b");
        assertThat(tunnel.origin()).isEqualTo(new InetSocketAddress("198.18.2.10", 80));
        int owner = FlowHash.bucket("198.18.2.10:80", 4) % 3; // owners are b % 3 in this table
        assertThat(tunnel.hops()).hasSize(3).first().isEqualTo(HostPort.of("198.18.1.5", 1 + owner));
        assertThat(tunnel.hops()).containsExactlyInAnyOrder(HostPort.of("198.18.1.5", 1), HostPort.of("198.18.1.5", 2),
                HostPort.of("198.18.1.5", 3));
        assertThat(tunnel.bypassWhenNoHop()).isFalse();
        assertThat(routes.route(origin)).as("stable").isEqualTo(route);
    }

    @Test
    void originAtOwnSite_inNoSite_otherPort_orNoChainPolicy_isDirect() {
        ChainRoutes routes = ChainRoutes.of(config(CHAIN, hop("w1", 1)));
        assertThat(routes.route(HostPort.of("198.18.1.10", 80))).isEqualTo(new ChainRoutes.Direct(false, null));
        assertThat(routes.route(HostPort.of("203.0.113.7", 80))).isEqualTo(new ChainRoutes.Direct(false, null));
        assertThat(routes.route(HostPort.of("198.18.2.10", 8080))).isEqualTo(new ChainRoutes.Direct(false, null));

        FlowPolicy cacheOnly = policy("web", ServiceChain.SERVICE_CHAIN_CACHE, PeerUnavailable.PEER_UNAVAILABLE_BYPASS);
        ChainRoutes none = ChainRoutes.of(config(cacheOnly, hop("w1", 1)));
        assertThat(none.any()).isFalse();
        assertThat(none.route(HostPort.of("198.18.2.10", 80))).isEqualTo(new ChainRoutes.Direct(false, null));
        assertThat(ChainRoutes.NONE.route(HostPort.of("198.18.2.10", 80))).isInstanceOf(ChainRoutes.Direct.class);
    }

    @Test
    void chainPolicyOfAnotherIngressSite_doesNotApply() {
        FlowPolicy elsewhere = CHAIN.toBuilder().setIngressSite("b").build();
        assertThat(ChainRoutes.of(config(elsewhere, hop("w1", 1))).any()).isFalse();
    }

    @Test
    void noHop_failFast_refusedWithTheReason_bypass_directAndMarked() {
        ChainRoutes.Route refused = ChainRoutes.of(config(CHAIN)).route(HostPort.of("198.18.2.10", 80));
        assertThat(refused).isEqualTo(new ChainRoutes.Refused("web-b",
                "no wanopt worker at site a for policy web-b (chain cache+wanopt, peerUnavailable fail-fast)"));

        FlowPolicy bypass = CHAIN.toBuilder().setPeerUnavailable(PeerUnavailable.PEER_UNAVAILABLE_BYPASS).build();
        assertThat(ChainRoutes.of(config(bypass)).route(HostPort.of("198.18.2.10", 80)))
                .isEqualTo(new ChainRoutes.Direct(true, "web-b"));
        assertThat(((ChainRoutes.Tunnel) ChainRoutes.of(config(bypass, hop("w1", 1)))
                .route(HostPort.of("198.18.2.10", 80))).bypassWhenNoHop()).isTrue();
    }

    @Test
    void unresolvableName_isDirect_theConnectionReportsIt() {
        ChainRoutes routes = ChainRoutes.of(config(CHAIN, hop("w1", 1)));
        assertThat(routes.route(HostPort.of("no-such-host.invalid", 80))).isInstanceOf(ChainRoutes.Direct.class);
    }

    @Test
    void proxyHeader_namesTheOriginAndThePolicy_sourceFamilyFollowsTheOrigin() {
        HAProxyMessage v4 = OriginPool.proxyHeader(new InetSocketAddress("127.0.0.1", 5000),
                new InetSocketAddress("198.18.2.10", 80), "web-b");
        try {
            assertThat(v4.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
            assertThat(v4.sourceAddress() + ":" + v4.sourcePort()).isEqualTo("127.0.0.1:5000");
            assertThat(v4.destinationAddress() + ":" + v4.destinationPort()).isEqualTo("198.18.2.10:80");
            assertThat(v4.tlvs()).singleElement().satisfies(t -> {
                assertThat(t.typeByteValue()).isEqualTo(ProxyTlv.POLICY);
                assertThat(t.content().toString(StandardCharsets.UTF_8)).isEqualTo("web-b");
            });
        } finally {
            v4.release();
        }
        HAProxyMessage v6 = OriginPool.proxyHeader(new InetSocketAddress("127.0.0.1", 5000),
                new InetSocketAddress("2001:db8::10", 80), "p".repeat(300));
        try {
            assertThat(v6.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
            assertThat(v6.sourceAddress()).isEqualTo("::");
            assertThat(v6.tlvs()).as("a name too long for the TLV is left out").isEmpty();
        } finally {
            v6.release();
        }
    }
}
