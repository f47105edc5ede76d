package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.RequestHead;
import java.util.List;

/**
 * The client side of one proxy connection, last in the pipeline: takes the aggregated requests strictly in
 * order (HTTP/1.1 pipelining: the next queued one only when the previous response has been written),
 * checks each ({@link RequestChecks}, {@link RequestTargets}), answers a plain fresh hit at once
 * ({@link HitFastPath}), runs a PURGE ({@link PurgeRequest}), and hands the rest to {@link CacheLookup};
 * {@link ClientResponses} writes every answer.
 *
 * <p>Ownership: queued requests are owned by the {@link PipelinedRequests} queue, then by this handler
 * until handled (a forwarded request's body is handed to the origin request, the rest released here).
 */
final class CacheFrontendHandler extends ChannelInboundHandlerAdapter implements ClientResponses.Connection {

    private final CacheContext cache;
    private final PipelinedRequests queue = new PipelinedRequests();
    private final Exchange exchange = new Exchange();
    private ChannelHandlerContext ctx;
    private ClientResponses responses;
    private CacheLookup lookup;
    private boolean busy;
    private boolean draining;
    private ClientDeadlines deadlines;

    CacheFrontendHandler(CacheContext cache) {
        this.cache = cache;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.responses = new ClientResponses(cache, ctx, exchange, this);
        this.lookup = new CacheLookup(cache, ctx, exchange, responses);
        this.deadlines = ctx.pipeline().get(ClientDeadlines.class);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (queue.add(msg)) {
            ctx.channel().config().setAutoRead(false);
        }
        drain();
    }

    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!busy && !queue.isEmpty() && ctx.channel().isActive()) {
                busy = true;
                Object msg = queue.poll();
                try {
                    handle(msg);
                } catch (RuntimeException e) {
                    if (busy) {
                        responses.error(500, "internal error: " + e.getClass().getSimpleName(), true);
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
            if (!busy && queue.isEmpty() && deadlines != null) {
                deadlines.idle();
            }
            if (queue.readable() && !ctx.channel().config().isAutoRead() && ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
        } finally {
            draining = false;
        }
    }

    @Override
    public void next() {
        busy = false;
        if (!draining) {
            drain();
        }
    }

    @Override
    public void closing() {
        queue.releaseAll();
        busy = false;
    }

    @Override
    public void aborted() {
        busy = false;
    }

    // ------------------------------------------------------------------------------------------- requests

    private void handle(Object msg) {
        if (msg == RequestAggregator.TOO_LARGE) {
            exchange.keepAlive = false;
            responses.error(413, "request body larger than " + cache.settings.maxRequestBodyBytes + " bytes", true);
            return;
        }
        FullHttpRequest req = (FullHttpRequest) msg;
        exchange.keepAlive = false;
        exchange.http10 = false;
        exchange.headOnly = false;
        exchange.rangeLines = List.of();
        exchange.ifRangeLines = List.of();
        Refusal refusal = req.decoderResult().isFailure()
                ? RequestChecks.decoderFailure(req.decoderResult().cause(), cache.settings)
                : RequestChecks.version(req.protocolVersion());
        if (refusal != null) {
            responses.refuse(refusal);
            return;
        }
        exchange.keepAlive = HttpUtil.isKeepAlive(req);
        exchange.http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        String method = req.method().name();
        exchange.headOnly = method.equals("HEAD");
        exchange.fromPeer = req.headers().contains(CacheProxySettings.PEER_HEADER);
        if (method.equals("GET") && req.headers().contains(HttpHeaderNames.RANGE)) {
            exchange.rangeLines = req.headers().getAll(HttpHeaderNames.RANGE);
            exchange.ifRangeLines = req.headers().getAll(HttpHeaderNames.IF_RANGE);
        }
        refusal = RequestChecks.method(method);
        if (refusal == null && req.headers().contains("Via")) {
            refusal = RequestChecks.via(req.headers().getAll("Via"));
        }
        if (refusal != null) {
            responses.refuse(refusal);
            return;
        }
        RequestTargets.Result resolved = cache.targets.resolve(req.uri(), req.headers().getAll(HttpHeaderNames.HOST),
                exchange.http10);
        if (resolved instanceof RequestTargets.Rejected rejected) {
            responses.error(rejected.status(), rejected.message(), true);
            return;
        }
        RequestTargets.Target target = (RequestTargets.Target) resolved;
        if ((method.equals("GET") || exchange.headOnly) && HitFastPath.plainRequest(req.headers())
                && lookup.fastHit(target.key())) {
            return;
        }
        HttpHeaders headers = HttpMessages.endToEnd(req.headers());
        if (target.forward()) {
            headers = headers.toBuilder().set("Host", target.uri().getRawAuthority()).build();
        }
        RequestHead head;
        try {
            head = RequestHead.of(method, target.uri(), headers);
        } catch (IllegalArgumentException e) {
            responses.error(400, e.getMessage(), true);
            return;
        }
        exchange.head = head;
        if (method.equals("PURGE")) {
            purge(req, head);
            return;
        }
        if (!(method.equals("GET") || method.equals("HEAD"))) {
            ByteBuf body = req.content().retainedDuplicate();
            lookup.forward(head, method, body, target.upstream());
            return;
        }
        lookup.lookup(head, target.upstream(), false);
    }

    private void purge(FullHttpRequest req, RequestHead head) {
        Refusal refusal = PurgeRequest.authorize(cache.settings.adminToken,
                req.headers().get(CacheProxySettings.ADMIN_TOKEN_HEADER));
        if (refusal != null) {
            responses.refuse(refusal);
            return;
        }
        PurgeRequest purge = PurgeRequest.of(req.headers().get(PurgeRequest.SOFT_PURGE_HEADER),
                req.headers().get("Surrogate-Key"));
        responses.serveJson(purge.answer(purge.apply(cache.store, CacheKey.of(head.uri()))));
    }

    // ------------------------------------------------------------------------------------------- channel

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            responses.resumeWriting();
            if (!busy && queue.readable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        queue.releaseAll();
        responses.resumeWriting();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
