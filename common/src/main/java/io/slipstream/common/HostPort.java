package io.slipstream.common;

import java.net.InetSocketAddress;
import java.util.Objects;

/** A {@code host:port} pair as written in registrations and configuration ({@code [v6]:port} for IPv6). */
public final class HostPort {

    private final String host;
    private final int port;

    private HostPort(String host, int port) {
        this.host = host;
        this.port = port;
    }

    public static HostPort of(String host, int port) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: '" + host + "' (expected: non-empty)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 1..65535)");
        }
        return new HostPort(host.startsWith("[") ? host.substring(1, host.length() - 1) : host, port);
    }

    /** Parses {@code host:port} or {@code [v6]:port}. */
    public static HostPort parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("endpoint: null (expected: host:port)");
        }
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("endpoint: '" + text + "' (expected: host:port)");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("endpoint: '" + text + "' (expected: host:port with a numeric port)");
        }
        return of(text.substring(0, colon), port);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public InetSocketAddress toUnresolved() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostPort && ((HostPort) o).host.equals(host) && ((HostPort) o).port == port;
    }

    @Override
    public int hashCode() {
        return Objects.hash(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
