package io.slipstream.worker.cache.policy;

import java.net.URI;
import java.util.Objects;

/** The parts of an HTTP request that caching decisions read: method, absolute target URI and headers. */
public final class RequestHead {

    private final String method;
    private final URI uri;
    private final HttpHeaders headers;

    private RequestHead(String method, URI uri, HttpHeaders headers) {
        this.method = method;
        this.uri = uri;
        this.headers = headers;
    }

    /**
     * A request head. The method is case-sensitive (RFC 9110 §9.1) and kept as given; the URI must be absolute
     * (the proxy reconstructs it from the request target and Host, RFC 9110 §7.1).
     */
    public static RequestHead of(String method, URI uri, HttpHeaders headers) {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(headers, "headers");
        if (method.isEmpty() || method.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("method: '" + method + "' (expected: an HTTP token such as GET)");
        }
        if (!uri.isAbsolute() || uri.getHost() == null) {
            throw new IllegalArgumentException("uri: " + uri + " (expected: an absolute URI with a host)");
        }
        return new RequestHead(method, uri, headers);
    }

    /** A GET of {@code uri} with the given alternating header names and values. */
    public static RequestHead get(String uri, String... headerNamesAndValues) {
        return of("GET", URI.create(uri), HttpHeaders.of(headerNamesAndValues));
    }

    public String method() {
        return method;
    }

    public URI uri() {
        return uri;
    }

    public HttpHeaders headers() {
        return headers;
    }

    /** A copy with other headers. */
    public RequestHead withHeaders(HttpHeaders newHeaders) {
        return of(method, uri, newHeaders);
    }

    /** A copy with another method. */
    public RequestHead withMethod(String newMethod) {
        return of(newMethod, uri, headers);
    }

    boolean isGetOrHead() {
        return method.equals("GET") || method.equals("HEAD");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RequestHead)) {
            return false;
        }
        RequestHead r = (RequestHead) o;
        return r.method.equals(method) && r.uri.equals(uri) && r.headers.equals(headers);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, uri, headers);
    }

    /** Method, URI and header names only: values (Authorization, Cookie) stay out of logs. */
    @Override
    public String toString() {
        return method + ' ' + uri + ' ' + headers.names();
    }
}
