package io.slipstream.worker;

/**
 * Deadlines on what HTTP clients send to the cache proxy and the gateway's L7 dispatch (slowloris
 * protection): a complete request head within {@code headMillis} (else 408 and close); at the cache, a
 * request body within {@code idleMillis} after its head (else 408 and close), and a keep-alive connection
 * closed after {@code idleMillis} with nothing owed and nothing arriving.
 *
 * @param headMillis head timeout, 1..3600000 ms
 * @param idleMillis keep-alive idle and request body timeout, 1..3600000 ms
 */
public record ClientTimeouts(long headMillis, long idleMillis) {

    /** 10 s for a head, 60 s idle. */
    public static final ClientTimeouts DEFAULT = new ClientTimeouts(10_000, 60_000);

    public ClientTimeouts {
        if (headMillis < 1 || headMillis > 3_600_000) {
            throw new IllegalArgumentException("head timeout: " + headMillis + " ms (expected: 1..3600000)");
        }
        if (idleMillis < 1 || idleMillis > 3_600_000) {
            throw new IllegalArgumentException("idle timeout: " + idleMillis + " ms (expected: 1..3600000)");
        }
    }
}
