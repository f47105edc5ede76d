package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.slipstream.proto.v1.Site;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.net.Transport;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The steered listener's pipeline (Netty's PROXY decoder, {@link SteeredHandler}, holding) on an embedded channel:
 * what it does with each kind of header, without sockets. A connection it accepts goes to {@link Ingress}, which
 * with no peers configured resets it (fail fast).
 */
class SteeredHandlerTest {

    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DataPlaneStats stats = new DataPlaneStats();
    private final ChunkStores stores = new ChunkStores("wan-a", null, 1 << 20, meters);
    private final Ingress ingress = new Ingress("a", 256 * 1024, Transport.best(),
            new PeerLinks("wan-a", p -> {
                throw new AssertionError("no peer is configured here");
            }, id -> { }),
            new Splices(stores, true, () -> null, null, stats, meters, 1000), stats, meters);
    private final SiteDecision sites = SiteDecision.of(List.of(
            Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24").build(),
            Site.newBuilder().setName("b").addPrefixes("198.18.2.0/24").addPrefixes("2001:db8:b::/48").build()), "a");
    private final SteeredOutcomes outcomes = new SteeredOutcomes(meters);
    /** The steered listener's pipeline as {@link SteeredInitializer} builds it. */
    private final EmbeddedChannel channel = new EmbeddedChannel(new HAProxyMessageDecoder(),
            new SteeredHandler(() -> sites, outcomes, ingress),
            new StreamSplice.Holding());
    /**
     * The handler behind a decoder that already parsed the header. (An embedded channel tears its pipeline down as
     * soon as a handler closes it, before the decoder can leave the pipeline as it does on a real channel; so the
     * headers that parse are handed over as decoded messages.)
     */
    private final EmbeddedChannel decoded = new EmbeddedChannel(
            new SteeredHandler(() -> sites, outcomes, ingress), new StreamSplice.Holding());

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
        decoded.finishAndReleaseAll();
        stores.close();
    }

    private double steered(String outcome) {
        Counter c = meters.find("slipstream.wanopt.steered.connections").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    private double failedFast() {
        return meters.find("slipstream.wanopt.peer.unavailable").tag("action", "fail_fast").counter().count();
    }

    /** A PROXY v2 header: {@code command} 0 LOCAL or 1 PROXY, family/transport byte {@code family} (0x11 TCP4). */
    private static byte[] v2(int command, int family, String src, String dst, int dstPort) throws IOException {
        byte[] srcBytes = InetAddress.getByName(src).getAddress();
        byte[] dstBytes = InetAddress.getByName(dst).getAddress();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(V2_SIGNATURE);
        out.writeByte(0x20 | command);
        out.writeByte(family);
        out.writeShort(srcBytes.length + dstBytes.length + 4);
        out.write(srcBytes);
        out.write(dstBytes);
        out.writeShort(1000);
        out.writeShort(dstPort);
        return bytes.toByteArray();
    }

    private void receive(byte[] bytes) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    /** Hands {@code header} to the handler as the decoder would; checks that the handler released it. */
    private void receive(HAProxyMessage header) {
        decoded.writeInbound(header);
        assertThat(header.refCnt()).as("the handler released the header").isZero();
    }

    private static HAProxyMessage proxy(HAProxyProxiedProtocol protocol, String src, String dst, int dstPort) {
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY, protocol, src, dst, 1000, dstPort);
    }

    @Test
    void steered_destinationAtAnotherSite_isAccepted_andHandedToIngress() {
        receive(proxy(HAProxyProxiedProtocol.TCP4, "198.18.1.7", "198.18.2.9", 80));

        assertThat(steered("accepted")).isEqualTo(1);
        assertThat(decoded.pipeline().get(SteeredHandler.class)).as("the handler left the pipeline").isNull();
        assertThat(failedFast()).as("ingress found no peer at site b and reset the client").isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
    }

    @Test
    void steered_ipv6DestinationAtAnotherSite_isAccepted() {
        receive(proxy(HAProxyProxiedProtocol.TCP6, "2001:db8:a::7", "2001:db8:b::9", 443));

        assertThat(steered("accepted")).isEqualTo(1);
        assertThat(failedFast()).isEqualTo(1);
    }

    @Test
    void steered_destinationInNoSite_isReset() {
        receive(proxy(HAProxyProxiedProtocol.TCP4, "198.18.1.7", "203.0.113.9", 80));

        assertThat(steered("no_site")).isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
        assertThat(failedFast()).as("never reached ingress").isZero();
    }

    @Test
    void steered_ipv6DestinationInNoSite_isReset() {
        receive(proxy(HAProxyProxiedProtocol.TCP6, "2001:db8:a::7", "2001:db8:c::9", 443));

        assertThat(steered("no_site")).isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
    }

    @Test
    void steered_destinationAtOwnSite_isReset() {
        receive(proxy(HAProxyProxiedProtocol.TCP4, "198.18.1.7", "198.18.1.20", 80));

        assertThat(steered("own_site")).isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
        assertThat(failedFast()).isZero();
    }

    @Test
    void steered_local_isClosedAsAHealthCheck() {
        receive(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN,
                null, null, 0, 0));

        assertThat(steered("local")).isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
    }

    @Test
    void steered_version1Header_isABadHeader() {
        receive(new HAProxyMessage(HAProxyProtocolVersion.V1, HAProxyCommand.PROXY, HAProxyProxiedProtocol.TCP4,
                "198.18.1.7", "198.18.2.9", 1000, 80));

        assertThat(steered("bad_header")).isEqualTo(1);
        assertThat(steered("accepted")).isZero();
        assertThat(decoded.isOpen()).isFalse();
    }

    @Test
    void steered_udp_isABadHeader() {
        receive(proxy(HAProxyProxiedProtocol.UDP4, "198.18.1.7", "198.18.2.9", 53));

        assertThat(steered("bad_header")).isEqualTo(1);
        assertThat(decoded.isOpen()).isFalse();
    }

    @Test
    void steered_wrongSignature_isClosedAndCountedAsABadHeader() {
        receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(channel.isOpen()).as("the decoder rejected it").isFalse();
        assertThat(steered("bad_header")).isEqualTo(1);
        assertThat(steered("accepted")).isZero();
        assertThat(failedFast()).isZero();
    }

    @Test
    void steered_unknownAddressFamily_isClosedAndCountedAsABadHeader() throws IOException {
        byte[] header = v2(1, 0x11, "198.18.1.7", "198.18.2.9", 80);
        header[13] = (byte) 0x99;
        receive(header);

        assertThat(channel.isOpen()).as("the decoder rejected it").isFalse();
        assertThat(steered("bad_header")).isEqualTo(1);
        assertThat(steered("accepted")).isZero();
        assertThat(failedFast()).isZero();
    }

    @Test
    void steered_truncatedHeaderThenEndOfInput_isABadHeader() throws IOException {
        byte[] header = v2(1, 0x11, "198.18.1.7", "198.18.2.9", 80);
        header[15] = (byte) 200; // says 200 bytes of addresses; 12 follow, then the input ends
        receive(header);
        assertThat(channel.isOpen()).as("still waiting for the rest").isTrue();

        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        assertThat(steered("bad_header")).isEqualTo(1);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void steered_noHeaderInTime_isReset() {
        channel.freezeTime();
        receive(Arrays.copyOf(V2_SIGNATURE, 8)); // part of a signature, then nothing
        channel.advanceTimeBy(SteeredHandler.HEADER_TIMEOUT_MILLIS / 2, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();

        channel.advanceTimeBy(SteeredHandler.HEADER_TIMEOUT_MILLIS / 2, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();

        assertThat(steered("header_timeout")).isEqualTo(1);
        assertThat(channel.isOpen()).isFalse();
    }
}
