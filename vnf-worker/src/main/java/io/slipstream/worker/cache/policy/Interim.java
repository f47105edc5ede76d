package io.slipstream.worker.cache.policy;

/**
 * Interim (1xx) responses from the origin (RFC 9110 §15.2): which ones the proxy forwards to its client.
 * They are never stored. Pure function.
 */
public final class Interim {

    /** More interim responses than this before the final one are dropped (an origin sending endless 1xx). */
    public static final int MAX_FORWARDED = 8;

    private Interim() {
    }

    /**
     * Whether an interim response with {@code status} is forwarded to a client: a 1xx other than 100
     * Continue (the proxy sends complete requests upstream and answers a client's Expect itself) and 101
     * Switching Protocols (Upgrade is not relayed); never to an HTTP/1.0 client (§15.2: a server must not
     * send it one); at most {@link #MAX_FORWARDED} per exchange ({@code forwardedSoFar} already sent).
     */
    public static boolean forwarded(int status, boolean http10Client, int forwardedSoFar) {
        return status >= 102 && status <= 199 && !http10Client && forwardedSoFar < MAX_FORWARDED;
    }
}
