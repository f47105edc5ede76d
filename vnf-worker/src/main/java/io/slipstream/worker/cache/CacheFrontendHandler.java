package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.slipstream.common.HostPort;
import io.slipstream.worker.cache.policy.ByteRanges;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.Lookup;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import io.slipstream.worker.cache.policy.Validation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The client side of one proxy connection: turns each request into the policy's model, asks the decision
 * core (docs/cache.md) and answers from the store, through a collapsed origin fetch, or with an error.
 * Requests are answered strictly in order (HTTP/1.1 pipelining): the next queued one is taken only when
 * the previous response has been written.
 *
 * <p>Ownership: queued requests are owned by this handler until handled (their body is handed to the
 * origin request, the rest released). Hits are written as raw bytes through the encoder's context,
 * bypassing {@link HttpResponseEncoder} (which holds no state between messages): retained duplicates of the
 * entry's head and body, which the transport releases once written, and a small new {@code Age} buffer.
 * Relayed content from an origin fetch passes through the encoder and is released by it.
 */
final class CacheFrontendHandler extends ChannelInboundHandlerAdapter implements ClientSink {

    private final CacheContext cache;
    private final PipelinedRequests queue = new PipelinedRequests();
    private ChannelHandlerContext ctx;
    private ChannelHandlerContext raw;
    private boolean busy;
    private boolean draining;
    private Runnable resume;
    private ClientDeadlines deadlines;

    // The request being answered.
    private boolean keepAlive;
    private boolean http10;
    private boolean headOnly;
    private RequestHead current;
    private boolean streamChunked;
    private boolean fromPeer;
    /** The GET's Range and If-Range field lines (empty when it has no Range, or is not a GET). */
    private List<String> rangeLines = List.of();
    private List<String> ifRangeLines = List.of();

    CacheFrontendHandler(CacheContext cache) {
        this.cache = cache;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.raw = ctx.pipeline().context(HttpResponseEncoder.class);
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
                        simple(500, "internal error: " + e.getClass().getSimpleName(), true);
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

    /** The current response is complete. */
    private void finish(boolean close) {
        if (close || !keepAlive) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            queue.releaseAll();
            busy = false;
            return;
        }
        ctx.flush();
        busy = false;
        if (!draining) {
            drain();
        }
    }

    // ------------------------------------------------------------------------------------------- requests

