package io.slipstream.e2e.kubernetes;

import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test node's cluster DNS (the node has no CoreDNS and no kube-proxy): answers A queries for
 * {@code <service>.<namespace>.svc.<domain>} with the addresses of the Service's ready endpoints, as DNS does
 * for a headless Service, so pods reach Services by name on a node that does not route ClusterIPs. A name of
 * a Service that exists gets NOERROR (with no answer for other record types or no ready endpoints); any
 * other name NXDOMAIN. Answers have a TTL of 1 s. Listens on UDP port 53 of one address (the bridge's).
 */
final class ClusterDns implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterDns.class);
    private static final long TTL_SECONDS = 1;

    private final KubernetesClient client;
    private final String suffix;
    private final EventLoopGroup group = new NioEventLoopGroup(1);
    private Channel channel;

    private ClusterDns(KubernetesClient client, String clusterDomain) {
        this.client = client;
        this.suffix = ".svc." + clusterDomain;
    }

    static ClusterDns start(KubernetesClient client, String address, String clusterDomain) throws InterruptedException {
        ClusterDns dns = new ClusterDns(client, clusterDomain);
        try {
            dns.channel = new Bootstrap().group(dns.group).channel(NioDatagramChannel.class)
                    .handler(new ChannelInitializer<NioDatagramChannel>() {
                        @Override
                        protected void initChannel(NioDatagramChannel ch) {
                            ch.pipeline().addLast(new DatagramDnsQueryDecoder(), new DatagramDnsResponseEncoder(),
                                    dns.new Handler());
                        }
                    })
                    .bind(new InetSocketAddress(address, 53)).sync().channel();
            return dns;
        } catch (InterruptedException | RuntimeException e) {
            dns.close();
            throw e;
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<DatagramDnsQuery> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
            DatagramDnsResponse response = new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
            response.setRecursionDesired(query.isRecursionDesired());
            response.setAuthoritativeAnswer(true);
            DnsQuestion question = query.recordAt(DnsSection.QUESTION);
            if (question == null) {
                response.setCode(DnsResponseCode.FORMERR);
                ctx.writeAndFlush(response);
                return;
            }
            response.addRecord(DnsSection.QUESTION, new DefaultDnsQuestion(question.name(), question.type()));
            List<InetAddress> addresses = resolve(question.name());
            if (addresses == null) {
                response.setCode(DnsResponseCode.NXDOMAIN);
            } else if (DnsRecordType.A.equals(question.type())) {
                for (InetAddress a : addresses) {
                    response.addRecord(DnsSection.ANSWER, new DefaultDnsRawRecord(question.name(), DnsRecordType.A,
                            TTL_SECONDS, Unpooled.wrappedBuffer(a.getAddress())));
                }
            }
            ctx.writeAndFlush(response);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("cluster DNS: {}", cause.toString());
        }
    }

    /** The ready endpoint addresses of the Service {@code name} names, or null when it names none. */
    private List<InetAddress> resolve(String queried) {
        String name = queried.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (!name.endsWith(suffix)) {
            return null;
        }
        String[] parts = name.substring(0, name.length() - suffix.length()).split("\\.");
        if (parts.length != 2) {
            return null;
        }
        try {
            if (client.services().inNamespace(parts[1]).withName(parts[0]).get() == null) {
                return null;
            }
            List<InetAddress> addresses = new ArrayList<>();
            Endpoints endpoints = client.endpoints().inNamespace(parts[1]).withName(parts[0]).get();
            if (endpoints != null && endpoints.getSubsets() != null) {
                for (EndpointSubset subset : endpoints.getSubsets()) {
                    if (subset.getAddresses() != null) {
                        for (EndpointAddress a : subset.getAddresses()) {
                            addresses.add(InetAddress.getByName(a.getIp()));
                        }
                    }
                }
            }
            return addresses;
        } catch (UnknownHostException | RuntimeException e) {
            log.warn("cluster DNS: looking up {}: {}", name, e.toString());
            return List.of();
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
