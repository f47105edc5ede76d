package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.slipstream.common.HostPort;
import io.slipstream.worker.cache.policy.ByteRanges;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.Lookup;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import io.slipstream.worker.cache.policy.Validation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Lookup and revalidation for one client connection: asks the decision core (docs/cache.md) about the
 * stored variants of a request and acts on its answer: serves the entry, the parts held of the object, or
 * a 504; revalidates in the background; or fetches (collapsed per key, from the shard member owning the
 * key, or the range alone for a large object). Answers go to the connection's {@link ClientResponses},
 * which origin fetches also deliver to. Runs on the connection's event loop (a collapsed request comes
 * back to it when its flight lands).
 *
 * <p>Ownership: a stored entry is retained while it is used here and released after, or handed over with
 * its reference to the origin fetch that revalidates it.
 */
final class CacheLookup {

    private final CacheContext cache;
    private final ChannelHandlerContext ctx;
    private final Exchange exchange;
    private final ClientResponses responses;

    CacheLookup(CacheContext cache, ChannelHandlerContext ctx, Exchange exchange, ClientResponses responses) {
        this.cache = cache;
        this.ctx = ctx;
        this.exchange = exchange;
        this.responses = responses;
    }

    /** Passes a request other than GET, HEAD or PURGE to the origin as it is; {@code body} is handed over. */
    void forward(RequestHead head, String method, ByteBuf body, HostPort upstream) {
        cache.misses.increment();
        new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                OriginFetch.upstreamRequest(head, method, body), false, null, false, null, responses).start();
    }

    /** Answers a plain request from a fresh single variant without the full lookup ({@link HitFastPath}). */
    boolean fastHit(CacheKey key) {
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
            exchange.head = null;
            responses.serveEntry(e, age);
            return true;
        } finally {
            e.release();
        }
    }

    /** Answers a GET or HEAD that is not a fast hit: from the store, a collapsed or own fetch, or the shard owner. */
    void lookup(RequestHead head, HostPort upstream, boolean waited) {
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
                        responses.serveEntry(entry, lookup.age());
                        return;
                    case STALE_WHILE_REVALIDATE:
                        cache.hits.increment();
                        responses.serveEntry(entry, lookup.age());
                        revalidateInBackground(key, head, upstream, entry, lookup);
                        return;
                    case GATEWAY_TIMEOUT:
                        // only-if-cached: the parts held of the object may still answer the range.
                        if (entry == null && !exchange.rangeLines.isEmpty() && servePartialObject(key, head, now)) {
                            return;
                        }
                        responses.error(504, "only-if-cached and nothing usable is stored", false);
                        return;
                    default:
                        break;
                }
                // REVALIDATE or MISS. A range the parts held of the object cover is answered from them.
                if (entry == null && !exchange.rangeLines.isEmpty() && servePartialObject(key, head, now)) {
                    return;
                }
                // Another shard member owns the key: ask it (it collapses and stores).
                HostPort owner = exchange.fromPeer ? null : cache.owner(key);
                if (owner != null) {
                    peerFetch(head, owner, upstream);
                    return;
                }
                // A range of an object known to be too large to fetch whole: ask the origin for the range.
                if (!exchange.rangeLines.isEmpty() && cache.largeObjects.getIfPresent(key) != null) {
                    cache.rangePassthroughs.increment();
                    cache.misses.increment();
                    new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                            OriginFetch.upstreamRequest(head, "GET", null), false, null, false, null, responses)
                            .collectPart().start();
                    return;
                }
                // Ours: one fetch per key at a time.
                Flights.Flight flight = null;
                if (!waited) {
                    flight = cache.flights.lead(key);
                    if (flight == null) {
                        Runnable landed = () -> ctx.executor().execute(() -> afterFlight(head, upstream));
                        boolean waiting = exchange.rangeLines.isEmpty() ? cache.flights.await(key, landed)
                                : cache.flights.await(key, landed,
                                        new EarlyRange(head, exchange.rangeLines, exchange.ifRangeLines), now);
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
            ByteRanges.Decision d = ByteRanges.decide("GET", exchange.rangeLines, exchange.ifRangeLines, response,
                    length);
            if (d.outcome() == ByteRanges.Outcome.NOT_SATISFIABLE) {
                cache.hits.increment();
                responses.rangeNotSatisfiable(length);
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
            responses.servePartialObject(p, d.ranges(), lookup.age());
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
            responses.error(500, "internal error: " + e.getClass().getSimpleName(), true);
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
        if (exchange.headOnly && entry != null) {
            // A stored GET response that may not be used as is, for a HEAD: ask with HEAD, which refreshes or
            // invalidates it without moving the content (RFC 9111 §4.3.5).
            RequestHead plain = head.withHeaders(head.headers().toBuilder().remove("If-None-Match")
                    .remove("If-Modified-Since").remove("If-Range").remove("Range").build());
            new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                    OriginFetch.upstreamRequest(plain, "HEAD", null), true, entry, false, flight, responses)
                    .headRefresh().start();
            return;
        }
        if (sent == null) {
            sent = head.withHeaders(head.headers().toBuilder().remove("If-None-Match").remove("If-Modified-Since")
                    .remove("If-Range").remove("Range").build());
        }
        new OriginFetch(cache, cache.pool(ctx.channel().eventLoop()), upstream, head,
                OriginFetch.upstreamRequest(sent, "GET", null), true, entry, conditional, flight, responses).start();
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
        new OriginFetch(cache, pool, owner, head, toPeer, false, null, false, null, responses)
                .toShardOwner()
                .onUnreachable(() -> {
                    RequestHead plain = head.withHeaders(head.headers().toBuilder().remove("If-None-Match")
                            .remove("If-Modified-Since").build());
                    new OriginFetch(cache, pool, origin, head, OriginFetch.upstreamRequest(plain, "GET", null), false,
                            null, false, null, responses).start();
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

    /**
     * This connection's collapsed range request, answered from the flight's bytes before it lands when the
     * response may serve it as it is (fresh for the request, its Vary matching: {@code lookup} says FRESH or
     * STALE) and {@link ClientResponses#singleRange} gives one range. Holds copies of what it needs, since
     * the flight asks from the fetch's thread; the answer is written on this connection's.
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
            return ClientResponses.singleRange(request, ranges, ifRanges, response.response(), length);
        }

        @Override
        public void serve(StoredResponse response, ByteRanges.Range range, long length, ByteBuf content) {
            try {
                ctx.executor().execute(() -> {
                    cache.hits.increment();
                    cache.earlyRanges.increment();
                    responses.servePartial(response.response(), range, length,
                            CacheStrategy.currentAge(response, cache.clock.instant()), content);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                content.release(); // the event loop is shutting down: the connection goes with it
            }
        }
    }
}
