package io.slipstream.worker.wanopt;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.slipstream.worker.net.Transport;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.StreamListener;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;

/**
 * Egress: a peer opened a stream on a tunnel connection this worker accepted; connect to the stream's destination
 * on the connection's event loop and splice the two.
 */
final class Egress implements TunnelConnection.Acceptor {

    private final Transport transport;
    private final Splices splices;

    Egress(Transport transport, Splices splices) {
        this.transport = transport;
        this.splices = splices;
    }

    @Override
    public StreamListener accept(TunnelConnection connection, int streamId, Frames.Open open) {
        String destination = open.host + ":" + open.port;
        StreamSplice splice = splices.newSplice(connection, open.initialWindow, open.policy, "egress to " + destination);
        splice.streamId(streamId);
        // Connect in a later task: the stream must be registered before a failure can reset it.
        connection.channel().eventLoop().execute(() ->
            new Bootstrap().group(connection.channel().eventLoop()).channel(transport.socketChannel)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                    .handler(new StreamSplice.Holding())
                    .connect(open.host, open.port)
                    .addListener(f -> {
                        if (f.isSuccess()) {
                            splice.attach(((ChannelFuture) f).channel());
                        } else {
                            splice.connectFailed("connect to " + destination + " failed: " + f.cause().getMessage());
                        }
                    }));
        return splice;
    }
}
