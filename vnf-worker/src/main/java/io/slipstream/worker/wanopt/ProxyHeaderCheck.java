package io.slipstream.worker.wanopt;

import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.netty.util.NetUtil;
import io.slipstream.contract.steering.ProxyTlv;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * What the steered listener can use of a PROXY header that Netty's {@code HAProxyMessageDecoder} parsed (the
 * decoder itself rejects a wrong signature, a truncated header or an unknown address family). Pure: no I/O,
 * the header is neither kept nor released.
 */
final class ProxyHeaderCheck {

    private ProxyHeaderCheck() {}

    /** The verdict on one header. */
    sealed interface Result permits Local, Unusable, Proxied {}

    /** {@code LOCAL}: a health check, no connection to carry. */
    record Local() implements Result {}

    /** Not PROXY protocol v2 for TCP over IPv4 or IPv6; {@code problem} says what it was and what is expected. */
    record Unusable(String problem) implements Result {}

    /**
     * A proxied TCP connection to {@code host:port}; {@code source} is the client's address, or {@code null} when
     * the header's source is not an address literal; {@code policy} the policy named in the header
     * ({@link ProxyTlv#POLICY}, a cache+wanopt miss), else empty.
     */
    record Proxied(String host, int port, InetSocketAddress source, String policy) implements Result {}

    static Result check(HAProxyMessage header) {
        if (header.command() == HAProxyCommand.LOCAL) {
            return new Local();
        }
        if (header.protocolVersion() != HAProxyProtocolVersion.V2
                || (header.proxiedProtocol() != HAProxyProxiedProtocol.TCP4
                && header.proxiedProtocol() != HAProxyProxiedProtocol.TCP6)) {
            return new Unusable("header " + header.protocolVersion() + " " + header.proxiedProtocol()
                    + " (expected: PROXY protocol v2 for TCP over IPv4 or IPv6)");
        }
        InetSocketAddress source = null;
        InetAddress sourceAddress = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
        if (sourceAddress != null) {
            source = new InetSocketAddress(sourceAddress, header.sourcePort());
        }
        String policy = "";
        for (HAProxyTLV tlv : header.tlvs()) {
            if (tlv.typeByteValue() == ProxyTlv.POLICY) {
                if (tlv.content().readableBytes() > ProxyTlv.MAX_POLICY_BYTES) {
                    return new Unusable("policy TLV of " + tlv.content().readableBytes() + " bytes (expected: at most "
                            + ProxyTlv.MAX_POLICY_BYTES + ")");
                }
                policy = tlv.content().toString(StandardCharsets.UTF_8);
            }
        }
        return new Proxied(header.destinationAddress(), header.destinationPort(), source, policy);
    }
}
