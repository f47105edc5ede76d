package io.slipstream.worker.cache;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The proxy's transport: Linux epoll when its native library loads (fewer syscalls and allocations per
 * request), else NIO. Probed once; {@link #why()} says why epoll is not used.
 */
final class Transport {

    static final boolean EPOLL = !Boolean.getBoolean("slipstream.cache.nio") && Epoll.isAvailable();

    private Transport() {
    }

    static EventLoopGroup group(int threads) {
        return EPOLL ? new EpollEventLoopGroup(threads) : new NioEventLoopGroup(threads);
    }

    static Class<? extends ServerChannel> serverChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    static Class<? extends SocketChannel> channel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    static String why() {
        if (EPOLL) {
            return "epoll";
        }
        Throwable cause = Epoll.unavailabilityCause();
        return "nio (" + (cause == null ? "slipstream.cache.nio set" : "epoll unavailable: " + cause.getMessage()) + ")";
    }
}
