package io.slipstream.worker.cache;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.slipstream.worker.cache.policy.ByteRanges;
import java.time.Duration;

/** Where an origin fetch delivers its answer for a waiting client; called on the client's event loop. */
interface ClientSink {

    /**
     * Answers from a stored entry with {@code Age} from {@code age} (a 304 when the client's own
     * conditional matches). The caller holds a reference to {@code entry} for the duration of the call.
     */
    void serveEntry(CachedResponse entry, Duration age);

    /** Whether the client may receive interim (1xx) responses (RFC 9110 §15.2: not an HTTP/1.0 client). */
    boolean acceptsInformational();

    /** Forwards an informational (1xx) response ahead of the final one; hop-by-hop fields are stripped here. */
    void serveInformational(HttpResponse informational);

    /**
     * The single byte range the client's request asks of {@code response} (a 200 of {@code length} bytes)
     * when it may be served as soon as those bytes arrive: a GET with Range that {@code ByteRanges} answers
     * with exactly one range, and no conditional the client would be answered 304 for; else {@code null}.
     */
    io.slipstream.worker.cache.policy.ByteRanges.Range earlyRange(io.slipstream.worker.cache.policy.ResponseHead response,
                                                                  long length);

    /**
     * Answers with a 206 of {@code range} of a response not (yet) stored: {@code response}'s fields, then
     * {@code content} (exactly the range's bytes; ownership passes to the sink).
     */
    void servePartial(io.slipstream.worker.cache.policy.ResponseHead response, ByteRanges.Range range, long length,
                      Duration age, io.netty.buffer.ByteBuf content);

    /** Starts a relayed response (hop-by-hop fields are stripped here); content follows. */
    void serveHead(HttpResponse head);

    /** Relays content; ownership passes to the sink; a {@code LastHttpContent} ends the response. */
    void serveContent(HttpContent content);

    /** Answers with a short generated error. */
    void serveError(int status, String message);

    /** The relayed response cannot be completed: close the client connection. */
    void abort();

    /** Called when the client can take more after {@link #writable()} returned false. */
    void onWritable(Runnable resume);

    boolean writable();
}
