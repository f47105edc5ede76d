package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One stored response, kept pre-encoded so that a hit costs no encoding: {@link #head()} is the status
 * line and every header that does not change between hits (each line ending in CRLF, but not the blank
 * line), {@link #body()} the content, each in a pooled direct buffer. A hit writes
 * {@code retainedDuplicate()}s of both around a small, freshly encoded {@code Age} part: no copy and no
 * encoding of the stored bytes per hit.
 *
 * <p>Buffer ownership: the entry owns one reference to {@code head} and one to {@code body} (a freshened
 * entry gets a new head and a retained slice of the old body, so a 304 never copies the body). It releases both when its own reference count, separate from the
 * buffers' so that a released entry can never be resurrected by a recycled buffer, drops to zero. Each
 * holder (a store {@code Variants}, an origin fetch, a hit being written) holds one entry reference;
 * readers that found the entry without holding one must {@link #tryRetain()} first and treat failure as
 * a miss.
 */
final class CachedResponse {

    private final StoredResponse stored;
    private final Map<String, String> secondaryKey;
    private final Set<String> tags;
    private final ByteBuf head;
    private final ByteBuf body;
    /** Where the header fields start and end in {@link #head} (after the status line, before Content-Length). */
    private final int fieldsStart;
    private final int fieldsEnd;
    private final RefCount refs = new RefCount();
    private volatile boolean softPurged;
    /** {@link HitFastPath#lifetime}, computed on first use; NOT_COMPUTED until then. */
    private volatile Object fastLifetime = NOT_COMPUTED;
    private static final Object NOT_COMPUTED = new Object();
    private volatile java.time.Duration initialAge;
    /** The disk tier's file whose mapped body this entry serves; null for an entry in memory. */
    private volatile java.nio.file.Path file;
    /** An identical copy of this entry is in the disk tier: evicting it from memory writes nothing. */
    private volatile boolean persisted;

    private CachedResponse(StoredResponse stored, Map<String, String> secondaryKey, Set<String> tags, ByteBuf head,
                           ByteBuf body) {
        this.stored = stored;
        this.secondaryKey = secondaryKey;
        this.tags = tags;
        this.head = head;
        this.body = body;
        this.fieldsStart = head.indexOf(head.readerIndex(), head.writerIndex(), (byte) '\n') + 1 - head.readerIndex();
        this.fieldsEnd = stored.response().status() != 204 && stored.response().status() >= 200
                ? head.readableBytes() - contentLengthLine(body.readableBytes()).length()
                : head.readableBytes();
    }

    private static String contentLengthLine(int contentLength) {
        return "Content-Length: " + contentLength + "\r\n";
    }

    /**
     * Encodes the head of {@code stored} (its response already {@code forStorage}; {@code Age} is left out, each
     * hit sends its own) into a pooled direct buffer from {@code alloc}, beside {@code body}, whose ownership
     * passes to the entry. The returned entry has one reference, owned by the caller.
     */
    static CachedResponse encode(ByteBufAllocator alloc, StoredResponse stored, Map<String, String> secondaryKey,
                                 Set<String> tags, ByteBuf body) {
        byte[] headBytes = encodeHead(stored.response(), body.readableBytes());
        ByteBuf head = alloc.directBuffer(headBytes.length).writeBytes(headBytes);
        return new CachedResponse(stored, secondaryKey, tags, head, body);
    }

    /**
     * An entry of the disk tier: {@code mappedBody} maps the body bytes of {@code file}. The returned entry has one
     * reference, owned by the caller.
     */
    static CachedResponse onDisk(ByteBufAllocator alloc, StoredResponse stored, Map<String, String> secondaryKey,
                                 Set<String> tags, ByteBuf mappedBody, java.nio.file.Path file) {
        CachedResponse e = encode(alloc, stored, secondaryKey, tags, mappedBody);
        e.file = file;
        e.persisted = true;
        return e;
    }

    /**
     * A copy of this (disk) entry with its body in a pooled direct buffer, marked as persisted (the disk tier
     * still holds it). The caller must hold a reference to this entry; the returned one has one reference.
     */
    CachedResponse copyToMemory(ByteBufAllocator alloc) {
        ByteBuf copy = alloc.directBuffer(body.readableBytes()).writeBytes(body, body.readerIndex(),
                body.readableBytes());
        CachedResponse e = encode(alloc, stored, secondaryKey, tags, copy);
        e.persisted = true;
        e.softPurged = softPurged;
        return e;
    }

    /** The disk tier's file of this entry, or null when it lives in memory. */
    java.nio.file.Path file() {
        return file;
    }

    /** An identical copy is in the disk tier. */
    boolean persisted() {
        return persisted;
    }

    /**
     * A new entry for {@code freshened} (after a 304) sharing this entry's body. The caller must hold a
     * reference to this entry; the returned one has one reference, owned by the caller.
     */
    CachedResponse freshen(ByteBufAllocator alloc, StoredResponse freshened) {
        byte[] headBytes = encodeHead(freshened.response(), body.readableBytes());
        ByteBuf newHead = alloc.directBuffer(headBytes.length).writeBytes(headBytes);
        CachedResponse e = new CachedResponse(freshened, secondaryKey, tags, newHead, body.retainedSlice());
        e.file = file; // a freshened disk entry stays in the disk tier (its file keeps the older head)
        return e;
    }

    static byte[] encodeHead(ResponseHead response, int contentLength) {
        StringBuilder sb = new StringBuilder(256);
        HttpResponseStatus status = HttpResponseStatus.valueOf(response.status());
        sb.append("HTTP/1.1 ").append(response.status()).append(' ').append(status.reasonPhrase()).append("\r\n");
        appendFields(sb, response, false);
        if (response.status() != 204 && response.status() >= 200) {
            sb.append(contentLengthLine(contentLength));
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * The stored fields as sent on every answer from this entry: each line but {@code Age}, framing and
     * connection fields and {@code Surrogate-Key}; {@code Accept-Ranges: bytes} for a 200 (this cache serves
     * ranges of it whatever the origin said); our {@code Via}. Without {@code Content-Type} when
     * {@code withoutContentType} (a multipart/byteranges answer has its own).
     */
    static void appendFields(StringBuilder sb, ResponseHead response, boolean withoutContentType) {
        for (String[] line : response.headers().lines()) {
            String name = line[0].toLowerCase(Locale.ROOT);
            if (name.equals("age") || name.equals("content-length") || name.equals("transfer-encoding")
                    || name.equals("connection") || name.equals("keep-alive") || name.equals("surrogate-key")
                    || name.equals("accept-ranges") || (withoutContentType && name.equals("content-type"))) {
                continue;
            }
            sb.append(line[0]).append(": ").append(line[1]).append("\r\n");
        }
        if (response.status() == 200) {
            sb.append("Accept-Ranges: bytes\r\n");
        }
        sb.append("Via: ").append(HttpMessages.VIA).append("\r\n");
    }

    StoredResponse stored() {
        return stored;
    }

    HttpHeaders headers() {
        return stored.response().headers();
    }

    Map<String, String> secondaryKey() {
        return secondaryKey;
    }

    Set<String> tags() {
        return tags;
    }

    /** The pre-encoded head; valid while the caller holds a reference. */
    ByteBuf head() {
        return head;
    }

    /**
     * The header fields of {@link #head()} without the status line and {@code Content-Length} (each line
     * ending in CRLF), for a 206 built around them; a slice valid while the caller holds a reference.
     */
    ByteBuf fields() {
        return head.slice(head.readerIndex() + fieldsStart, fieldsEnd - fieldsStart);
    }

    /** The content; valid while the caller holds a reference. */
    ByteBuf body() {
        return body;
    }

    /** Bytes held (for the store's weigher). */
    int bytes() {
        return head.readableBytes() + body.readableBytes();
    }

    /** The fast path's freshness lifetime, or null when this entry always takes the full lookup. */
    java.time.Duration fastLifetime(io.slipstream.worker.cache.policy.CacheStrategy strategy) {
        Object v = fastLifetime;
        if (v == NOT_COMPUTED) {
            v = HitFastPath.lifetime(strategy, stored);
            fastLifetime = v;
        }
        return (java.time.Duration) v;
    }

    /** {@code currentAge} at {@code response_time} (the corrected initial age, §4.2.3), computed once. */
    java.time.Duration initialAge() {
        java.time.Duration v = initialAge;
        if (v == null) {
            v = io.slipstream.worker.cache.policy.CacheStrategy.currentAge(stored, stored.responseTime());
            initialAge = v;
        }
        return v;
    }

    boolean softPurged() {
        return softPurged;
    }

    /** Soft purge: from now on the entry must be revalidated before use (it may still serve stale-if-error). */
    void markSoftPurged() {
        softPurged = true;
    }

    /** Takes a reference unless the entry has already been released; never resurrects it. */
    boolean tryRetain() {
        return refs.tryRetain();
    }

    /** Gives up one reference; the last one releases both buffers. */
    void release() {
        if (refs.release(this)) {
            head.release();
            body.release();
        }
    }

    int refCnt() {
        return refs.get();
    }

    @Override
    public String toString() {
        return "CachedResponse{" + stored + ", " + bytes() + " bytes, refs " + refs.get() + '}';
    }
}
