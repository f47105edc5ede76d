package io.slipstream.worker.cache;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;

/** Receives one origin exchange, on the origin connection's event loop. */
interface OriginListener {

    /**
     * An informational (1xx) response before the final one (RFC 9110 §15.2), e.g. 103 Early Hints; never
     * 101. Not reference counted.
     */
    void onInformational(HttpResponse informational);

    /** The response head (never 1xx). Not reference counted. */
    void onHead(HttpResponse head);

    /** A piece of content; ownership passes to the listener. A {@code LastHttpContent} ends the exchange. */
    void onContent(HttpContent content);

    /** The exchange failed; nothing more follows. {@code beforeHead} tells whether any response had arrived. */
    void onError(Throwable cause, boolean beforeHead);
}
