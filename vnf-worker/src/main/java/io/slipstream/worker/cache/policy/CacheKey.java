package io.slipstream.worker.cache.policy;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * The primary cache key (RFC 9111 §2): the normalised absolute target URI, independent of the method
 * (a stored GET response also answers HEAD, and unsafe methods invalidate it).
 *
 * <p>Normalisation: scheme and host lower-cased; the default port (80 for http, 443 for https) dropped;
 * an empty path becomes {@code /}; path and query kept verbatim in their raw (percent-encoded) form — no
 * percent-decoding, no dot-segment removal, no query reordering; user info and fragment dropped.
 * Only {@code http} and {@code https} are accepted.
 */
public final class CacheKey {

    private final String value;

    private CacheKey(String value) {
        this.value = value;
    }

    /** The key of {@code uri}. */
    public static CacheKey of(URI uri) {
        Objects.requireNonNull(uri, "uri");
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme) || uri.getHost() == null) {
            throw new IllegalArgumentException("uri: " + uri + " (expected: an absolute http or https URI with a host)");
        }
        StringBuilder sb = new StringBuilder(scheme).append("://").append(uri.getHost().toLowerCase(Locale.ROOT));
        int port = uri.getPort();
        if (port != -1 && port != defaultPort(scheme)) {
            sb.append(':').append(port);
        }
        String path = uri.getRawPath();
        sb.append(path == null || path.isEmpty() ? "/" : path);
        if (uri.getRawQuery() != null) {
            sb.append('?').append(uri.getRawQuery());
        }
        return new CacheKey(sb.toString());
    }

    /**
     * The absolute target URI of a request as the cache builds it (RFC 9110 §7.1): an origin-form target
     * ({@code /path?query}) joined to {@code http://} and the Host field, an absolute {@code http://}
     * target as it is. The cache worker and the gateway both derive keys through this.
     *
     * @param host the Host field value ({@code host[:port]}); only read for origin-form targets
     * @throws IllegalArgumentException if the target is neither form or does not parse
     */
    public static URI targetUri(String target, String host) {
        try {
            if (target.startsWith("/")) {
                if (host == null || host.isEmpty()) {
                    throw new IllegalArgumentException("origin-form target " + target + " without Host");
                }
                return new URI("http://" + host + target);
            }
            if (target.regionMatches(true, 0, "http://", 0, 7)) {
                return new URI(target);
            }
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("request target: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("request target: '" + target
                + "' (expected: origin-form /path or absolute http://)");
    }

    /** The key of {@code request}'s target URI. */
    public static CacheKey of(RequestHead request) {
        return of(request.uri());
    }

    /** Whether {@code a} and {@code b} have the same origin: scheme, host and effective port (RFC 9110 §4.3.1). */
    public static boolean sameOrigin(URI a, URI b) {
        if (a.getScheme() == null || b.getScheme() == null || a.getHost() == null || b.getHost() == null) {
            return false;
        }
        String sa = a.getScheme().toLowerCase(Locale.ROOT);
        String sb = b.getScheme().toLowerCase(Locale.ROOT);
        return sa.equals(sb) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a, sa) == port(b, sb);
    }

    private static int port(URI uri, String scheme) {
        return uri.getPort() != -1 ? uri.getPort() : defaultPort(scheme);
    }

    private static int defaultPort(String scheme) {
        return "http".equals(scheme) ? 80 : "https".equals(scheme) ? 443 : -1;
    }

    /** The normalised URI, e.g. {@code http://example.com/a?b=1}. */
    public String value() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheKey && ((CacheKey) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value;
    }
}
