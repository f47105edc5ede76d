package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.date;
import static io.slipstream.worker.cache.policy.Fixtures.ok;
import static io.slipstream.worker.cache.policy.Fixtures.secs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.policy.Freshness.Source;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §4.2.1 freshness lifetime, §4.2.2 heuristics. */
class FreshnessTest {

    private static final CacheStrategy SHARED = CacheStrategy.shared();
    private static final CacheStrategy PRIVATE = CacheStrategy.builder().shared(false).build();

    @Test
    void freshness_sMaxAgeInSharedCache_winsOverMaxAge() {
        assertThat(SHARED.freshness(ok("Cache-Control", "max-age=10, s-maxage=100")))
                .isEqualTo(Freshness.of(secs(100), Source.S_MAXAGE));
    }

    @Test
    void freshness_sMaxAgeInPrivateCache_ignored() {
        assertThat(PRIVATE.freshness(ok("Cache-Control", "max-age=10, s-maxage=100")))
                .isEqualTo(Freshness.of(secs(10), Source.MAX_AGE));
    }

    @Test
    void freshness_maxAge_winsOverExpires() {
        assertThat(SHARED.freshness(ok("Cache-Control", "max-age=10", "Expires", date(1000))))
                .isEqualTo(Freshness.of(secs(10), Source.MAX_AGE));
    }

    @Test
    void freshness_invalidMaxAge_staleNotExpires() {
        assertThat(SHARED.freshness(ok("Cache-Control", "max-age=-1", "Expires", date(1000))))
                .isEqualTo(Freshness.of(Duration.ZERO, Source.MAX_AGE));
    }

    @Test
    void freshness_expires_minusDate() {
        assertThat(SHARED.freshness(ok("Expires", date(300)))).isEqualTo(Freshness.of(secs(300), Source.EXPIRES));
    }

    @Test
    void freshness_expiresWithoutDate_minusResponseTime() {
        StoredResponse s = StoredResponse.of(RequestHead.get(Fixtures.URL), ResponseHead.of(200, "Expires", date(300)),
                Fixtures.at(0), Fixtures.at(100));
        assertThat(SHARED.freshness(s).lifetime()).isEqualTo(secs(200));
    }

    @Test
    void freshness_expiresBeforeDate_zero() {
        assertThat(SHARED.freshness(ok("Expires", date(-300))).lifetime()).isZero();
    }

    @ParameterizedTest(name = "Expires: \"{0}\"")
    @ValueSource(strings = {"0", "-1", "garbage", "", "Thu, 01 Jan 1970 00:00:00 UTC"})
    void freshness_invalidExpires_alreadyExpired(String expires) {
        assertThat(SHARED.freshness(ok("Expires", expires))).isEqualTo(Freshness.of(Duration.ZERO, Source.EXPIRES));
    }

    @Test
    void freshness_twoDifferentExpires_alreadyExpired() {
        assertThat(SHARED.freshness(ok("Expires", date(300), "Expires", date(600))).lifetime()).isZero();
    }

    @Test
    void freshness_invalidExpires_noHeuristicEvenWithLastModified() {
        assertThat(SHARED.freshness(ok("Expires", "0", "Last-Modified", date(-10_000))).lifetime()).isZero();
    }

    @Test
    void freshness_lastModifiedOnly_tenPercentOfAgeSinceLastModified() {
        assertThat(SHARED.freshness(ok("Last-Modified", date(-10_000))))
                .isEqualTo(Freshness.of(secs(1000), Source.HEURISTIC));
    }

    @Test
    void freshness_heuristic_cappedAtConfiguredMax() {
        CacheStrategy s = CacheStrategy.builder().heuristicMax(Duration.ofMinutes(5)).build();
        assertThat(s.freshness(ok("Last-Modified", date(-10_000_000))).lifetime()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void freshness_heuristicDefaultCap_oneDay() {
        assertThat(SHARED.freshness(ok("Last-Modified", date(-100L * 86_400))).lifetime()).isEqualTo(Duration.ofDays(1));
    }

    @Test
    void freshness_heuristicForNonHeuristicStatus_none() {
        StoredResponse s = Fixtures.stored(ResponseHead.of(302, "Date", date(0), "Last-Modified", date(-10_000)));
        assertThat(SHARED.freshness(s)).isEqualTo(Freshness.of(Duration.ZERO, Source.NONE));
    }

    @Test
    void freshness_heuristicForPublicNonHeuristicStatus_heuristic() {
        StoredResponse s = Fixtures.stored(ResponseHead.of(302, "Date", date(0), "Last-Modified", date(-10_000),
                "Cache-Control", "public"));
        assertThat(SHARED.freshness(s).source()).isEqualTo(Source.HEURISTIC);
    }

    @ParameterizedTest(name = "Last-Modified: \"{0}\"")
    @ValueSource(strings = {"garbage", "Fri, 01 Jan 2027 00:00:00 GMT"})
    void freshness_lastModifiedInvalidOrAfterDate_none(String lastModified) {
        assertThat(SHARED.freshness(ok("Last-Modified", lastModified)).source()).isEqualTo(Source.NONE);
    }

    @Test
    void freshness_nothing_zeroNone() {
        assertThat(SHARED.freshness(ok())).isEqualTo(Freshness.of(Duration.ZERO, Source.NONE));
    }

    @Test
    void builder_fractionOutOfRange_rejectedWithExpectation() {
        assertThatThrownBy(() -> CacheStrategy.builder().heuristicFraction(1.5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: 0..1");
    }
}
