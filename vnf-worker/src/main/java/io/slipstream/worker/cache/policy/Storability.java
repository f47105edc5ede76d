package io.slipstream.worker.cache.policy;

import java.util.Objects;

/** Whether a response may be stored (RFC 9111 §3) and why. */
public final class Storability {

    /** Why; the first rule of §3 that decided. */
    public enum Reason {
        /** Storable: explicit freshness ({@code max-age}, {@code s-maxage} or {@code Expires}). */
        EXPLICIT_FRESHNESS(true),
        /** Storable: the status code is heuristically cacheable (RFC 9110 §15.1). */
        HEURISTICALLY_CACHEABLE_STATUS(true),
        /** Storable: {@code public} (§5.2.2.9). */
        PUBLIC(true),
        /** Storable: {@code private} in a private cache (§5.2.2.7). */
        PRIVATE_IN_PRIVATE_CACHE(true),
        /** The request method is not GET or HEAD. */
        METHOD_NOT_CACHEABLE(false),
        /** 1xx is not a final status. */
        STATUS_NOT_FINAL(false),
        /** The status is 206 (ranges are not stored by this cache) or 304 (not a complete response). */
        STATUS_NOT_SUPPORTED(false),
        /** {@code must-understand} on a status code this cache does not understand (§5.2.2.3). */
        MUST_UNDERSTAND_UNKNOWN_STATUS(false),
        /** {@code no-store} in the request (§5.2.1.5). */
        REQUEST_NO_STORE(false),
        /** {@code no-store} in the response (§5.2.2.5). */
        RESPONSE_NO_STORE(false),
        /** {@code private} in a shared cache (§5.2.2.7). */
        PRIVATE(false),
        /** {@code Authorization} in the request, no {@code public}, {@code s-maxage} or {@code must-revalidate} (§3.5). */
        AUTHORIZATION(false),
        /** {@code Vary: *} never matches a later request (§4.1), so storing is pointless. */
        VARY_ANY(false),
        /** No explicit freshness, not heuristically cacheable, not {@code public} (§3). */
        NOT_CACHEABLE(false);

        private final boolean storable;

        Reason(boolean storable) {
            this.storable = storable;
        }
    }

    private final Reason reason;

    private Storability(Reason reason) {
        this.reason = reason;
    }

    static Storability of(Reason reason) {
        return new Storability(Objects.requireNonNull(reason));
    }

    public boolean storable() {
        return reason.storable;
    }

    public Reason reason() {
        return reason;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Storability && ((Storability) o).reason == reason;
    }

    @Override
    public int hashCode() {
        return reason.hashCode();
    }

    @Override
    public String toString() {
        return (storable() ? "storable: " : "not storable: ") + reason;
    }
}
