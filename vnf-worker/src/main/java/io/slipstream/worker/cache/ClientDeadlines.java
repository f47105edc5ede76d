package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time limits on what a client sends, first in the pipeline so it sees the raw bytes: a request head must
 * be complete within the head timeout, counted from the connection's open or from the first byte of a later
 * request (a slowloris client trickling header bytes is answered 408 and closed); its body must be complete
 * within the idle timeout after the head (a client trickling a declared body likewise); a keep-alive
 * connection with nothing owed and nothing arriving is closed after the idle timeout. While a request is
 * being answered none runs (the origin has its own timeout). The guard reports complete heads and bodies
 * ({@link #headComplete}, {@link #bodyComplete}), the frontend reports when nothing more is owed
 * ({@link #idle}); all calls are on the channel's event loop.
 */
final class ClientDeadlines extends ChannelInboundHandlerAdapter {

    private enum State { HEAD, BODY, BUSY, IDLE }

    private static final byte[] HEAD_TIMEOUT_RESPONSE = timeoutResponse("request head not received in time\n");
    private static final byte[] BODY_TIMEOUT_RESPONSE = timeoutResponse("request body not received in time\n");

    private final long headTimeoutMillis;
    private final long idleTimeoutMillis;
    private final Rejections rejected;
    private ChannelHandlerContext ctx;
    private State state = State.HEAD;
    private ScheduledFuture<?> timer;
    /** Requests whose head is complete and whose response is not yet complete. */
    private int owed;

    ClientDeadlines(long headTimeoutMillis, long idleTimeoutMillis, Rejections rejected) {
        this.headTimeoutMillis = headTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.rejected = rejected;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Added to a channel that is already active (as IdleStateHandler does): start now, channelActive
        // will not come.
        if (ctx.channel().isActive() && this.ctx == null) {
            this.ctx = ctx;
            startHead();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (this.ctx == null) {
            this.ctx = ctx;
            startHead();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.IDLE && msg instanceof ByteBuf && ((ByteBuf) msg).isReadable()) {
            startHead();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    /** A request head was decoded: its body has until the idle timeout. */
    void headComplete() {
        cancel();
        owed++;
        state = State.BODY;
        timer = ctx.executor().schedule(() -> timedOut(State.BODY, BODY_TIMEOUT_RESPONSE, 1), idleTimeoutMillis,
                TimeUnit.MILLISECONDS);
    }

    /** A request's body (possibly empty) was decoded: no deadline until the next request starts. */
    void bodyComplete() {
        if (state == State.BODY) {
            cancel();
            state = State.BUSY;
        }
    }

    /** Every request so far is answered: the connection idles until the next byte. */
    void idle() {
        owed = 0;
        if (state == State.BUSY && ctx != null && ctx.channel().isActive()) {
            state = State.IDLE;
            cancel();
            timer = ctx.executor().schedule(() -> ctx.close(), idleTimeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void startHead() {
        cancel();
        state = State.HEAD;
        timer = ctx.executor().schedule(() -> timedOut(State.HEAD, HEAD_TIMEOUT_RESPONSE, 0), headTimeoutMillis,
                TimeUnit.MILLISECONDS);
    }

    /** 408 and close, or only close when more than {@code ownRequests} responses may still be being written. */
    private void timedOut(State expected, byte[] response, int ownRequests) {
        if (state != expected || !ctx.channel().isActive()) {
            return;
        }
        rejected.increment(expected == State.HEAD ? Rejections.Reason.HEAD_TIMEOUT : Rejections.Reason.BODY_TIMEOUT);
        ctx.channel().config().setAutoRead(false);
        if (owed > ownRequests) {
            ctx.close(); // a response is still being written: a 408 now would interleave with it
        } else {
            ctx.writeAndFlush(Unpooled.wrappedBuffer(response)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private static byte[] timeoutResponse(String body) {
        return ("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.length() + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body)
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
