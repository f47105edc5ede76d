package io.slipstream.worker.wanopt;

import java.util.Objects;

/**
 * Explicit mode: connections to {@code listenPort} on this worker go through the tunnel to a worker
 * at {@code site}, which connects them to {@code host:port}. Written {@code LISTEN=HOST:PORT@SITE},
 * e.g. {@code 9445=198.18.2.10:445@b}.
 */
public final class PortForward {

    private final int listenPort;
    private final String host;
    private final int port;
    private final String site;

    public PortForward(int listenPort, String host, int port, String site) {
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("forward listen port: " + listenPort + " (expected: 0..65535)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("forward destination port: " + port + " (expected: 1..65535)");
        }
        this.listenPort = listenPort;
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.site = Objects.requireNonNull(site, "site");
    }

    public static PortForward parse(String text) {
        String expected = "(expected: LISTEN_PORT=HOST:PORT@SITE, e.g. 9445=198.18.2.10:445@b)";
        int eq = text.indexOf('=');
        int at = text.lastIndexOf('@');
        int colon = at < 0 ? -1 : text.lastIndexOf(':', at);
        if (eq <= 0 || at < 0 || colon <= eq + 1 || at == text.length() - 1) {
            throw new IllegalArgumentException("forward: '" + text + "' " + expected);
        }
        try {
            return new PortForward(Integer.parseInt(text.substring(0, eq)), text.substring(eq + 1, colon),
                    Integer.parseInt(text.substring(colon + 1, at)), text.substring(at + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("forward: '" + text + "' " + expected);
        }
    }

    public int listenPort() {
        return listenPort;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String site() {
        return site;
    }

    @Override
    public String toString() {
        return listenPort + "=" + host + ":" + port + "@" + site;
    }
}
