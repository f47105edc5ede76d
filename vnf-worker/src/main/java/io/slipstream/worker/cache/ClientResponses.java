package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.slipstream.worker.cache.policy.ByteRanges;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import io.slipstream.worker.cache.policy.Validation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Writes the responses of one client connection, for the request its {@link Exchange} describes: hits from
 * the store (whole, 304, 206 or 416), parts held of an object, relayed origin responses, and short
 * generated errors; the {@link ClientSink} origin fetches deliver to. Tells the {@link Connection} when a
 * response is complete. Called on the connection's event loop only.
 *
 * <p>Ownership: hits are written as raw bytes through the encoder's context, bypassing
 * {@link HttpResponseEncoder} (which holds no state between messages): retained duplicates or slices of the
 * entry's head and body, which the transport releases once written, and small new buffers for the rest.
 * Relayed content passes through the encoder and is released by it; content handed to
 * {@link #servePartial(ResponseHead, ByteRanges.Range, long, Duration, ByteBuf)} or
 * {@link #serveContent} is owned from then on.
 */
final class ClientResponses implements ClientSink {

    /** What the connection does once a response is complete. */
    interface Connection {

        /** The response is written and flushed: take the next request. */
        void next();

        /** The response is written and the connection closes after it: drop the requests still queued. */
        void closing();

        /** The response could not be completed and the connection was closed. */
        void aborted();
    }

    private static final ByteBuf PARTIAL_STATUS_LINE = Unpooled.unreleasableBuffer(Unpooled.directBuffer()
            .writeBytes("HTTP/1.1 206 Partial Content\r\n".getBytes(StandardCharsets.US_ASCII)));

    private final CacheContext cache;
    private final ChannelHandlerContext ctx;
    /** The encoder's context: bytes written here skip the encoder. */
    private final ChannelHandlerContext raw;
    private final Exchange exchange;
    private final Connection connection;
    private Runnable resume;

    ClientResponses(CacheContext cache, ChannelHandlerContext ctx, Exchange exchange, Connection connection) {
        this.cache = cache;
        this.ctx = ctx;
        this.raw = ctx.pipeline().context(HttpResponseEncoder.class);
        this.exchange = exchange;
        this.connection = connection;
    }

    /** The current response is complete. */
    private void finish(boolean close) {
        if (close || !exchange.keepAlive) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            connection.closing();
            return;
        }
        ctx.flush();
        connection.next();
    }

    /** Runs what {@link #onWritable} left waiting (the client became writable, or went away). */
    void resumeWriting() {
        Runnable r = resume;
        resume = null;
        if (r != null) {
            r.run();
        }
    }

    @Override
    public void serveEntry(CachedResponse entry, Duration age) {
        if (!ctx.channel().isActive()) {
            finish(true);
            return;
        }
        StoredResponse stored = entry.stored();
        if (exchange.head != null && Validation.notModified(exchange.head, stored.response())) {
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
        if (!exchange.rangeLines.isEmpty()) {
            int length = entry.body().readableBytes();
            ByteRanges.Decision d = ByteRanges.decide("GET", exchange.rangeLines, exchange.ifRangeLines,
                    stored.response(), length);
            if (d.outcome() == ByteRanges.Outcome.PARTIAL) {
                cache.rangeHits.increment();
                servePartial(entry, d.ranges(), age);
                return;
            }
            if (d.outcome() == ByteRanges.Outcome.NOT_SATISFIABLE) {
                rangeNotSatisfiable(length);
                return;
            }
        }
        String tail = "Age: " + CacheStrategy.ageHeaderValue(age) + "\r\n"
                + connectionField() + "\r\n";
        ByteBuf tailBuf = ctx.alloc().ioBuffer(tail.length());
        tailBuf.writeCharSequence(tail, StandardCharsets.US_ASCII);
        raw.write(entry.head().retainedDuplicate());
        if (exchange.headOnly) {
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
                + connectionField() + "\r\n";
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
    public ByteRanges.Range earlyRange(ResponseHead response, long length) {
        return singleRange(exchange.head, exchange.rangeLines, exchange.ifRangeLines, response, length);
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

    @Override
    public void servePartial(ResponseHead response, ByteRanges.Range range,
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
                .append(connectionField())
                .append("\r\n");
        raw.write(ascii(sb));
        raw.write(content);
        finish(false);
    }

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
        return !exchange.http10;
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
        boolean bodyless = exchange.headOnly || code == 204 || code == 304 || code < 200;
        if (!hadLength && !bodyless) {
            if (exchange.http10) {
                exchange.keepAlive = false; // close-delimited
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
            }
        }
        HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, head.status(), h);
        connectionHeader(out, false);
        ctx.write(out);
    }

    @Override
    public void serveContent(HttpContent content) {
        boolean last = content instanceof LastHttpContent;
        if (exchange.headOnly) {
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
        error(status, message, false);
    }

    @Override
    public void abort() {
        exchange.keepAlive = false;
        ctx.flush();
        ctx.close();
        connection.aborted();
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

    /**
     * A 206 of {@code ranges} from the parts held of an object (single or multipart), written as retained
     * slices of the held segments; the caller holds a reference to {@code p} for the duration of the call.
     */
    void servePartialObject(PartialObject p, List<ByteRanges.Range> ranges, Duration age) {
        ResponseHead response = p.stored().response();
        long length = p.completeLength();
        String endOfHead = "Age: " + CacheStrategy.ageHeaderValue(age) + "\r\n"
                + connectionField() + "\r\n";
        StringBuilder sb = new StringBuilder(512).append("HTTP/1.1 206 Partial Content\r\n");
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
    }

    /** A 200 of a small JSON document that is not to be stored (the answer to a PURGE). */
    void serveJson(String json) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(json, StandardCharsets.UTF_8));
        r.headers().set("Content-Type", "application/json").set("Content-Length", r.content().readableBytes())
                .set("Cache-Control", "no-store");
        connectionHeader(r, false);
        ctx.write(r);
        finish(false);
    }

    /** A 416 against a representation of {@code length} bytes. */
    void rangeNotSatisfiable(long length) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Unpooled.EMPTY_BUFFER);
        r.headers().set("Content-Range", "bytes */" + length).set("Content-Length", 0)
                .set("Accept-Ranges", "bytes").set("Via", HttpMessages.VIA);
        connectionHeader(r, false);
        ctx.write(r);
        finish(false);
    }

    void refuse(Refusal refusal) {
        error(refusal.status(), refusal.message(), refusal.close());
    }

    /** A short generated response; {@code close} ends the connection after it. */
    void error(int status, String message, boolean close) {
        Rejections.Reason reason = Rejections.forStatus(status);
        if (reason != null) {
            cache.rejected.increment(reason);
        }
        if (close) {
            exchange.keepAlive = false;
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

    /** The {@code Connection} field line a raw (pre-encoded) response needs, if any. */
    private String connectionField() {
        return !exchange.keepAlive ? "Connection: close\r\n" : exchange.http10 ? "Connection: keep-alive\r\n" : "";
    }

    private void connectionHeader(HttpResponse r, boolean close) {
        if (close || !exchange.keepAlive) {
            r.headers().set(HttpHeaderNames.CONNECTION, "close");
        } else if (exchange.http10) {
            r.headers().set(HttpHeaderNames.CONNECTION, "keep-alive");
        }
    }
}
