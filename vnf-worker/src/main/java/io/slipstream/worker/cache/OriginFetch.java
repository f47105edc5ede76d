package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.Future;
import io.slipstream.common.HostPort;
import io.slipstream.worker.cache.policy.ByteRanges;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.HttpDates;
import io.slipstream.worker.cache.policy.Interim;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.Invalidation;
import io.slipstream.worker.cache.policy.Lookup;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import io.slipstream.worker.cache.policy.Validation;
import io.slipstream.worker.cache.policy.Vary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One request to the origin and what the cache does with its answer (docs/cache.md, "What the Netty proxy
 * must do", steps 5-7): a storable response no larger than the object limit is accumulated, stored and then
 * served from the store; anything else is relayed to the client as it arrives (and the flight lands at
 * once, so collapsed waiters make their own requests); a 304 to a revalidation freshens the stored
 * variants; origin errors and unreachable origins fall back on stale-if-error. Runs on the event loop of
 * the origin connection, which is the client's.
 *
 * <p>Ownership: the fetch owns {@code request} until the response head arrives (it writes retained
 * duplicates, so it can retry on a fresh connection when a pooled one turns out closed; through a wanopt worker
 * until the fetch ends, so that a body cut before the client had any of it is fetched again), the accumulated
 * body until it is handed to the stored entry, and one reference to {@code stale} until it ends. Every
 * path ends in {@link #end()}, which lands the flight exactly once.
 */
final class OriginFetch implements OriginListener {

    private static final ByteBufAllocator STORE_ALLOC = PooledByteBufAllocator.DEFAULT;
    /** The first allocation of a part's copy; it grows to the announced length as the bytes arrive. */
    private static final int PART_INITIAL_BYTES = 1 << 20;
    private static final int MAX_ATTEMPTS = 3;

    private enum Mode { AWAIT_HEAD, ACCUMULATE, STREAM, SLICE, DISCARD, DONE }

    private final CacheContext cache;
    private final OriginPool pool;
    private final HostPort upstream;
    private final RequestHead clientHead;
    private final boolean cacheable;
    private final boolean conditional;
    /** The waiting client; null for a background fetch, and once it has been answered early (a range). */
    private ClientSink sink;
    private FullHttpRequest request;
    private CachedResponse stale;
    private Flights.Flight flight;
    private Mode mode = Mode.AWAIT_HEAD;
    private boolean ended;
    private int attempts;
    private boolean reused;
    /** The origin connection goes through a wanopt worker (cache+wanopt chain). */
    private boolean tunneled;
    /** Wanopt workers whose connection died under this fetch: a retry tries them last. */
    private Set<HostPort> failedHops = Set.of();
    private Channel origin;
    private Instant requestTime;
    private Instant responseTime;
    private HttpResponse nettyHead;
    private ResponseHead responseHead;
    private ByteBuf body;
    private Runnable unreachable;
    /** Fetching from the shard member that owns the key, not from an origin: not counted as origin traffic. */
    private boolean toShardOwner;
    private boolean headRefresh;
    private int informational;
    /** ACCUMULATE: the flight's range waiters are told as the bytes arrive ({@link Flights.Flight#arrived}). */
    private boolean waitersServedEarly;
    /** ACCUMULATE: the client's range, served as soon as the accumulated bytes cover it. */
    private ByteRanges.Range early;
    /** SLICE: the client's range of the relayed response, and how many content bytes have gone by. */
    private ByteRanges.Range slice;
    private long streamed;
    private long length;
    /** STREAM: the disk tier's file being written as the response goes by (too large for memory), or null. */
    private DiskTier.Spool spool;
    /** A range passed through: its 206 may be kept as a part of the representation (RFC 9111 §3.4). */
    private boolean collectPart;
    /** STREAM of a 206, SLICE of a 200: the part being kept and its bytes so far (a copy), or null. */
    private PartialContent.Part part;
    private ByteBuf partBody;
    /** A part too large for memory being written to the disk tier as it goes by (instead of partBody), or null. */
    private DiskTier.Spool partSpool;

    /**
     * @param clientHead the client's request as the policy sees it (absolute URI, end-to-end fields)
     * @param request what is sent upstream; ownership passes to the fetch
     * @param cacheable GET/HEAD through the cache: the response may be stored
     * @param stale a stored entry being revalidated or kept for stale-if-error (a reference passes to the
     *              fetch), or {@code null}
     * @param conditional {@code request} carries the validators of {@code stale}
     * @param flight the flight this fetch leads, or {@code null}
     * @param sink the client waiting for the answer, or {@code null} for a background revalidation
     */
    OriginFetch(CacheContext cache, OriginPool pool, HostPort upstream, RequestHead clientHead,
                FullHttpRequest request, boolean cacheable, CachedResponse stale, boolean conditional,
                Flights.Flight flight, ClientSink sink) {
        this.cache = cache;
        this.pool = pool;
        this.upstream = upstream;
        this.clientHead = clientHead;
        this.request = request;
        this.cacheable = cacheable;
        this.stale = stale;
        this.conditional = conditional;
        this.flight = flight;
        this.sink = sink;
    }

    /** The request sent upstream for {@code head}: origin-form target, {@code Via} added, exact Content-Length. */
    static FullHttpRequest upstreamRequest(RequestHead head, String method, ByteBuf body) {
        String path = head.uri().getRawPath();
        String query = head.uri().getRawQuery();
        String target = (path == null || path.isEmpty() ? "/" : path) + (query != null ? "?" + query : "");
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), target,
                body == null ? Unpooled.EMPTY_BUFFER : body, false);
        HttpMessages.copy(head.headers(), r.headers());
        r.headers().remove("Content-Length");
        r.headers().remove(CacheProxySettings.ADMIN_TOKEN_HEADER);
        r.headers().remove(CacheProxySettings.PEER_HEADER);
        if (r.content().isReadable() || !(method.equals("GET") || method.equals("HEAD"))) {
            r.headers().set("Content-Length", r.content().readableBytes());
        }
        if (!r.headers().contains("Host")) {
            r.headers().set("Host", head.uri().getRawAuthority());
        }
        r.headers().add("Via", HttpMessages.VIA);
        return r;
    }

    private void countOriginBytes(int n) {
        if (!toShardOwner) {
            cache.originBytes.add(n);
            if (tunneled) {
                cache.chain.originBytes.add(n);
            }
        }
    }

    /** Instead of answering 502/504 when no response arrived at all, run {@code fallback} (peer fetches). */
    OriginFetch onUnreachable(Runnable fallback) {
        this.unreachable = fallback;
        return this;
    }

    /** This fetch asks the shard member owning the key: its requests and bytes are not origin traffic. */
    OriginFetch toShardOwner() {
        this.toShardOwner = true;
        return this;
    }

    /**
     * This fetch is a HEAD sent to refresh {@code stale} for a HEAD client (RFC 9111 §4.3.5): a 200 whose
     * validators and length match updates the stored headers and freshness, as a 304 does; a 200 that does
     * not marks the stored response stale; the answer is never stored (it has no content).
     */
    OriginFetch headRefresh() {
        this.headRefresh = true;
        return this;
    }

    /**
     * This fetch passes a client's Range to the origin: a 206 answer that {@link PartialContent} accepts is
     * copied as it is relayed and combined with the parts held of the object.
     */
    OriginFetch collectPart() {
        this.collectPart = true;
        return this;
    }

    void start() {
        attempts++;
        if (!toShardOwner) {
            cache.originRequests.increment();
        }
        pool.acquire(upstream, failedHops).addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                onError(f.cause(), true);
                return;
            }
            Channel ch = f.getNow();
            origin = ch;
            tunneled = ch.attr(OriginPool.HOP).get() != null;
            OriginBackendHandler backend = ch.pipeline().get(OriginBackendHandler.class);
            reused = backend.begin(this, true);
            requestTime = cache.clock.instant();
            ch.writeAndFlush(request.retainedDuplicate()).addListener(w -> {
                if (!w.isSuccess()) {
                    backend.fail(ch, w.cause());
                }
            });
        });
    }

    /**
     * Forwards 1xx responses (e.g. 103 Early Hints) to the waiting client when {@link Interim#forwarded} says
     * so, never to a background revalidation, and never stores them.
     */
    @Override
    public void onInformational(HttpResponse head) {
        if (sink != null && mode == Mode.AWAIT_HEAD
                && Interim.forwarded(head.status().code(), !sink.acceptsInformational(), informational)) {
            informational++;
            cache.informational.increment();
            sink.serveInformational(head);
        }
    }

    @Override
    public void onHead(HttpResponse head) {
        responseTime = cache.clock.instant();
        if (!tunneled) {
            releaseRequest(); // through a wanopt worker it is kept: a body cut before the client had any goes again
        }
        nettyHead = head;
        int code = head.status().code();
        responseHead = ResponseHead.of(code, HttpMessages.endToEnd(head.headers()));
        if ((code == 200 || code == 206) && clientHead.method().equals("GET")) {
            // Parts held of another representation must not be served beside this one (RFC 9111 §3.4).
            cache.store.dropPartialUnless(CacheKey.of(clientHead), PartialContent.strongValidator(responseHead));
        }
        if (!cacheable) {
            for (CacheKey key : Invalidation.targets(clientHead, responseHead)) {
                cache.store.remove(key);
            }
            if (collectPart && code == 206 && sink != null) {
                startPart(PartialContent.of206(responseHead, HttpUtil.getContentLength(head, -1L)));
            }
            relay();
            return;
        }
        if (conditional && code == 304) {
            onNotModified();
            return;
        }
        if (stale != null && (code == 500 || code == 502 || code == 503 || code == 504)) {
            Optional<Lookup> fallback = cache.strategy.onOriginError(clientHead, stale.stored(), responseTime, code);
            if (fallback.isPresent()) {
                mode = Mode.DISCARD;
                landFlight();
                if (sink != null) {
                    sink.serveEntry(stale, fallback.get().age());
                }
                return;
            }
        }
        if (headRefresh) {
            onHeadRefresh(code);
            return;
        }
        length = HttpUtil.getContentLength(head, -1L);
        if (code == 200 && length > cache.rangePassthroughBytes()) {
            cache.largeObjects.put(CacheKey.of(clientHead), Boolean.TRUE);
        } else if (length >= 0) {
            cache.largeObjects.invalidate(CacheKey.of(clientHead));
        }
        boolean storable = cache.strategy.storable(producingRequest(), responseHead).storable();
        // Above the pass-through size (at most the object limit) a range miss takes its range from the
        // stream and stops the fetch; smaller objects are fetched whole and stored.
        ByteRanges.Range range = sink != null && code == 200
                && length > Math.min(cache.rangePassthroughBytes(), cache.store.maxObjectBytes())
                ? sink.earlyRange(storedHead(), length) : null;
        if (range == null && storable && length <= cache.store.maxObjectBytes()) {
            mode = Mode.ACCUMULATE;
            int initial = (int) Math.min(length >= 0 ? Math.max(length, 1) : 8192, cache.store.maxObjectBytes());
            body = STORE_ALLOC.directBuffer(initial, (int) cache.store.maxObjectBytes());
            if (sink != null && code == 200 && length > 0) {
                early = sink.earlyRange(storedHead(), length);
            }
            if (flight != null && code == 200 && length > 0) {
                // Collapsed range requests are answered as their bytes arrive, as the leader's is.
                flight.accumulating(entryParts().stored, length, body, responseTime);
                waitersServedEarly = true;
            }
            return;
        }
        if (range != null) {
            // Too large: the client gets its range as it streams by, and the rest is not fetched.
            if (storable) {
                startPart(PartialContent.ofComplete(responseHead, length, range));
            }
            head.setStatus(HttpResponseStatus.PARTIAL_CONTENT);
            head.headers().set("Content-Length", range.length())
                    .set("Content-Range", range.contentRange(length));
            cache.earlyRanges.increment();
            relay();
            slice = range;
            mode = Mode.SLICE;
            return;
        }
        DiskTier disk = cache.store.disk();
        if (storable && disk != null && sink != null && code == 200 && clientHead.method().equals("GET")
                && length > cache.store.maxObjectBytes()) {
            Entry parts = entryParts();
            spool = disk.spool(CacheKey.of(clientHead), parts.stored, parts.secondaryKey, parts.tags, length);
        }
        relay();
        if (mode != Mode.STREAM && spool != null) {
            spool.abort();
            spool = null;
        }
    }

    /**
     * Starts keeping a copy of the part's bytes when {@code candidate} may be stored: storable as the 200 it
     * is a part of, and no larger than the object limit.
     */
    private void startPart(PartialContent.Part candidate) {
        if (!candidate.ok()) {
            return;
        }
        ResponseHead whole = ResponseHead.of(200, storedHead().headers());
        if (!cache.strategy.storable(producingRequest(), whole).storable()) {
            return;
        }
        PartialContent.ContentRange cr = candidate.contentRange();
        if (cr.length() > cache.store.maxObjectBytes()) {
            // Too large for memory: written to the disk tier as it streams by, never held here.
            DiskTier disk = cache.store.disk();
            if (disk != null) {
                ResponseHead combined = PartialContent.combinedHead(null, storedHead());
                partSpool = disk.spoolPart(CacheKey.of(clientHead), StoredResponse.of(RequestHead.of("GET",
                        clientHead.uri(), HttpHeaders.empty()), combined, requestTime, responseTime),
                        HttpMessages.tags(combined.headers()), new PartialContent.Held(candidate.validator(),
                                cr.completeLength(), List.of(cr.range())));
                if (partSpool != null) {
                    part = candidate;
                }
            }
            return;
        }
        part = candidate;
        // Grown as the bytes arrive: an announced length is not allocated before the origin sends it.
        int length = (int) candidate.contentRange().length();
        partBody = STORE_ALLOC.directBuffer(Math.min(length, PART_INITIAL_BYTES), length);
    }

    /** Adds {@code data} (not consumed) to the part's copy; a part longer than announced is given up. */
    private void copyPart(ByteBuf data) {
        if (partSpool != null) {
            partSpool.append(data); // gives up by itself on more bytes than announced
            return;
        }
        if (partBody == null) {
            return;
        }
        if (partBody.readableBytes() + data.readableBytes() > part.contentRange().length()) {
            dropPart();
            return;
        }
        partBody.writeBytes(data, data.readerIndex(), data.readableBytes());
    }

    /** The part's bytes are all here: hand them to the store (a part shorter than announced is not kept). */
    private void finishPart() {
        if (partSpool != null) {
            // Published (and combined with the parts on disk) once written; fewer bytes than announced: deleted.
            partSpool.finish();
            partSpool = null;
            cache.partsStored.increment();
            return;
        }
        if (partBody == null) {
            return;
        }
        ByteBuf content = partBody;
        partBody = null;
        PartialContent.Part p = responseHead.status() == 206
                ? PartialContent.of206(responseHead, content.readableBytes()) : part;
        if (!p.ok() || content.readableBytes() != p.contentRange().length()) {
            content.release();
            cache.partsRefused.increment();
            return;
        }
        ResponseHead head = storedHead();
        RequestHead storedRequest = RequestHead.of("GET", clientHead.uri(), HttpHeaders.empty());
        CacheStore.PartOutcome outcome = cache.store.addPart(CacheKey.of(clientHead), p, head, storedRequest,
                requestTime, responseTime, content);
        switch (outcome) {
            case STORED, COMBINED, ON_DISK -> cache.partsStored.increment();
            case PROMOTED -> {
                cache.partsStored.increment();
                cache.partialPromotions.increment();
            }
            default -> cache.partsRefused.increment();
        }
    }

    private void dropPart() {
        if (partSpool != null) {
            partSpool.abort();
            partSpool = null;
            cache.partsRefused.increment();
        }
        if (partBody != null) {
            partBody.release();
            partBody = null;
            cache.partsRefused.increment();
        }
    }

    /** What a stored entry of this response is made of. */
    private record Entry(StoredResponse stored, java.util.Map<String, String> secondaryKey,
                         java.util.Set<String> tags) {
    }

    private Entry entryParts() {
        ResponseHead forStorage = storedHead();
        RequestHead producing = producingRequest();
        Vary vary = Vary.of(forStorage);
        RequestHead storedRequest = RequestHead.of("GET", producing.uri(), vary.retain(producing.headers()));
        StoredResponse stored = StoredResponse.of(storedRequest, forStorage, requestTime, responseTime);
        return new Entry(stored, vary.secondaryKey(producing.headers()), HttpMessages.tags(forStorage.headers()));
    }

    /** The response head as it is stored: §3.1 fields removed, a Date when the origin sent none. */
    private ResponseHead storedHead() {
        HttpHeaders headers = CacheStrategy.forStorage(responseHead).headers();
        if (HttpDates.parse(headers.get("Date")) == null) {
            headers = headers.toBuilder().set("Date", HttpDates.format(responseTime)).build();
        }
        return ResponseHead.of(responseHead.status(), headers);
    }

    /** The request the stored response answers: a GET (HEAD clients are fetched with GET, docs/cache.md). */
    private RequestHead producingRequest() {
        return clientHead.method().equals("GET") ? clientHead : clientHead.withMethod("GET");
    }

    private void relay() {
        landFlight();
        if (sink != null) {
            mode = Mode.STREAM;
            sink.serveHead(nettyHead);
        } else {
            mode = Mode.DISCARD;
        }
    }

    private void onNotModified() {
        mode = Mode.DISCARD;
        cache.revalidations.increment();
        CacheKey key = CacheKey.of(clientHead);
        List<CachedResponse> candidates = new ArrayList<>(cache.store.variants(key));
        if (stale != null && !candidates.contains(stale)) {
            candidates.add(stale);
        }
        List<StoredResponse> storedOnes = new ArrayList<>();
        for (CachedResponse c : candidates) {
            storedOnes.add(c.stored());
        }
        List<StoredResponse> targets = Validation.notModifiedTargets(responseHead, storedOnes);
        CachedResponse served = null;
        for (CachedResponse c : candidates) {
            if (targets.stream().noneMatch(t -> t == c.stored())) {
                continue;
            }
            if (c != stale && !c.tryRetain()) {
                continue;
            }
            StoredResponse freshened = Validation.freshen(c.stored(), responseHead, requestTime, responseTime);
            CachedResponse fresh = c.freshen(STORE_ALLOC, freshened);
            cache.store.replace(key, c, fresh);
            if (c == stale) {
                served = fresh;
            } else {
                fresh.release();
                c.release();
            }
        }
        if (served == null) {
            retryUnconditionally();
            return;
        }
        landFlight();
        if (sink != null) {
            sink.serveEntry(served, CacheStrategy.currentAge(served.stored(), responseTime));
        }
        served.release();
    }

    private void onHeadRefresh(int code) {
        if (stale != null && Validation.headUpdates(responseHead, stale.stored().response(),
                stale.body().readableBytes())) {
            mode = Mode.DISCARD;
            cache.headRefreshes.increment();
            StoredResponse freshened = Validation.freshen(stale.stored(), responseHead, requestTime, responseTime);
            CachedResponse fresh = stale.freshen(STORE_ALLOC, freshened);
            cache.store.replace(CacheKey.of(clientHead), stale, fresh);
            landFlight();
            if (sink != null) {
                sink.serveEntry(fresh, CacheStrategy.currentAge(fresh.stored(), responseTime));
            }
            fresh.release();
            return;
        }
        if (stale != null && code == 200) {
            stale.markSoftPurged();
        }
        relay();
    }

    /** No stored response matched the 304 (§4.3.4): ask again without validators, handing on flight and sink. */
    private void retryUnconditionally() {
        HttpHeaders headers = clientHead.headers().toBuilder().remove("If-None-Match").remove("If-Modified-Since")
                .build();
        RequestHead plain = clientHead.withHeaders(headers);
        OriginFetch retry = new OriginFetch(cache, pool, upstream, clientHead, upstreamRequest(plain, "GET", null),
                true, stale, false, flight, sink);
        stale = null;
        flight = null;
        ended = true;
        retry.start();
    }

    @Override
    public void onContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        switch (mode) {
            case ACCUMULATE: {
                ByteBuf data = content.content();
                if ((long) body.readableBytes() + data.readableBytes() > cache.store.maxObjectBytes()) {
                    ByteBuf sofar = body;
                    body = null;
                    relay();
                    if (mode == Mode.STREAM) {
                        sink.serveContent(new DefaultHttpContent(sofar));
                    } else {
                        sofar.release();
                    }
                    onContent(content);
                    return;
                }
                countOriginBytes(data.readableBytes());
                body.writeBytes(data);
                content.release();
                if (waitersServedEarly && flight != null) {
                    flight.arrived(body.readableBytes());
                }
                if (early != null && body.readableBytes() > early.last()) {
                    serveEarly();
                }
                if (last) {
                    store();
                }
                return;
            }
            case SLICE:
                onSlice(content, last);
                return;
            case STREAM:
                if (last) {
                    mode = Mode.DONE;
                }
                countOriginBytes(content.content().readableBytes());
                copyPart(content.content());
                if (last) {
                    finishPart();
                }
                if (spool != null) {
                    spool.append(content.content());
                    if (last) {
                        spool.finish();
                        spool = null;
                    }
                }
                sink.serveContent(content);
                if (last) {
                    end();
                } else if (!sink.writable() && origin != null) {
                    Channel ch = origin;
                    ch.config().setAutoRead(false);
                    sink.onWritable(() -> {
                        ch.config().setAutoRead(true);
                        ch.read();
                    });
                }
                return;
            default:
                content.release();
                if (last) {
                    mode = Mode.DONE;
                    end();
                }
        }
    }

    /** The client's range has arrived (the rest of the object is still accumulating): answer it now. */
    private void serveEarly() {
        ByteRanges.Range r = early;
        early = null;
        ClientSink s = sink;
        sink = null;
        ResponseHead head = storedHead();
        StoredResponse stored = StoredResponse.of(producingRequest(), head, requestTime, responseTime);
        cache.earlyRanges.increment();
        s.servePartial(head, r, length, CacheStrategy.currentAge(stored, cache.clock.instant()),
                body.retainedSlice(body.readerIndex() + (int) r.first(), (int) r.length()));
    }

    /** SLICE: forwards the part of {@code content} inside the client's range; stops the fetch after it. */
    private void onSlice(HttpContent content, boolean last) {
        ByteBuf data = content.content();
        long start = streamed;
        long end = start + data.readableBytes();
        streamed = end;
        countOriginBytes(data.readableBytes());
        long from = Math.max(start, slice.first());
        long to = Math.min(end, slice.last() + 1);
        boolean done = end > slice.last() || last;
        ByteBuf part = from < to ? data.retainedSlice(data.readerIndex() + (int) (from - start), (int) (to - from))
                : io.netty.buffer.Unpooled.EMPTY_BUFFER;
        content.release();
        copyPart(part);
        if (!done) {
            sink.serveContent(new DefaultHttpContent(part));
            if (!sink.writable() && origin != null) {
                Channel ch = origin;
                ch.config().setAutoRead(false);
                sink.onWritable(() -> {
                    ch.config().setAutoRead(true);
                    ch.read();
                });
            }
            return;
        }
        mode = Mode.DONE;
        if (end > slice.last()) {
            finishPart(); // the origin's body ending before the range would be a lie: not kept
        } else {
            dropPart();
        }
        ClientSink s = sink;
        sink = null;
        s.serveContent(new io.netty.handler.codec.http.DefaultLastHttpContent(part));
        end();
        if (!last && origin != null) {
            origin.close(); // the rest of the object is not wanted: stop reading it
        }
    }

    private void store() {
        mode = Mode.DONE;
        Entry parts = entryParts();
        StoredResponse stored = parts.stored;
        CachedResponse entry = CachedResponse.encode(STORE_ALLOC, stored, parts.secondaryKey, parts.tags, body);
        body = null;
        cache.store.put(CacheKey.of(clientHead), entry);
        landFlight();
        if (sink != null) {
            sink.serveEntry(entry, CacheStrategy.currentAge(stored, cache.clock.instant()));
        }
        entry.release();
        end();
    }

    @Override
    public void onError(Throwable cause, boolean beforeHead) {
        if (mode == Mode.DONE || ended) {
            return;
        }
        // A pooled connection the origin had closed, or a wanopt worker that died with the request: nothing came
        // back, so an idempotent request goes again. Through the other wanopt workers first: the pool still holds
        // connections to a dead one that look open until their reset is read, and the retries must not all be
        // spent on them (next hop, then peerUnavailable, when none is left).
        boolean retryable = attempts < MAX_ATTEMPTS && request != null && isIdempotent(request.method());
        if (beforeHead && mode == Mode.AWAIT_HEAD && (reused || tunneled) && retryable) {
            retry();
            return;
        }
        // A wanopt worker that died while the body was being accumulated: the client has had nothing yet (no early
        // range), so the partial body is dropped and the request goes again. The flight lands first: range waiters
        // served from the bytes so far keep what they had, the others look up again.
        if (!beforeHead && mode == Mode.ACCUMULATE && tunneled && sink != null && retryable) {
            if (body != null) {
                body.release();
                body = null;
            }
            early = null;
            waitersServedEarly = false;
            landFlight();
            mode = Mode.AWAIT_HEAD;
            retry();
            return;
        }
        Mode was = mode;
        mode = Mode.DONE;
        releaseRequest();
        if (spool != null) {
            spool.abort();
            spool = null;
        }
        if (body != null) {
            body.release();
            body = null;
        }
        dropPart();
        landFlight();
        if (unreachable != null && was == Mode.AWAIT_HEAD) {
            end();
            unreachable.run();
            return;
        }
        if (sink != null) {
            if (was == Mode.STREAM || was == Mode.SLICE) {
                sink.abort();
            } else if (was == Mode.AWAIT_HEAD || was == Mode.ACCUMULATE) {
                Optional<Lookup> fallback = stale == null ? Optional.empty()
                        : cache.strategy.onOriginUnreachable(clientHead, stale.stored(), cache.clock.instant());
                if (fallback.isPresent()) {
                    sink.serveEntry(stale, fallback.get().age());
                } else if (cause instanceof ChainUnavailableException) {
                    sink.serveError(502, cause.getMessage());
                } else if (cause instanceof OriginTimeoutException) {
                    sink.serveError(504, "origin timed out");
                } else {
                    sink.serveError(502, "origin unreachable or broke the response");
                }
            }
        }
        end();
    }

    /** Sends the request again, the wanopt worker whose connection died tried last. */
    private void retry() {
        HostPort hop = tunneled && origin != null ? origin.attr(OriginPool.HOP).get() : null;
        if (hop != null && !failedHops.contains(hop)) {
            Set<HostPort> failed = new HashSet<>(failedHops);
            failed.add(hop);
            failedHops = Set.copyOf(failed);
        }
        start();
    }

    private static boolean isIdempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE);
    }

    private void landFlight() {
        if (flight != null) {
            Flights.Flight f = flight;
            flight = null;
            f.land();
        }
    }

    private void releaseRequest() {
        if (request != null) {
            request.release();
            request = null;
        }
    }

    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        landFlight();
        releaseRequest();
        dropPart();
        if (spool != null) {
            spool.abort();
            spool = null;
        }
        if (stale != null) {
            stale.release();
            stale = null;
        }
    }
}
