package io.slipstream.worker.wanopt;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.util.function.Supplier;

/** The pipeline of a connection a gateway hands over: PROXY protocol decoder, the steered handler, then holding. */
final class SteeredInitializer extends ChannelInitializer<SocketChannel> {

    private final Supplier<SiteDecision> sites;
    private final SteeredOutcomes outcomes;
    private final Ingress ingress;

    SteeredInitializer(Supplier<SiteDecision> sites, SteeredOutcomes outcomes, Ingress ingress) {
        this.sites = sites;
        this.outcomes = outcomes;
        this.ingress = ingress;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast("proxy-v2", new HAProxyMessageDecoder())
                .addLast("steered", new SteeredHandler(sites, outcomes, ingress))
                .addLast("holding", new StreamSplice.Holding());
    }
}
