package io.slipstream.worker.wanopt;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of a connection TPROXY delivered to a transparent listener: ingress to the accepted socket's local
 * address (the connection's original destination), then holding. A connection to the listener itself was not
 * intercepted and is reset.
 */
final class TransparentInitializer extends ChannelInitializer<SocketChannel> {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class); // the role's log, as before

    private final TransparentListener transparent;
    private final Ingress ingress;

    TransparentInitializer(TransparentListener transparent, Ingress ingress) {
        this.transparent = transparent;
        this.ingress = ingress;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        InetSocketAddress destination = ch.localAddress();
        if (destination.equals(ch.parent().localAddress())) {
            log.warn("transparent {}: {} connected to the listener itself, not intercepted: resetting it",
                    transparent, ch.remoteAddress());
            StreamSplice.abort(ch);
            return;
        }
        ch.pipeline().addLast("ingress", new IngressHandler(ingress, transparent.site(),
                destination.getAddress().getHostAddress(), destination.getPort()))
                .addLast("holding", new StreamSplice.Holding());
    }
}
