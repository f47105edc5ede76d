package io.slipstream.worker.cache.policy;

import java.time.Duration;
import java.util.Objects;

/** What the cache does with a request, given what it holds (RFC 9111 §4, RFC 5861). */
public final class Lookup {

    /** The decision. */
    public enum Action {
        /** Serve the stored response; it is fresh and acceptable to the request (§4.2). */
        FRESH,
        /** Serve the stale stored response, allowed by the request's {@code max-stale} (§4.2.4) or by
         * {@code stale-if-error} after an origin error (RFC 5861 §4). No revalidation is started. */
        STALE,
        /** Serve the stale stored response and revalidate it in the background with
         * {@link #conditionalRequest()} (RFC 5861 §3). */
        STALE_WHILE_REVALIDATE,
        /** Send {@link #conditionalRequest()} to the origin; 304 means the stored response may be used (§4.3). */
        REVALIDATE,
        /** Forward the request unconditionally. {@link #stored()} may still be set: it is the stale response
         * that {@code stale-if-error} may fall back on. */
        MISS,
        /** Answer 504 Gateway Timeout: {@code only-if-cached} and nothing usable is stored (§5.2.1.7). */
        GATEWAY_TIMEOUT
    }

    private final Action action;
    private final StoredResponse stored;
    private final Duration age;
    private final RequestHead conditionalRequest;
    private final String reason;

    private Lookup(Action action, StoredResponse stored, Duration age, RequestHead conditionalRequest, String reason) {
        this.action = action;
        this.stored = stored;
        this.age = age;
        this.conditionalRequest = conditionalRequest;
        this.reason = reason;
    }

    static Lookup of(Action action, StoredResponse stored, Duration age, RequestHead conditionalRequest,
                     String reason) {
        return new Lookup(Objects.requireNonNull(action), stored, age, conditionalRequest, Objects.requireNonNull(reason));
    }

    public Action action() {
        return action;
    }

    /** Whether the stored response is sent to the client now (FRESH, STALE, STALE_WHILE_REVALIDATE). */
    public boolean serves() {
        return action == Action.FRESH || action == Action.STALE || action == Action.STALE_WHILE_REVALIDATE;
    }

    /** The stored response the decision is about, or {@code null}. */
    public StoredResponse stored() {
        return stored;
    }

    /** The current age of {@link #stored()} (§4.2.3), or {@code null} when nothing is stored. */
    public Duration age() {
        return age;
    }

    /** The value of the {@code Age} header to send with a served response (§5.1), or {@code null}. */
    public String ageHeaderValue() {
        return age == null ? null : CacheStrategy.ageHeaderValue(age);
    }

    /** For REVALIDATE and STALE_WHILE_REVALIDATE: the request to send to the origin; otherwise {@code null}. */
    public RequestHead conditionalRequest() {
        return conditionalRequest;
    }

    /** A human-readable why, for logs and debugging headers. */
    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return action + " (" + reason + (age != null ? ", age " + age.getSeconds() + "s" : "") + ')';
    }
}
