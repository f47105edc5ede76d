package io.slipstream.worker.cache;

import io.netty.util.concurrent.FastThreadLocal;
import io.slipstream.common.HostPort;
import io.slipstream.worker.cache.policy.CacheKey;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Resolves a request-target and its {@code Host} lines into the absolute URI, the upstream to ask and the
 * cache key (RFC 9112 §3.2, RFC 9110 §7.1): origin-form ({@code /path}) joined to Host (or, for HTTP/1.0
 * without Host, the configured origin) and sent to the configured origin or, forward proxying, to the
 * Host; absolute-form {@code http://} only when forward proxying. Anything else (authority-form,
 * asterisk-form, other schemes, fragments, user info, several Host lines) is {@link Rejected}.
 * {@link #parse} is pure; {@link #resolve} memoizes its answers per event loop.
 */
final class RequestTargets {

    private static final Pattern HOST = Pattern.compile(
            "[A-Za-z0-9.\\-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?");

    /** What {@link #parse} found: a {@link Target} or a {@link Rejected} target. */
    sealed interface Result permits Target, Rejected {
    }

    /** The absolute target, where to send it, whether it came in absolute form, and its cache key. */
    record Target(URI uri, HostPort upstream, boolean forward, CacheKey key) implements Result {
        Target(URI uri, HostPort upstream, boolean forward) {
            this(uri, upstream, forward, CacheKey.of(uri));
        }
    }

    /** A target the proxy answers with {@code status} and {@code message}, then closes. */
    record Rejected(int status, String message) implements Result {
    }

    private final URI origin;
    private final HostPort originAddress;
    private final boolean forwardProxy;

    /**
     * @param origin the configured origin (its authority stands in for a missing HTTP/1.0 Host), or null
     * @param originAddress where origin-form requests go, or null
     * @param forwardProxy whether absolute-form targets are served (and origin-form ones go to their Host)
     */
    RequestTargets(URI origin, HostPort originAddress, boolean forwardProxy) {
        this.origin = origin;
        this.originAddress = originAddress;
        this.forwardProxy = forwardProxy;
    }

    RequestTargets(CacheProxySettings settings) {
        this(settings.origin, settings.originAddress, settings.forwardProxy);
    }

    /** A memoized target and the parser (settings) that produced it. */
    private record Memo(RequestTargets parser, Target target) {
    }

    /**
     * Parsed targets by Host and request-target, per event loop (popular URLs are parsed once). An entry answers
     * only the parser that made it: proxies with other settings on the same thread parse for themselves.
     */
    private static final FastThreadLocal<Map<String, Memo>> TARGETS = new FastThreadLocal<>() {
        @Override
        protected Map<String, Memo> initialValue() {
            return new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Memo> eldest) {
                    return size() > 4096;
                }
            };
        }
    };

    /** As {@link #parse}, answering a request with one Host line from this thread's memo when it can. */
    Result resolve(String target, List<String> hosts, boolean http10) {
        if (hosts.size() != 1) {
            return parse(target, hosts, http10);
        }
        String memoKey = hosts.get(0) + ' ' + target;
        Map<String, Memo> memo = TARGETS.get();
        Memo m = memo.get(memoKey);
        if (m != null && m.parser == this) {
            return m.target;
        }
        Result r = parse(target, hosts, http10);
        if (r instanceof Target parsed) {
            memo.put(memoKey, new Memo(this, parsed));
        }
        return r;
    }

    /** The target of a request with request-target {@code t} and the {@code Host} lines {@code hosts}. Pure. */
    Result parse(String t, List<String> hosts, boolean http10) {
        if (hosts.size() > 1) {
            return new Rejected(400, "more than one Host field");
        }
        String host = hosts.isEmpty() ? null : hosts.get(0).strip();
        try {
            if (t.startsWith("/")) {
                if (host == null && !http10) {
                    return new Rejected(400, "HTTP/1.1 request without Host");
                }
                if (host == null) {
                    if (origin == null) {
                        return new Rejected(400, "request without Host and no origin configured");
                    }
                    host = origin.getRawAuthority();
                }
                if (host.isEmpty() || !HOST.matcher(host).matches()) {
                    return new Rejected(400, "invalid Host: '" + host + "' (expected: host[:port])");
                }
                URI uri = CacheKey.targetUri(t, host);
                if (uri.getHost() == null || uri.getRawFragment() != null) {
                    return new Rejected(400, "invalid request target: " + t);
                }
                HostPort upstream;
                if (originAddress != null) {
                    upstream = originAddress;
                } else if (forwardProxy) {
                    upstream = HostPort.of(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 80);
                } else {
                    return new Rejected(400, "no origin configured for origin-form requests");
                }
                return new Target(uri, upstream, false);
            }
            if (t.regionMatches(true, 0, "http://", 0, 7)) {
                if (!forwardProxy) {
                    return new Rejected(403, "forward proxying is disabled");
                }
                URI uri = CacheKey.targetUri(t, null);
                if (uri.getHost() == null || uri.getRawUserInfo() != null || uri.getRawFragment() != null
                        || (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().startsWith("/"))) {
                    return new Rejected(400, "invalid absolute request target: " + t);
                }
                if (uri.getRawPath() == null || uri.getRawPath().isEmpty()) {
                    uri = new URI("http://" + uri.getRawAuthority() + "/" + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : ""));
                }
                return new Target(uri, HostPort.of(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 80), true);
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            return new Rejected(400, "invalid request target: " + e.getMessage());
        }
        return new Rejected(400, "request target must be origin-form (/path) or absolute http:// (got: '" + t + "')");
    }
}
