package io.slipstream.worker.cache;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The checks of a request head before any lookup, as pure functions: each returns the {@link Refusal} to
 * answer with, or {@code null} when the request passes. No I/O; the frontend writes the answer.
 */
final class RequestChecks {

    /** Longer than any registered method (the longest, e.g. UPDATEREDIRECTREF, have 17 characters). */
    static final int MAX_METHOD_LENGTH = 32;
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private RequestChecks() {
    }

    /** The answer to a request the decoder or {@link RequestGuard} marked failed with {@code cause}. */
    static Refusal decoderFailure(Throwable cause, CacheProxySettings settings) {
        if (cause instanceof RequestGuard.TooManyFieldsException) {
            return new Refusal(431, cause.getMessage(), true);
        } else if (cause instanceof TooLongHttpHeaderException) {
            return new Refusal(431, "request header fields larger than " + settings.maxHeaderBytes + " bytes", true);
        } else if (cause instanceof TooLongHttpLineException) {
            return new Refusal(414, "request line longer than " + settings.maxInitialLineBytes + " bytes", true);
        } else if (cause instanceof TooLongFrameException) {
            return new Refusal(431, "request head too large", true);
        }
        return new Refusal(400, "malformed request: " + cause.getMessage(), true);
    }

    /** HTTP/1.0 and HTTP/1.1 are served; any other version is answered 505. */
    static Refusal version(HttpVersion version) {
        if (!version.equals(HttpVersion.HTTP_1_1) && !version.equals(HttpVersion.HTTP_1_0)) {
            return new Refusal(505, "HTTP version " + version + " (expected: HTTP/1.0 or HTTP/1.1)", true);
        }
        return null;
    }

    /** A method must be a token of at most {@link #MAX_METHOD_LENGTH} characters, and not CONNECT or TRACE. */
    static Refusal method(String method) {
        if (!TOKEN.matcher(method).matches()) {
            return new Refusal(400, "invalid method (expected: an HTTP token)", true);
        }
        if (method.length() > MAX_METHOD_LENGTH) {
            return new Refusal(501, "method of " + method.length() + " characters (expected: at most "
                    + MAX_METHOD_LENGTH + ")", true);
        }
        if (method.equals("CONNECT")) {
            return new Refusal(501, "CONNECT is not supported", true);
        }
        if (method.equals("TRACE")) {
            return new Refusal(405, "TRACE is not allowed", false);
        }
        return null;
    }

    /** A request whose {@code Via} lines name this proxy three times or more is looping (answered 508). */
    static Refusal via(List<String> via) {
        int n = 0;
        for (String v : via) {
            for (int i = v.indexOf("slipstream"); i >= 0; i = v.indexOf("slipstream", i + 1)) {
                n++;
            }
        }
        return n >= 3 ? new Refusal(508, "request loop: Via shows this proxy three times already", true) : null;
    }
}
