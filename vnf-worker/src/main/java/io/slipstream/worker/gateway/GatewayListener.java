package io.slipstream.worker.gateway;

import io.slipstream.common.HostPort;
import java.util.Objects;

/**
 * Where a gateway accepts client connections. A VIP listener ({@code --listen [BIND:]PORT=HOST:PORT})
 * gives every connection the same original destination; a transparent listener
 * ({@code --listen-transparent [BIND:]PORT}) accepts connections steered to it by TPROXY
 * ({@code IP_TRANSPARENT}), whose original destination is the accepted socket's local address.
 */
public final class GatewayListener {

    /** Where a listener binds when the value names no address. */
    public static final String DEFAULT_BIND_HOST = "127.0.0.1";

    private final String bindHost;
    private final int port;
    private final HostPort destination;

    private GatewayListener(String bindHost, int port, HostPort destination) {
        this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
        this.port = port;
        this.destination = destination;
    }

    /** A VIP listener on {@code bindHost:port} for {@code destination}. */
    public static GatewayListener vip(String bindHost, int port, HostPort destination) {
        return new GatewayListener(bindHost, checkListenPort(port, "listen"), Objects.requireNonNull(destination));
    }

    /** A transparent listener on {@code bindHost:port}. */
    public static GatewayListener transparent(String bindHost, int port) {
        return new GatewayListener(bindHost, checkListenPort(port, "listen-transparent"), null);
    }

    /**
     * Parses {@code [BIND:]PORT=HOST:PORT}, e.g. {@code 8080=198.18.2.10:80} or
     * {@code 0.0.0.0:8080=198.18.2.10:80}.
     *
     * @throws IllegalArgumentException saying what was expected
     */
    public static GatewayListener parseVip(String text) {
        String expected = "(expected: [BIND_HOST:]PORT=HOST:PORT, e.g. 8080=198.18.2.10:80)";
        int eq = text == null ? -1 : text.indexOf('=');
        if (eq <= 0 || eq == text.length() - 1) {
            throw new IllegalArgumentException("listen: '" + text + "' " + expected);
        }
        HostPort destination;
        try {
            destination = HostPort.parse(text.substring(eq + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("listen: '" + text + "': " + e.getMessage() + " " + expected, e);
        }
        String[] bind = bindAndPort(text.substring(0, eq), "listen", text, expected);
        return vip(bind[0], parsePort(bind[1], "listen", text, expected), destination);
    }

    /**
     * Parses {@code [BIND:]PORT}, e.g. {@code 9000} or {@code 127.0.0.1:9000}.
     *
     * @throws IllegalArgumentException saying what was expected
     */
    public static GatewayListener parseTransparent(String text) {
        String expected = "(expected: [BIND_HOST:]PORT, e.g. 9000 or 127.0.0.1:9000)";
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("listen-transparent: '" + text + "' " + expected);
        }
        String[] bind = bindAndPort(text, "listen-transparent", text, expected);
        return transparent(bind[0], parsePort(bind[1], "listen-transparent", text, expected));
    }

    private static String[] bindAndPort(String s, String option, String text, String expected) {
        int colon = s.lastIndexOf(':');
        String host = colon < 0 ? DEFAULT_BIND_HOST : s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty() || host.indexOf('=') >= 0) {
            throw new IllegalArgumentException(option + ": '" + text + "' " + expected);
        }
        return new String[] {host, s.substring(colon + 1)};
    }

    private static int parsePort(String s, String option, String text, String expected) {
        int port;
        try {
            port = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + text + "': port '" + s + "' is not a number " + expected);
        }
        return checkListenPort(port, option);
    }

    private static int checkListenPort(int port, String option) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(option + " port: " + port + " (expected: 0..65535, 0 for any free port)");
        }
        return port;
    }

    public String bindHost() {
        return bindHost;
    }

    public int port() {
        return port;
    }

    /** The fixed original destination, or {@code null} for a transparent listener. */
    public HostPort destination() {
        return destination;
    }

    public boolean isTransparent() {
        return destination == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GatewayListener l && l.bindHost.equals(bindHost) && l.port == port
                && Objects.equals(l.destination, destination);
    }

    @Override
    public int hashCode() {
        return Objects.hash(bindHost, port, destination);
    }

    @Override
    public String toString() {
        String bind = (bindHost.indexOf(':') >= 0 ? "[" + bindHost + "]" : bindHost) + ":" + port;
        return destination == null ? bind + " (transparent)" : bind + "=" + destination;
    }
}
