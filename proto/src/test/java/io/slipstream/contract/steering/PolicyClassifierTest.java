package io.slipstream.contract.steering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Protocol;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyClassifierTest {

    private static final FlowPolicy SMB = FlowPolicy.newBuilder().setName("smb")
            .addSrcPrefixes("10.1.0.0/16").setProtocol(Protocol.PROTOCOL_TCP)
            .addDstPorts(PortRange.newBuilder().setFirst(445).setLast(445))
            .setChain(ServiceChain.SERVICE_CHAIN_WANOPT).build();
    private static final FlowPolicy WEB = FlowPolicy.newBuilder().setName("web")
            .addDstPorts(PortRange.newBuilder().setFirst(80).setLast(80))
            .addDstPorts(PortRange.newBuilder().setFirst(8080).setLast(8090))
            .setIngressSite("a").setChain(ServiceChain.SERVICE_CHAIN_CACHE).build();
    private static final FlowPolicy V6 = FlowPolicy.newBuilder().setName("v6")
            .addDstPrefixes("2001:db8::/32").setChain(ServiceChain.SERVICE_CHAIN_BYPASS).build();

    private final PolicyClassifier classifier = PolicyClassifier.of(List.of(SMB, WEB, V6));

    private static FlowKey flow(String src, String dst, int port, int protocol, String site) throws Exception {
        return new FlowKey(InetAddress.getByName(src), 40000, InetAddress.getByName(dst), port, protocol, site);
    }

    @Test
    void classify_firstMatchWins() throws Exception {
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 445, FlowKey.TCP, "a"))).contains(SMB);
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 8085, FlowKey.TCP, "a"))).contains(WEB);
        assertThat(classifier.classify(flow("2001:db8:1::1", "2001:db8::5", 22, FlowKey.TCP, "b"))).contains(V6);
    }

    @Test
    void classify_eachFieldCanExclude() throws Exception {
        assertThat(classifier.classify(flow("10.3.2.3", "10.2.0.1", 445, FlowKey.TCP, "a"))).isEmpty(); // source
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 445, FlowKey.UDP, "a"))).isEmpty(); // protocol
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 8091, FlowKey.TCP, "a"))).isEmpty(); // port
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 80, FlowKey.TCP, "b"))).isEmpty(); // site
        assertThat(classifier.classify(flow("10.1.2.3", "10.2.0.1", 22, FlowKey.TCP, "b"))).isEmpty();
        assertThat(classifier.indexOf(flow("10.1.2.3", "10.2.0.1", 80, FlowKey.TCP, "a"))).isEqualTo(1);
    }

    @Test
    void prefix_matchesByBitsAndFamily() {
        Prefix p = Prefix.parse("198.18.0.0/15");
        assertThat(p.contains(new byte[] {(byte) 198, 19, (byte) 255, 1})).isTrue();
        assertThat(p.contains(new byte[] {(byte) 198, 20, 0, 1})).isFalse();
        assertThat(p.contains(new byte[16])).isFalse();
        assertThat(Prefix.parse("10.1.2.3/8")).isEqualTo(Prefix.parse("10.0.0.0/8"));
        assertThat(Prefix.parse("0.0.0.0/0").contains(new byte[] {1, 2, 3, 4})).isTrue();
    }

    @Test
    void prefix_badInput_saysWhatWasExpected() {
        for (String bad : new String[] {"10.0.0.0", "10.0.0.0/33", "example.com/8", "/8", "10.0.0.0/x", "::1/129"}) {
            assertThatThrownBy(() -> Prefix.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expected");
        }
        FlowPolicy broken = SMB.toBuilder().setName("broken").addDstPrefixes("10.0.0.0/40").build();
        assertThatThrownBy(() -> PolicyClassifier.of(List.of(SMB, broken)))
                .hasMessageContaining("policies[1].dst_prefixes[0]");
    }

    @Test
    void siteMap_longestPrefixWins() throws Exception {
        SiteMap sites = new SiteMap(List.of(
                Site.newBuilder().setName("dc").addPrefixes("10.0.0.0/8").build(),
                Site.newBuilder().setName("branch").addPrefixes("10.7.0.0/16").addPrefixes("fd00::/8").build()));
        assertThat(sites.siteOf(InetAddress.getByName("10.7.1.1"))).contains("branch");
        assertThat(sites.siteOf(InetAddress.getByName("10.8.1.1"))).contains("dc");
        assertThat(sites.siteOf(InetAddress.getByName("fd00::1"))).contains("branch");
        assertThat(sites.siteOf(InetAddress.getByName("192.0.2.1"))).isEmpty();
    }
}
