package io.slipstream.worker.wanopt;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;

/** The pipeline of a port forward's connection: ingress to the forward's destination, then holding. */
final class ForwardInitializer extends ChannelInitializer<SocketChannel> {

    private final PortForward forward;
    private final Ingress ingress;

    ForwardInitializer(PortForward forward, Ingress ingress) {
        this.forward = forward;
        this.ingress = ingress;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast("ingress", new IngressHandler(ingress, forward.site(), forward.host(), forward.port()))
                .addLast("holding", new StreamSplice.Holding());
    }
}
