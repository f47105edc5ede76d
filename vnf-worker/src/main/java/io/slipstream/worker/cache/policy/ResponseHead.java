package io.slipstream.worker.cache.policy;

import java.util.Objects;

/** The parts of an HTTP response that caching decisions read: final status code and headers. */
public final class ResponseHead {

    private final int status;
    private final HttpHeaders headers;

    private ResponseHead(int status, HttpHeaders headers) {
        this.status = status;
        this.headers = headers;
    }

    public static ResponseHead of(int status, HttpHeaders headers) {
        Objects.requireNonNull(headers, "headers");
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..999, RFC 9110 §15)");
        }
        return new ResponseHead(status, headers);
    }

    /** A response with the given alternating header names and values. */
    public static ResponseHead of(int status, String... headerNamesAndValues) {
        return of(status, HttpHeaders.of(headerNamesAndValues));
    }

    public int status() {
        return status;
    }

    public HttpHeaders headers() {
        return headers;
    }

    public ResponseHead withHeaders(HttpHeaders newHeaders) {
        return of(status, newHeaders);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResponseHead && ((ResponseHead) o).status == status
                && ((ResponseHead) o).headers.equals(headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, headers);
    }

    @Override
    public String toString() {
        return status + " " + headers;
    }
}
