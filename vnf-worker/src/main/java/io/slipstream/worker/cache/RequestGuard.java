package io.slipstream.worker.cache;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;

/**
 * Checks request framing that Netty's decoder accepts but a hardened proxy must not (RFC 9112 §6.1): a
 * {@code Transfer-Encoding} other than exactly {@code chunked}, or any in an HTTP/1.0 request; and more
 * header fields than the limit (Netty bounds only their bytes). Such a request is marked failed before
 * aggregation, so the frontend answers 400 (431 for too many fields) and closes; its body is never
 * interpreted. Every decoded head and body end is reported to the {@link ClientDeadlines} (when present). Messages pass
 * through unchanged otherwise (no ownership taken).
 */
final class RequestGuard extends ChannelInboundHandlerAdapter {

    /** A request with more header fields than allowed (answered 431). */
    static final class TooManyFieldsException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        TooManyFieldsException(int count, int max) {
            super("request has " + count + " header fields (expected: at most " + max + ")");
        }
    }

    private final int maxHeaderCount;
    private ClientDeadlines deadlines;

    RequestGuard(int maxHeaderCount) {
        this.maxHeaderCount = maxHeaderCount;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        deadlines = ctx.pipeline().get(ClientDeadlines.class);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            HttpRequest req = (HttpRequest) msg;
            if (deadlines != null) {
                deadlines.headComplete();
            }
            if (req.decoderResult().isSuccess() && req.headers().size() > maxHeaderCount) {
                req.setDecoderResult(DecoderResult.failure(new TooManyFieldsException(req.headers().size(),
                        maxHeaderCount)));
            }
            if (req.decoderResult().isSuccess() && req.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)) {
                List<String> te = req.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
                if (!te.isEmpty()) {
                    if (req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                        req.setDecoderResult(DecoderResult.failure(
                                new IllegalArgumentException("Transfer-Encoding in an HTTP/1.0 request")));
                    } else if (te.size() != 1 || !te.get(0).strip().equalsIgnoreCase("chunked")) {
                        req.setDecoderResult(DecoderResult.failure(new IllegalArgumentException(
                                "Transfer-Encoding: " + String.join(", ", te) + " (expected: chunked)")));
                    }
                }
            }
        }
        if (msg instanceof io.netty.handler.codec.http.LastHttpContent && deadlines != null) {
            deadlines.bodyComplete();
        }
        ctx.fireChannelRead(msg);
    }
}
