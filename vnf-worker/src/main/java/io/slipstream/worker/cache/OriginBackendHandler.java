package io.slipstream.worker.cache;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.channels.ClosedChannelException;

/**
 * The origin side of one pooled keep-alive connection: delivers the response of the exchange under way to
 * its {@link OriginListener}, then gives the connection back to its {@link OriginPool} (or closes it when
 * either side said {@code close}). Content ownership passes to the listener; anything arriving with no
 * exchange under way is released and the connection closed.
 */
final class OriginBackendHandler extends ChannelInboundHandlerAdapter {

    private final OriginPool pool;
    private final long timeoutMillis;
    private OriginListener listener;
    private boolean headSeen;
    private boolean skippingInformational;
    private boolean keepAlive;
    private int exchanges;

    OriginBackendHandler(OriginPool pool, long timeoutMillis) {
        this.pool = pool;
        this.timeoutMillis = timeoutMillis;
    }

    /** Starts an exchange; the request is written by the caller. True if this connection served one before. */
    boolean begin(OriginListener l, boolean requestKeepAlive) {
        if (listener != null) {
            throw new IllegalStateException("an exchange is already under way on this connection");
        }
        listener = l;
        headSeen = false;
        skippingInformational = false;
        keepAlive = requestKeepAlive;
        return exchanges++ > 0;
    }

    /** Fails the exchange under way (e.g. the request could not be written) and closes the connection. */
    void fail(Channel ch, Throwable cause) {
        OriginListener l = listener;
        listener = null;
        ch.close();
        if (l != null) {
            l.onError(cause, !headSeen);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (listener == null) {
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        HttpObject obj = (HttpObject) msg;
        if (obj.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            fail(ctx.channel(), obj.decoderResult().cause());
            return;
        }
        if (msg instanceof HttpResponse) {
            HttpResponse head = (HttpResponse) msg;
            int code = head.status().code();
            if (code >= 100 && code < 200) {
                skippingInformational = true;
                if (code != 101) {
                    listener.onInformational(head);
                }
            } else {
                headSeen = true;
                keepAlive &= HttpUtil.isKeepAlive(head);
                listener.onHead(head);
            }
        }
        if (msg instanceof HttpContent) {
            HttpContent content = (HttpContent) msg;
            if (skippingInformational) {
                content.release();
                if (content instanceof LastHttpContent) {
                    skippingInformational = false;
                }
                return;
            }
            OriginListener l = listener;
            if (l == null) {
                content.release();
                return;
            }
            if (content instanceof LastHttpContent) {
                listener = null;
                if (keepAlive) {
                    pool.release(ctx.channel());
                } else {
                    ctx.close();
                }
            }
            l.onContent(content);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (listener != null) {
                fail(ctx.channel(), new OriginTimeoutException(timeoutMillis));
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (listener != null) {
            fail(ctx.channel(), new ClosedChannelException());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (listener != null) {
            fail(ctx.channel(), cause);
        } else {
            ctx.close();
        }
    }
}
