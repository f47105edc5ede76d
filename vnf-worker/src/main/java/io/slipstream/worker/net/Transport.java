package io.slipstream.worker.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The Netty transport of the data plane: epoll where the native library loads (Linux; fewer syscalls,
 * and needed for {@code IP_TRANSPARENT}), NIO elsewhere. Every channel of a role uses the same
 * transport, because a channel can only be registered with an event loop of its own transport.
 * {@code -Dio.netty.transport.noNative=true} forces NIO.
 */
public enum Transport {
    EPOLL(EpollServerSocketChannel.class, EpollSocketChannel.class),
    NIO(NioServerSocketChannel.class, NioSocketChannel.class);

    public final Class<? extends ServerSocketChannel> serverChannel;
    public final Class<? extends SocketChannel> socketChannel;

    Transport(Class<? extends ServerSocketChannel> serverChannel, Class<? extends SocketChannel> socketChannel) {
        this.serverChannel = serverChannel;
        this.socketChannel = socketChannel;
    }

    /** Epoll if available, else NIO. */
    public static Transport best() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** Why epoll is not available ({@code null} if it is). */
    public static Throwable epollUnavailability() {
        return Epoll.unavailabilityCause();
    }

    public EventLoopGroup newGroup(int threads) {
        return this == EPOLL ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    /** The transport in use and, for NIO, why epoll is not: for start-up logs. */
    public String describe() {
        Throwable cause = epollUnavailability();
        return this == EPOLL ? "epoll" : "nio (epoll unavailable: " + (cause == null ? "disabled" : cause.getMessage()) + ")";
    }
}
