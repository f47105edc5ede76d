package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.at;
import static io.slipstream.worker.cache.policy.Fixtures.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.cache.policy.Lookup.Action;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 5861 §4 stale-if-error, bounded by RFC 9111 §4.2.4. */
class StaleIfErrorTest {

    private static final CacheStrategy SHARED = CacheStrategy.shared();
    private static final RequestHead GET = RequestHead.get(Fixtures.URL);

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {500, 502, 503, 504})
    void onOriginError_serverErrorWithinWindow_serveStale(int status) {
        Lookup l = SHARED.onOriginError(GET, ok("Cache-Control", "max-age=10, stale-if-error=60"), at(70), status)
                .orElseThrow();
        assertThat(l.action()).isEqualTo(Action.STALE);
        assertThat(l.ageHeaderValue()).isEqualTo("70");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {200, 404, 501, 505, 429})
    void onOriginError_otherStatus_forwarded(int status) {
        assertThat(SHARED.onOriginError(GET, ok("Cache-Control", "max-age=10, stale-if-error=60"), at(20), status))
                .isEmpty();
    }

    @Test
    void onOriginError_beyondWindow_forwarded() {
        assertThat(SHARED.onOriginError(GET, ok("Cache-Control", "max-age=10, stale-if-error=60"), at(71), 503))
                .isEmpty();
    }

    @Test
    void onOriginUnreachable_withinWindow_serveStale() {
        assertThat(SHARED.onOriginUnreachable(GET, ok("Cache-Control", "max-age=10, stale-if-error=60"), at(20)))
                .isPresent();
    }

    @Test
    void onOriginUnreachable_noDirective_nothingToServe() {
        assertThat(SHARED.onOriginUnreachable(GET, ok("Cache-Control", "max-age=10"), at(20))).isEmpty();
    }

    @Test
    void onOriginUnreachable_nothingStored_nothingToServe() {
        assertThat(SHARED.onOriginUnreachable(GET, null, at(20))).isEmpty();
    }

    @Test
    void onOriginError_requestDirectiveOnly_serveStale() {
        RequestHead req = RequestHead.get(Fixtures.URL, "Cache-Control", "stale-if-error=60");
        assertThat(SHARED.onOriginError(req, ok("Cache-Control", "max-age=10"), at(20), 502)).isPresent();
    }

    @Test
    void onOriginError_requestAndResponseDirectives_smallerWindowWins() {
        RequestHead req = RequestHead.get(Fixtures.URL, "Cache-Control", "stale-if-error=5");
        assertThat(SHARED.onOriginError(req, ok("Cache-Control", "max-age=10, stale-if-error=600"), at(20), 502))
                .isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"max-age=10, stale-if-error=60, must-revalidate",
            "max-age=10, stale-if-error=60, proxy-revalidate", "no-cache, stale-if-error=60"})
    void onOriginError_staleForbiddenByResponse_forwarded(String cc) {
        assertThat(SHARED.onOriginError(GET, ok("Cache-Control", cc), at(20), 503)).isEmpty();
    }

    @Test
    void onOriginError_sMaxAgeWithOriginStaleIfError_serveStale() {
        assertThat(SHARED.onOriginError(GET, ok("Cache-Control", "s-maxage=10, stale-if-error=60"), at(20), 503))
                .isPresent();
    }

    @Test
    void onOriginError_sMaxAgeWithOnlyClientStaleIfError_forwarded() {
        RequestHead req = RequestHead.get(Fixtures.URL, "Cache-Control", "stale-if-error=60");
        assertThat(SHARED.onOriginError(req, ok("Cache-Control", "s-maxage=10"), at(20), 503)).isEmpty();
    }

    @Test
    void onOriginError_invalidWindow_ignored() {
        assertThat(SHARED.onOriginError(GET, ok("Cache-Control", "max-age=10, stale-if-error=soon"), at(20), 503))
                .isEmpty();
    }
}
