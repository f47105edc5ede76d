package io.slipstream.worker.wanopt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;

/**
 * A client connected to a port forward or a transparent listener: hands the connection to {@link Ingress} for
 * the listener's site and the forward's destination (or the connection's original one), then leaves the pipeline.
 * Reads nothing itself (the holding handler keeps what arrives until the stream is spliced).
 */
final class IngressHandler extends ChannelInboundHandlerAdapter {

    private final Ingress ingress;
    private final String site;
    private final String host;
    private final int port;

    IngressHandler(Ingress ingress, String site, String host, int port) {
        this.ingress = ingress;
        this.site = site;
        this.host = host;
        this.port = port;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel client = ctx.channel();
        ctx.pipeline().remove(this);
        ingress.open(client, (InetSocketAddress) client.remoteAddress(), site, host, port, "");
    }
}
