package io.slipstream.worker.cache.policy;

import java.time.Duration;
import java.util.Objects;

/** A response's freshness lifetime (RFC 9111 §4.2.1) and where it came from. */
public final class Freshness {

    /** Which rule of §4.2.1 set the lifetime, in the order the rules are tried. */
    public enum Source {
        /** {@code s-maxage}, shared caches only (§5.2.2.10). */
        S_MAXAGE,
        /** {@code max-age} (§5.2.2.1). */
        MAX_AGE,
        /** {@code Expires} minus {@code Date} (§5.3). */
        EXPIRES,
        /** A fraction of the time since {@code Last-Modified} (§4.2.2). */
        HEURISTIC,
        /** None applies: the lifetime is zero and the response is stale from the start. */
        NONE
    }

    private final Duration lifetime;
    private final Source source;

    private Freshness(Duration lifetime, Source source) {
        this.lifetime = lifetime;
        this.source = source;
    }

    static Freshness of(Duration lifetime, Source source) {
        return new Freshness(lifetime.isNegative() ? Duration.ZERO : lifetime, Objects.requireNonNull(source));
    }

    /** Never negative. */
    public Duration lifetime() {
        return lifetime;
    }

    public Source source() {
        return source;
    }

    /** Whether the lifetime is explicit (set by the origin) rather than heuristic or none. */
    public boolean isExplicit() {
        return source != Source.HEURISTIC && source != Source.NONE;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Freshness && ((Freshness) o).lifetime.equals(lifetime) && ((Freshness) o).source == source;
    }

    @Override
    public int hashCode() {
        return lifetime.hashCode() * 31 + source.hashCode();
    }

    @Override
    public String toString() {
        return lifetime.getSeconds() + "s from " + source;
    }
}
