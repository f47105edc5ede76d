package io.slipstream.worker.wanopt;

import java.util.Objects;

/**
 * Transparent mode: connections steered to this listener by flow rules (TPROXY in the worker's
 * network namespace) are accepted for their original destination, which goes through the tunnel to
 * a worker at {@code site} that connects to it. Written {@code [BIND_HOST:]PORT@SITE}, e.g.
 * {@code 9000@b} (bound to 127.0.0.1, matching {@code TPROXY --on-ip 127.0.0.1 --on-port 9000}).
 */
public final class TransparentListener {

    /** Where {@code PORT@SITE} binds: the address the TPROXY rule delivers to. */
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";

    private final String bindHost;
    private final int port;
    private final String site;

    public TransparentListener(String bindHost, int port, String site) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("transparent listen port: " + port + " (expected: 0..65535)");
        }
        this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
        this.port = port;
        this.site = Objects.requireNonNull(site, "site");
    }

    public static TransparentListener parse(String text) {
        String expected = "(expected: [BIND_HOST:]PORT@SITE, e.g. 9000@b or 127.0.0.1:9000@b)";
        int at = text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("transparent: '" + text + "' " + expected);
        }
        int colon = text.lastIndexOf(':', at);
        String host = colon < 0 ? DEFAULT_BIND_HOST : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("transparent: '" + text + "' " + expected);
        }
        try {
            return new TransparentListener(host, Integer.parseInt(text.substring(colon + 1, at)), text.substring(at + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("transparent: '" + text + "' " + expected);
        }
    }

    public String bindHost() {
        return bindHost;
    }

    public int port() {
        return port;
    }

    public String site() {
        return site;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransparentListener t && t.bindHost.equals(bindHost) && t.port == port
                && t.site.equals(site);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bindHost, port, site);
    }

    @Override
    public String toString() {
        return (bindHost.indexOf(':') >= 0 ? "[" + bindHost + "]" : bindHost) + ":" + port + "@" + site;
    }
}
