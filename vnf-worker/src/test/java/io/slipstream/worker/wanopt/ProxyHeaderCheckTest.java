package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.slipstream.contract.steering.ProxyTlv;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyHeaderCheckTest {

    /** Ports 1000 and 2000 for IP families; none (0) for the others, as Netty requires. */
    private static HAProxyMessage header(HAProxyProtocolVersion version, HAProxyCommand command,
                                         HAProxyProxiedProtocol protocol, String src, String dst) {
        boolean ip = protocol.addressFamily() == HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                || protocol.addressFamily() == HAProxyProxiedProtocol.AddressFamily.AF_IPv6;
        return new HAProxyMessage(version, command, protocol, src, dst, ip ? 1000 : 0, ip ? 2000 : 0);
    }

    private static ProxyHeaderCheck.Result check(HAProxyMessage header) {
        try {
            ProxyHeaderCheck.Result result = ProxyHeaderCheck.check(header);
            assertThat(header.refCnt()).as("the check neither keeps nor releases the header").isEqualTo(1);
            return result;
        } finally {
            header.release();
        }
    }

    @Test
    void check_v2Tcp4_isProxiedToTheDestination_fromTheSource() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "198.18.1.7", "198.18.2.9"));

        assertThat(result).isEqualTo(new ProxyHeaderCheck.Proxied("198.18.2.9", 2000,
                new InetSocketAddress("198.18.1.7", 1000), ""));
    }

    @Test
    void check_policyTlv_namesThePolicy_otherTlvsIgnored() {
        HAProxyMessage header = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "198.18.1.7", "198.18.2.9", 1000, 2000, List.of(
                        new HAProxyTLV((byte) 0xE5, Unpooled.copiedBuffer("other", StandardCharsets.UTF_8)),
                        new HAProxyTLV(ProxyTlv.POLICY, Unpooled.copiedBuffer("web-b", StandardCharsets.UTF_8))));

        assertThat(check(header)).isEqualTo(new ProxyHeaderCheck.Proxied("198.18.2.9", 2000,
                new InetSocketAddress("198.18.1.7", 1000), "web-b"));
    }

    @Test
    void check_policyTlvLongerThan255Bytes_isUnusable() {
        HAProxyMessage header = new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "198.18.1.7", "198.18.2.9", 1000, 2000, List.of(
                        new HAProxyTLV(ProxyTlv.POLICY, Unpooled.copiedBuffer("p".repeat(256), StandardCharsets.UTF_8))));

        assertThat(check(header)).isEqualTo(new ProxyHeaderCheck.Unusable(
                "policy TLV of 256 bytes (expected: at most 255)"));
    }

    @Test
    void check_v2Tcp6_isProxiedToTheIpv6Destination() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP6, "2001:db8:a::7", "2001:db8:b::9"));

        assertThat(result).isInstanceOf(ProxyHeaderCheck.Proxied.class);
        ProxyHeaderCheck.Proxied proxied = (ProxyHeaderCheck.Proxied) result;
        assertThat(proxied.host()).isEqualTo("2001:db8:b::9");
        assertThat(proxied.port()).isEqualTo(2000);
        assertThat(proxied.source()).isEqualTo(new InetSocketAddress("2001:db8:a::7", 1000));
    }

    @Test
    void check_local_isAHealthCheck() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL,
                HAProxyProxiedProtocol.UNKNOWN, null, null));

        assertThat(result).isInstanceOf(ProxyHeaderCheck.Local.class);
    }

    @Test
    void check_version1_isUnusable_sayingWhatIsExpected() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V1, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.TCP4, "127.0.0.1", "127.0.0.1"));

        assertThat(result).isEqualTo(new ProxyHeaderCheck.Unusable(
                "header V1 TCP4 (expected: PROXY protocol v2 for TCP over IPv4 or IPv6)"));
    }

    @Test
    void check_udp_isUnusable() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.UDP6, "2001:db8:a::7", "2001:db8:b::9"));

        assertThat(result).isEqualTo(new ProxyHeaderCheck.Unusable(
                "header V2 UDP6 (expected: PROXY protocol v2 for TCP over IPv4 or IPv6)"));
    }

    @Test
    void check_unixStream_isUnusable() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.UNIX_STREAM, "/run/a.sock", "/run/b.sock"));

        assertThat(result).isInstanceOf(ProxyHeaderCheck.Unusable.class);
    }

    @Test
    void check_unknownFamilyWithProxyCommand_isUnusable() {
        ProxyHeaderCheck.Result result = check(header(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                HAProxyProxiedProtocol.UNKNOWN, null, null));

        assertThat(result).isEqualTo(new ProxyHeaderCheck.Unusable(
                "header V2 UNKNOWN (expected: PROXY protocol v2 for TCP over IPv4 or IPv6)"));
    }
}
