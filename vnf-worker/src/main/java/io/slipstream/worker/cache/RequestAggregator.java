package io.slipstream.worker.cache;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;

/**
 * Aggregates request bodies up to the configured limit; a larger one is not answered here (that would
 * overtake responses still owed to pipelined requests) but passed on as {@link #TOO_LARGE}, which the
 * frontend answers with 413 in turn and then closes.
 */
final class RequestAggregator extends HttpObjectAggregator {

    /** Stands in for a request whose body exceeded the limit. */
    static final Object TOO_LARGE = new Object() {
        @Override
        public String toString() {
            return "request body too large";
        }
    };

    RequestAggregator(int maxContentLength) {
        super(maxContentLength);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ctx.fireChannelRead(TOO_LARGE);
        ctx.channel().config().setAutoRead(false);
    }
}