    private void handle(Object msg) {
        if (msg == RequestAggregator.TOO_LARGE) {
            keepAlive = false;
            simple(413, "request body larger than " + cache.settings.maxRequestBodyBytes + " bytes", true);
            return;
        }
        FullHttpRequest req = (FullHttpRequest) msg;
        keepAlive = false;
        http10 = false;
        headOnly = false;
        rangeLines = List.of();
        ifRangeLines = List.of();
        Refusal refusal = req.decoderResult().isFailure()
                ? RequestChecks.decoderFailure(req.decoderResult().cause(), cache.settings)
                : RequestChecks.version(req.protocolVersion());
        if (refusal != null) {
            refuse(refusal);
            return;
        }
        keepAlive = HttpUtil.isKeepAlive(req);
        http10 = req.protocolVersion().equals(HttpVersion.HTTP_1_0);
        String method = req.method().name();
        headOnly = method.equals("HEAD");
        fromPeer = req.headers().contains(CacheProxySettings.PEER_HEADER);
        if (method.equals("GET") && req.headers().contains(HttpHeaderNames.RANGE)) {
            rangeLines = req.headers().getAll(HttpHeaderNames.RANGE);
            ifRangeLines = req.headers().getAll(HttpHeaderNames.IF_RANGE);
        }
        refusal = RequestChecks.method(method);
        if (refusal == null && req.headers().contains("Via")) {
            refusal = RequestChecks.via(req.headers().getAll("Via"));
        }
        if (refusal != null) {
            refuse(refusal);
            return;
        }
        RequestTargets.Result resolved = cache.targets.resolve(req.uri(), req.headers().getAll(HttpHeaderNames.HOST),
                http10);
        if (resolved instanceof RequestTargets.Rejected rejected) {
            simple(rejected.status(), rejected.message(), true);
            return;
        }
        RequestTargets.Target target = (RequestTargets.Target) resolved;
        if ((method.equals("GET") || headOnly) && HitFastPath.plainRequest(req.headers())
                && fastHit(target.key())) {
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
            simple(400, e.getMessage(), true);
            return;
        }
        current = head;
        if (method.equals("PURGE")) {
            purge(req, head);
            return;
        }
        if (!(method.equals("GET") || method.equals("HEAD"))) {
            cache.misses.increment();
            ByteBuf body = req.content().retainedDuplicate();
            new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), target.upstream(), head,
                    OriginFetch.upstreamRequest(head, method, body), false, null, false, null, this).start();
            return;
        }
        lookup(head, target.upstream(), false);
    }

    /** Answers a plain request from a fresh single variant without the full lookup ({@link HitFastPath}). */
    private boolean fastHit(CacheKey key) {
        List<CachedResponse> variants = cache.store.variants(key);
        if (variants.size() != 1) {
            return false;
        }
        CachedResponse e = variants.get(0);
        if (e.softPurged() || !e.tryRetain()) {
            return false;
        }
        try {
            Duration age = HitFastPath.freshAge(e.fastLifetime(cache.strategy), e.initialAge(), e.stored(),
                    cache.clock.instant());
            if (age == null) {
                return false;
            }
            cache.hits.increment();
            current = null;
            serveEntry(e, age);
            return true;
        } finally {
            e.release();
        }
    }

    private void lookup(RequestHead head, HostPort upstream, boolean waited) {
        for (int round = 0; round < 3; round++) {
            CacheKey key = CacheKey.of(head);
            List<CachedResponse> variants = cache.store.variants(key);
            CachedResponse entry = null;
            if (!variants.isEmpty()) {
                StoredResponse chosen = cache.strategy.select(head,
                        variants.stream().map(CachedResponse::stored).toList());
                for (CachedResponse v : variants) {
                    if (v.stored() == chosen) {
                        entry = v;
                    }
                }
            }
            if (entry != null && !entry.tryRetain()) {
                continue; // evicted under our feet: look again
            }
            try {
                Instant now = cache.clock.instant();
                Lookup lookup = cache.strategy.lookup(head, entry == null ? null : entry.stored(), now);
                Lookup.Action action = lookup.action();
                if (entry != null && entry.softPurged() && lookup.serves()) {
                    action = Validation.conditionalRequest(head, entry.stored().response()).isPresent()
                            ? Lookup.Action.REVALIDATE : Lookup.Action.MISS;
                }
                switch (action) {
                    case FRESH:
                    case STALE:
                        cache.hits.increment();
                        serveEntry(entry, lookup.age());
                        return;
                    case STALE_WHILE_REVALIDATE:
                        cache.hits.increment();
                        serveEntry(entry, lookup.age());
                        revalidateInBackground(key, head, upstream, entry, lookup);
                        return;
                    case GATEWAY_TIMEOUT:
                        // only-if-cached: the parts held of the object may still answer the range.
                        if (entry == null && !rangeLines.isEmpty() && servePartialObject(key, head, now)) {
                            return;
                        }
                        simple(504, "only-if-cached and nothing usable is stored", false);
                        return;
                    default:
                        break;
                }
                // REVALIDATE or MISS. A range the parts held of the object cover is answered from them.
                if (entry == null && !rangeLines.isEmpty() && servePartialObject(key, head, now)) {
                    return;
                }
                // Another shard member owns the key: ask it (it collapses and stores).
                HostPort owner = fromPeer ? null : cache.owner(key);
                if (owner != null) {
                    peerFetch(head, owner, upstream);
                    return;
                }
                // A range of an object known to be too large to fetch whole: ask the origin for the range.
                if (!rangeLines.isEmpty() && cache.largeObjects.getIfPresent(key) != null) {
                    cache.rangePassthroughs.increment();
                    cache.misses.increment();
                    new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                            OriginFetch.upstreamRequest(head, "GET", null), false, null, false, null, this)
                            .collectPart().start();
                    return;
                }
                // Ours: one fetch per key at a time.
                Flights.Flight flight = null;
                if (!waited) {
                    flight = cache.flights.lead(key);
                    if (flight == null) {
                        Runnable landed = () -> ctx.executor().execute(() -> afterFlight(head, upstream));
                        boolean waiting = rangeLines.isEmpty() ? cache.flights.await(key, landed)
                                : cache.flights.await(key, landed,
                                        new EarlyRange(head, rangeLines, ifRangeLines), now);
                        if (waiting) {
                            cache.collapsed.increment();
                            return;
                        }
                        flight = cache.flights.lead(key);
                    }
                }
                cache.misses.increment();
                fetch(head, upstream, entry, action, flight);
                entry = null; // the fetch took our reference
                return;
            } finally {
                if (entry != null) {
                    entry.release();
                }
            }
        }
        fetch(head, upstream, null, Lookup.Action.MISS, null);
    }

    /**
     * Answers a range request from the parts held of the object (RFC 9111 §3.3: a request whose ranges lie
     * wholly within the stored parts) when they are fresh enough for it, cover every range asked, and the
     * client has no conditional that would be answered 304: a 206 (single or multipart) of slices of the
     * held segments, or a 416 against the known complete length. False: nothing was sent.
     */
    private boolean servePartialObject(CacheKey key, RequestHead head, Instant now) {
        PartialObject p = cache.store.partial(key);
        if (p == null || !p.tryRetain()) {
            return false;
        }
        try {
            ResponseHead response = p.stored().response();
            Lookup lookup = cache.strategy.lookup(head, p.stored(), now);
            if (!(lookup.action() == Lookup.Action.FRESH || lookup.action() == Lookup.Action.STALE)
                    || Validation.notModified(head, response)) {
                return false;
            }
            long length = p.completeLength();
            ByteRanges.Decision d = ByteRanges.decide("GET", rangeLines, ifRangeLines, response, length);
            if (d.outcome() == ByteRanges.Outcome.NOT_SATISFIABLE) {
                cache.hits.increment();
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Unpooled.EMPTY_BUFFER);
                r.headers().set("Content-Range", "bytes */" + length).set("Content-Length", 0)
                        .set("Accept-Ranges", "bytes").set("Via", HttpMessages.VIA);
                connectionHeader(r, false);
                ctx.write(r);
                finish(false);
                return true;
            }
            if (d.outcome() != ByteRanges.Outcome.PARTIAL) {
                return false;
            }
            for (ByteRanges.Range r : d.ranges()) {
                if (!PartialContent.covers(p.held().ranges(), r)) {
                    return false;
                }
            }
            cache.hits.increment();
            cache.rangeHits.increment();
            cache.partialHits.increment();
            String endOfHead = "Age: " + CacheStrategy.ageHeaderValue(lookup.age()) + "\r\n"
                    + (!keepAlive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "") + "\r\n";
            StringBuilder sb = new StringBuilder(512).append("HTTP/1.1 206 Partial Content\r\n");
            List<ByteRanges.Range> ranges = d.ranges();
            if (ranges.size() == 1) {
                ByteRanges.Range r = ranges.get(0);
                CachedResponse.appendFields(sb, response, false);
                sb.append("Content-Range: ").append(r.contentRange(length)).append("\r\nContent-Length: ")
                        .append(r.length()).append("\r\n").append(endOfHead);
                raw.write(ascii(sb));
                p.slices(r).forEach(raw::write);
            } else {
                ByteRanges.Multipart m = new ByteRanges.Multipart(boundary(), response.headers().get("Content-Type"),
                        ranges, length);
                CachedResponse.appendFields(sb, response, true);
                sb.append("Content-Type: ").append(m.mediaType()).append("\r\nContent-Length: ")
                        .append(m.contentLength()).append("\r\n").append(endOfHead);
                raw.write(ascii(sb));
                for (int i = 0; i < ranges.size(); i++) {
                    raw.write(ascii(m.partHeader(i)));
                    p.slices(ranges.get(i)).forEach(raw::write);
                }
                raw.write(ascii(m.trailer()));
            }
            finish(false);
            return true;
        } finally {
            p.release();
        }
    }

    /** A collapsed request looks again once the flight it waited for has landed. */
    private void afterFlight(RequestHead head, HostPort upstream) {
        try {
            lookup(head, upstream, true);
        } catch (RuntimeException e) {
            simple(500, "internal error: " + e.getClass().getSimpleName(), true);
        }
    }

    /** A foreground fetch; takes over the caller's reference to {@code entry} (may be {@code null}). */
    private void fetch(RequestHead head, HostPort upstream, CachedResponse entry, Lookup.Action action,
                       Flights.Flight flight) {
        RequestHead sent;
        boolean conditional = false;
        if (action == Lookup.Action.REVALIDATE && entry != null) {
            sent = Validation.conditionalRequest(head, entry.stored().response()).orElse(null);
            conditional = sent != null;
        } else {
            sent = null;
        }
        if (headOnly && entry != null) {
            // A stored GET response that may not be used as is, for a HEAD: ask with HEAD, which refreshes or
            // invalidates it without moving the content (RFC 9111 §4.3.5).
            RequestHead plain = head.withHeaders(head.headers().toBuilder().remove("If-None-Match")
                    .remove("If-Modified-Since").remove("If-Range").remove("Range").build());
            new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                    OriginFetch.upstreamRequest(plain, "HEAD", null), true, entry, false, flight, this)
                    .headRefresh().start();
            return;
        }
        if (sent == null) {
            sent = head.withHeaders(head.headers().toBuilder().remove("If-None-Match").remove("If-Modified-Since")
                    .remove("If-Range").remove("Range").build());
        }
        new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                OriginFetch.upstreamRequest(sent, "GET", null), true, entry, conditional, flight, this).start();
    }

    /**
     * Relays the answer of the shard member owning the key, without storing it here (each object is held
     * once in the fleet); when that member cannot be reached, relays the origin's answer instead.
     */
    private void peerFetch(RequestHead head, HostPort owner, HostPort origin) {
        cache.peerFetches.increment();
        FullHttpRequest toPeer = OriginFetch.upstreamRequest(head, "GET", null);
        toPeer.headers().set(CacheProxySettings.PEER_HEADER, cache.settings.workerId);
        OriginPool pool = cache.pool(ctx.channel().eventLoop());
        new OriginFetch(cache, pool, owner, head, toPeer, false, null, false, null, this)
                .toShardOwner()
                .onUnreachable(() -> {
                    RequestHead plain = head.withHeaders(head.headers().toBuilder().remove("If-None-Match")
                            .remove("If-Modified-Since").build());
                    new OriginFetch(cache, pool, origin, head, OriginFetch.upstreamRequest(plain, "GET", null), false,
                            null, false, null, this).start();
                })
                .start();
    }

    private void revalidateInBackground(CacheKey key, RequestHead head, HostPort upstream, CachedResponse entry,
                                        Lookup lookup) {
        Flights.Flight flight = cache.flights.lead(key);
        if (flight == null) {
            return; // one is under way already
        }
        if (!entry.tryRetain()) {
            flight.land();
            return;
        }
        RequestHead conditional = lookup.conditionalRequest();
        boolean hasValidators = conditional != null && (conditional.headers().contains("If-None-Match")
                || conditional.headers().contains("If-Modified-Since"));
        RequestHead sent = conditional != null ? conditional : head;
        new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                OriginFetch.upstreamRequest(sent, "GET", null), true, entry, hasValidators, flight, null).start();
    }

    // ---------------------------------------------------------------------------------------------- purge

    private void purge(FullHttpRequest req, RequestHead head) {
        Refusal refusal = PurgeRequest.authorize(cache.settings.adminToken,
                req.headers().get(CacheProxySettings.ADMIN_TOKEN_HEADER));
        if (refusal != null) {
            refuse(refusal);
            return;
        }
        PurgeRequest purge = PurgeRequest.of(req.headers().get(PurgeRequest.SOFT_PURGE_HEADER),
                req.headers().get("Surrogate-Key"));
        String json = purge.answer(purge.apply(cache.store, CacheKey.of(head.uri())));
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        r.headers().set("Content-Type", "application/json").set("Content-Length", r.content().readableBytes())
                .set("Cache-Control", "no-store");
        connectionHeader(r, false);
        ctx.write(r);
        finish(false);
    }

    // ------------------------------------------------------------------------------------------ responses

    @Override
    public void serveEntry(CachedResponse entry, Duration age) {
        if (!ctx.channel().isActive()) {
            finish(true);
            return;
        }
        StoredResponse stored = entry.stored();
        if (current != null && Validation.notModified(current, stored.response())) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED,
                    Unpooled.EMPTY_BUFFER);
            for (String[] line : stored.response().headers().lines()) {
                String name = line[0].toLowerCase(Locale.ROOT);
                if (!name.equals("content-length") && !name.equals("age") && !name.equals("surrogate-key")) {
                    r.headers().add(line[0], line[1]);
                }
            }
            r.headers().set("Age", CacheStrategy.ageHeaderValue(age));
            connectionHeader(r, false);
            ctx.write(r);
            finish(false);
            return;
        }
        if (!rangeLines.isEmpty()) {
            int length = entry.body().readableBytes();
            ByteRanges.Decision d = ByteRanges.decide("GET", rangeLines, ifRangeLines, stored.response(), length);
            if (d.outcome() == ByteRanges.Outcome.PARTIAL) {
                cache.rangeHits.increment();
                servePartial(entry, d.ranges(), age);
                return;
            }
            if (d.outcome() == ByteRanges.Outcome.NOT_SATISFIABLE) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Unpooled.EMPTY_BUFFER);
                r.headers().set("Content-Range", "bytes */" + length).set("Content-Length", 0)
                        .set("Accept-Ranges", "bytes").set("Via", HttpMessages.VIA);
                connectionHeader(r, false);
                ctx.write(r);
                finish(false);
                return;
            }
        }
        String tail = "Age: " + CacheStrategy.ageHeaderValue(age) + "\r\n"
                + (!keepAlive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "") + "\r\n";
        ByteBuf tailBuf = ctx.alloc().ioBuffer(tail.length());
        tailBuf.writeCharSequence(tail, StandardCharsets.US_ASCII);
        raw.write(entry.head().retainedDuplicate());
        if (headOnly) {
            raw.write(tailBuf);
        } else {
            raw.write(tailBuf);
            raw.write(entry.body().retainedDuplicate());
        }
        finish(false);
    }

    /**
     * A 206 from a stored complete response (RFC 9110 §14.3, §15.3.7): one range as a single part around the
     * entry's pre-encoded fields, several as multipart/byteranges (§14.6). The content is written as
     * retained slices of the entry's body, never copied.
     */
    private void servePartial(CachedResponse entry, List<ByteRanges.Range> ranges, Duration age) {
        ByteBuf body = entry.body();
        int length = body.readableBytes();
        String endOfHead = "Age: " + CacheStrategy.ageHeaderValue(age) + "\r\n"
                + (!keepAlive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "") + "\r\n";
        if (ranges.size() == 1) {
            ByteRanges.Range r = ranges.get(0);
            raw.write(PARTIAL_STATUS_LINE.duplicate());
            raw.write(entry.fields().retain());
            raw.write(ascii("Content-Range: " + r.contentRange(length) + "\r\nContent-Length: " + r.length()
                    + "\r\n" + endOfHead));
            raw.write(body.retainedSlice(body.readerIndex() + (int) r.first(), (int) r.length()));
        } else {
            ByteRanges.Multipart m = new ByteRanges.Multipart(boundary(),
                    entry.stored().response().headers().get("Content-Type"), ranges, length);
            StringBuilder sb = new StringBuilder(512).append("HTTP/1.1 206 Partial Content\r\n");
            CachedResponse.appendFields(sb, entry.stored().response(), true);
            sb.append("Content-Type: ").append(m.mediaType()).append("\r\nContent-Length: ")
                    .append(m.contentLength()).append("\r\n").append(endOfHead);
            raw.write(ascii(sb));
            for (int i = 0; i < ranges.size(); i++) {
                ByteRanges.Range r = ranges.get(i);
                raw.write(ascii(m.partHeader(i)));
                raw.write(body.retainedSlice(body.readerIndex() + (int) r.first(), (int) r.length()));
            }
            raw.write(ascii(m.trailer()));
        }
        finish(false);
    }

    @Override
    public ByteRanges.Range earlyRange(io.slipstream.worker.cache.policy.ResponseHead response, long length) {
        return singleRange(current, rangeLines, ifRangeLines, response, length);
    }

    /**
     * The one range {@code rangeLines} ask of {@code response} (a 200 of {@code length} bytes) when it may be
     * served on its own: {@code ByteRanges} answers with exactly one range and {@code request} (when known)
     * has no conditional that would be answered 304; else {@code null}. Pure.
     */
    static ByteRanges.Range singleRange(RequestHead request, List<String> rangeLines, List<String> ifRangeLines,
                                        ResponseHead response, long length) {
        if (rangeLines.isEmpty() || response.status() != 200
                || request != null && Validation.notModified(request, response)) {
            return null;
        }
        ByteRanges.Decision d = ByteRanges.decide("GET", rangeLines, ifRangeLines, response, length);
        return d.outcome() == ByteRanges.Outcome.PARTIAL && d.ranges().size() == 1 ? d.ranges().get(0) : null;
    }

    /**
     * This connection's collapsed range request, answered from the flight's bytes before it lands when the
     * response may serve it as it is (fresh for the request, its Vary matching: {@code lookup} says FRESH or
     * STALE) and {@link #singleRange} gives one range. Holds copies of what it needs, since the flight asks
     * from the fetch's thread; the answer is written on this connection's.
     */
    private final class EarlyRange implements Flights.RangeWaiter {
        private final RequestHead request;
        private final List<String> ranges;
        private final List<String> ifRanges;

        EarlyRange(RequestHead request, List<String> ranges, List<String> ifRanges) {
            this.request = request;
            this.ranges = List.copyOf(ranges);
            this.ifRanges = List.copyOf(ifRanges);
        }

        @Override
        public ByteRanges.Range range(StoredResponse response, long length, Instant now) {
            Lookup.Action action = cache.strategy.lookup(request, response, now).action();
            if (action != Lookup.Action.FRESH && action != Lookup.Action.STALE) {
                return null;
            }
            return singleRange(request, ranges, ifRanges, response.response(), length);
        }

        @Override
        public void serve(StoredResponse response, ByteRanges.Range range, long length, ByteBuf content) {
            try {
                ctx.executor().execute(() -> {
                    cache.hits.increment();
                    cache.earlyRanges.increment();
                    servePartial(response.response(), range, length,
                            CacheStrategy.currentAge(response, cache.clock.instant()), content);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                content.release(); // the event loop is shutting down: the connection goes with it
            }
        }
    }

    @Override
    public void servePartial(io.slipstream.worker.cache.policy.ResponseHead response, ByteRanges.Range range,
                             long length, Duration age, ByteBuf content) {
        if (!ctx.channel().isActive()) {
            content.release();
            finish(true);
            return;
        }
        StringBuilder sb = new StringBuilder(512).append("HTTP/1.1 206 Partial Content\r\n");
        CachedResponse.appendFields(sb, response, false);
        sb.append("Content-Range: ").append(range.contentRange(length)).append("\r\nContent-Length: ")
                .append(range.length()).append("\r\nAge: ").append(CacheStrategy.ageHeaderValue(age)).append("\r\n")
                .append(!keepAlive ? "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "")
                .append("\r\n");
        raw.write(ascii(sb));
        raw.write(content);
        finish(false);
    }

    private static final ByteBuf PARTIAL_STATUS_LINE = Unpooled.unreleasableBuffer(Unpooled.directBuffer()
            .writeBytes("HTTP/1.1 206 Partial Content\r\n".getBytes(StandardCharsets.US_ASCII)));

    private ByteBuf ascii(CharSequence s) {
        ByteBuf b = ctx.alloc().ioBuffer(s.length());
        b.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        return b;
    }

    /** A multipart boundary: 96 random bits, so it cannot be guessed into the content. */
    private static String boundary() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        return "slipstream-" + Long.toHexString(r.nextLong()) + Integer.toHexString(r.nextInt());
    }

    @Override
    public boolean acceptsInformational() {
        return !http10;
    }

    @Override
    public void serveInformational(HttpResponse informational) {
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, informational.status(),
                Unpooled.EMPTY_BUFFER);
        HttpMessages.copy(HttpMessages.endToEnd(informational.headers()), out.headers());
        out.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
        ctx.writeAndFlush(out);
    }

    @Override
    public void serveHead(HttpResponse head) {
        io.netty.handler.codec.http.HttpHeaders h = head.headers();
        boolean hadLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        HttpHeaders e2e = HttpMessages.endToEnd(h);
        h.clear();
        HttpMessages.copy(e2e, h);
        h.add("Via", HttpMessages.VIA);
        int code = head.status().code();
        boolean bodyless = headOnly || code == 204 || code == 304 || code < 200;
        streamChunked = false;
        if (!hadLength && !bodyless) {
            if (http10) {
                keepAlive = false; // close-delimited
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
                streamChunked = true;
            }
        }
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status(), h);
        connectionHeader(out, false);
        ctx.write(out);
    }

    @Override
    public void serveContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (headOnly) {
            content.release();
            if (last) {
                ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
            }
        } else {
            ctx.write(content);
        }
        if (last) {
            finish(false);
        } else if (!ctx.channel().isWritable()) {
            ctx.flush();
        }
    }

    @Override
    public void serveError(int status, String message) {
        simple(status, message, false);
    }

    @Override
    public void abort() {
        keepAlive = false;
        ctx.flush();
        ctx.close();
        busy = false;
    }

    @Override
    public void onWritable(Runnable r) {
        ctx.flush();
        if (ctx.channel().isWritable() || !ctx.channel().isActive()) {
            r.run();
        } else {
            resume = r;
        }
    }

    @Override
    public boolean writable() {
        return ctx.channel().isWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            Runnable r = resume;
            resume = null;
            if (r != null) {
                r.run();
            }
            if (!busy && queue.readable()) {
                ctx.channel().config().setAutoRead(true);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        queue.releaseAll();
        Runnable r = resume;
        resume = null;
        if (r != null) {
            r.run();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void refuse(Refusal refusal) {
        simple(refusal.status(), refusal.message(), refusal.close());
    }

    /** A short generated response; {@code close} ends the connection after it. */
    private void simple(int status, String message, boolean close) {
        Rejections.Reason reason = Rejections.forStatus(status);
        if (reason != null) {
            cache.rejected.increment(reason);
        }
        if (close) {
            keepAlive = false;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8));
        r.headers().set("Content-Type", "text/plain; charset=utf-8")
                .set("Content-Length", r.content().readableBytes())
                .set("Cache-Control", "no-store");
        connectionHeader(r, false);
        ctx.write(r);
        finish(close);
    }

    private void connectionHeader(HttpResponse r, boolean close) {
        if (close || !keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        } else if (http10) {
            r.headers().set(HttpHeaderNames.CONNECTION, "keep-alive");
        }
    }
}
