package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.gateway.Relay;

/**
 * A bypassed flow: the client's connection relayed byte for byte to a direct connection to its destination, with
 * back-pressure and half-closes passed on ({@link Relay}), nothing encoded and no tunnel involved.
 */
final class Bypass {

    private Bypass() {}

    /**
     * Splices {@code client} (with whatever its {@link StreamSplice.Holding} handler kept) to {@code destination}.
     * Call on the event loop both channels share.
     */
    static void splice(Channel client, Channel destination, DataPlaneStats stats, Counter up, Counter down) {
        stats.flowOpened();
        Relay.Pair pair = new Relay.Pair(stats::flowClosed);
        Relay.install(destination, client, pair, down);
        destination.read();
        Relay.install(client, destination, pair, up);
        ChannelHandlerContext holding = client.pipeline().context(StreamSplice.Holding.class);
        if (holding != null) {
            ((StreamSplice.Holding) holding.handler()).replayAndRemove(holding);
        }
        client.read();
    }
}
