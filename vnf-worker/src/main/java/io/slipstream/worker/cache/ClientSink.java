package io.slipstream.worker.cache;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import java.time.Duration;

/** Where an origin fetch delivers its answer for a waiting client; called on the client's event loop. */
interface ClientSink {

    /**
     * Answers from a stored entry with {@code Age} from {@code age} (a 304 when the client's own
     * conditional matches). The caller holds a reference to {@code entry} for the duration of the call.
     */
    void serveEntry(CachedResponse entry, Duration age);

    /**
     * Forwards an informational (1xx) response ahead of the final one, when the client can take it
     * (RFC 9110 §15.2: not to HTTP/1.0 clients); hop-by-hop fields are stripped here.
     */
    void serveInformational(HttpResponse informational);

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
