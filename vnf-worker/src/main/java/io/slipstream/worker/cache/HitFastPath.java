package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.CacheControl;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.StoredResponse;
import io.slipstream.worker.cache.policy.Vary;
import java.time.Duration;
import java.time.Instant;

/**
 * A memo of {@link CacheStrategy#lookup} for the common case, so that a plain hit costs no header
 * conversion and no parsing: a request without {@code Cache-Control}, {@code Pragma} or validators
 * ({@link #plainRequest}) for a stored GET response without {@code Vary} and without {@code no-cache}
 * ({@link #lifetime}, computed once per entry by the core's own {@code freshness}). For exactly those, the
 * core's rules 1-5 (docs/cache.md, "Reuse") reduce to: FRESH with the current age when the freshness
 * lifetime exceeds {@link CacheStrategy#currentAge}; anything else takes the full path. HitFastPathTest
 * checks the two agree.
 */
final class HitFastPath {

    private HitFastPath() {
    }

    /** Whether a request's fields leave the lookup to the stored response alone. */
    static boolean plainRequest(io.netty.handler.codec.http.HttpHeaders h) {
        return !h.contains("Cache-Control") && !h.contains("Pragma") && !h.contains("If-None-Match")
                && !h.contains("If-Modified-Since");
    }

    /** The freshness lifetime of {@code stored} if a plain request may be answered by the fast path, else null. */
    static Duration lifetime(CacheStrategy strategy, StoredResponse stored) {
        if (!stored.request().method().equals("GET")
                || !Vary.of(stored.response()).fieldNames().isEmpty() || Vary.of(stored.response()).isAny()
                || CacheControl.of(strategy.policyView(stored.response()).headers()).noCache()) {
            return null;
        }
        return strategy.freshness(stored).lifetime();
    }

    /** The age to serve with, or null when the full lookup must decide. */
    static Duration freshAge(Duration lifetime, StoredResponse stored, Instant now) {
        return freshAge(lifetime, CacheStrategy.currentAge(stored, stored.responseTime()), stored, now);
    }

    /**
     * As {@link #freshAge(Duration, StoredResponse, Instant)} with the entry's corrected initial age
     * ({@code currentAge} at {@code response_time}) computed once: §4.2.3's current_age is that plus the
     * resident time {@code now - response_time} (0 when now is earlier).
     */
    static Duration freshAge(Duration lifetime, Duration initialAge, StoredResponse stored, Instant now) {
        if (lifetime == null) {
            return null;
        }
        long residentMillis = Math.max(0, now.toEpochMilli() - stored.responseTime().toEpochMilli());
        Duration age = residentMillis == 0 ? initialAge : initialAge.plusMillis(residentMillis);
        return lifetime.compareTo(age) > 0 ? age : null;
    }
}
