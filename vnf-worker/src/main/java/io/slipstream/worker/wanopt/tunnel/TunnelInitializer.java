package io.slipstream.worker.wanopt.tunnel;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import io.slipstream.worker.security.WorkerTls;
import java.util.function.Supplier;

/** The pipeline of a tunnel connection, either end: keepalive, frames, the connection handler. */
public final class TunnelInitializer extends ChannelInitializer<SocketChannel> {

    /** A PING goes out after this long without writing. */
    public static final int KEEPALIVE_SECONDS = 5;
    /** A peer silent this long is considered dead. */
    public static final int DEAD_AFTER_SECONDS = 15;

    private final Supplier<TunnelConnection> connections;
    private final java.util.function.Consumer<TunnelConnection> onConnection;
    private final io.netty.handler.ssl.SslContext ssl;

    /**
     * @param tls mutual TLS, or {@code null} for plaintext (development only)
     * @param client whether this end initiates the connections
     */
    public TunnelInitializer(Supplier<TunnelConnection> connections,
                             java.util.function.Consumer<TunnelConnection> onConnection, WorkerTls tls, boolean client) {
        this.connections = connections;
        this.onConnection = onConnection;
        this.ssl = tls == null ? null : client ? tls.client() : tls.server();
    }

    /** Bytes the kernel may hold not yet sent on a tunnel socket (TCP_NOTSENT_LOWAT; epoll only). */
    public static final int NOTSENT_LOWAT_BYTES = 64 * 1024;

    /** A multiplexed connection buffers more than one socket's worth before it says "not writable". */
    public static final io.netty.channel.WriteBufferWaterMark WATER_MARK =
            new io.netty.channel.WriteBufferWaterMark(512 * 1024, 1024 * 1024);

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.config().setWriteBufferWaterMark(WATER_MARK);
        if (ch instanceof io.netty.channel.epoll.EpollSocketChannel) {
            // The kernel keeps what the congestion window lets fly (TCP's own estimate of the path's
            // bandwidth-delay product) plus this much unsent; the rest waits in the fair queue above.
            ch.config().setOption(io.netty.channel.epoll.EpollChannelOption.TCP_NOTSENT_LOWAT, (long) NOTSENT_LOWAT_BYTES);
        }
        TunnelConnection connection = connections.get();
        if (ssl != null) {
            ch.pipeline().addLast("tls", ssl.newHandler(ch.alloc()));
        }
        ch.pipeline()
                .addLast("idle", new IdleStateHandler(DEAD_AFTER_SECONDS, KEEPALIVE_SECONDS, 0))
                .addLast("frames", new FrameCodec(FrameCodec.DEFAULT_MAX_PAYLOAD))
                .addLast("tunnel", connection);
        onConnection.accept(connection);
    }
}
