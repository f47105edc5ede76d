package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.date;
import static io.slipstream.worker.cache.policy.Fixtures.secs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9213 targeted cache-control fields, parsed as RFC 8941 dictionaries, and their precedence. */
class TargetedCacheControlTest {

    private static final List<String> TARGETS = List.of("Slipstream-Cache-Control", TargetedCacheControl.CDN);
    private static final CacheStrategy OURS = CacheStrategy.builder().targets(List.of("Slipstream-Cache-Control"))
            .build();
    private static final RequestHead GET = RequestHead.get(Fixtures.URL);

    private static String select(String... headers) {
        return TargetedCacheControl.select(HttpHeaders.of(headers), TARGETS);
    }

    @Test
    void select_cdnField_isUsed() {
        assertThat(select("Cache-Control", "max-age=10", "CDN-Cache-Control", "max-age=600")).isEqualTo("max-age=600");
    }

    @Test
    void select_ownTarget_takesPrecedenceOverCdn() {
        assertThat(select("CDN-Cache-Control", "max-age=600", "Slipstream-Cache-Control", "no-store"))
                .isEqualTo("no-store");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "Max-Age=5", "max-age=5,", "max-age=5;;", "max-age=\"unterminated", "max-age=5 6",
        "=5", "max-age=?2"})
    void select_invalidOrEmptyOwnTarget_fallsBackToTheNextTarget(String bad) {
        assertThat(select("Slipstream-Cache-Control", bad, "CDN-Cache-Control", "max-age=600")).isEqualTo("max-age=600");
    }

    @Test
    void select_noValidTarget_isNull() {
        assertThat(select("Cache-Control", "max-age=10", "CDN-Cache-Control", "MAX-AGE=5")).isNull();
        assertThat(select("Cache-Control", "max-age=10")).isNull();
    }

    @Test
    void select_booleansAndParameters_mapToDirectives() {
        assertThat(select("CDN-Cache-Control", "no-store=?0, private, must-revalidate=?1;x=1, s-maxage=30;y"))
                .isEqualTo("private, must-revalidate, s-maxage=30");
    }

    @Test
    void select_deltaSecondsOfWrongType_becomeInvalidDirectives() {
        assertThat(select("CDN-Cache-Control", "max-age=\"60\", s-maxage=1.5, stale-if-error=(1 2), min-fresh=-3"))
                .isEqualTo("max-age=invalid, s-maxage=invalid, stale-if-error=invalid, min-fresh=invalid");
    }

    @Test
    void select_argumentsOfOtherDirectives_areDropped() {
        assertThat(select("CDN-Cache-Control", "no-cache=\"set-cookie\", public=tok")).isEqualTo("no-cache, public");
    }

    @Test
    void select_severalLines_areOneDictionaryLastValueWins() {
        assertThat(select("CDN-Cache-Control", "max-age=5", "CDN-Cache-Control", "public, max-age=50"))
                .isEqualTo("max-age=50, public");
    }

    @Test
    void apply_target_replacesCacheControlAndDropsExpires() {
        ResponseHead r = ResponseHead.of(200, "Cache-Control", "no-store", "Expires", date(10),
                "CDN-Cache-Control", "max-age=60", "ETag", "\"a\"");
        ResponseHead view = TargetedCacheControl.apply(r, TARGETS);
        assertThat(view.headers().all("Cache-Control")).containsExactly("max-age=60");
        assertThat(view.headers().get("Expires")).isNull();
        assertThat(view.headers().get("ETag")).isEqualTo("\"a\"");
    }

    @Test
    void apply_allFalseDictionary_removesCacheControlEntirely() {
        ResponseHead r = ResponseHead.of(200, "Cache-Control", "no-store", "CDN-Cache-Control", "no-store=?0");
        assertThat(TargetedCacheControl.apply(r, TARGETS).headers().get("Cache-Control")).isNull();
    }

    @Test
    void strategy_cdnNoStore_overridesCacheControlMaxAge() {
        ResponseHead r = ResponseHead.of(200, "Date", date(0), "Cache-Control", "max-age=600",
                "CDN-Cache-Control", "no-store");
        assertThat(CacheStrategy.shared().storable(GET, r).reason()).isEqualTo(Storability.Reason.RESPONSE_NO_STORE);
    }

    @Test
    void strategy_cdnMaxAge_overridesCacheControlNoStoreAndExpires() {
        ResponseHead r = ResponseHead.of(200, "Date", date(0), "Cache-Control", "no-store", "Expires", date(5),
                "CDN-Cache-Control", "max-age=600");
        assertThat(CacheStrategy.shared().storable(GET, r).storable()).isTrue();
        Freshness f = CacheStrategy.shared().freshness(Fixtures.stored(r));
        assertThat(f.lifetime()).isEqualTo(secs(600));
        assertThat(f.source()).isEqualTo(Freshness.Source.MAX_AGE);
    }

    @Test
    void strategy_ownTarget_overridesCdnForLookup() {
        ResponseHead r = ResponseHead.of(200, "Date", date(0), "CDN-Cache-Control", "max-age=600",
                "Slipstream-Cache-Control", "max-age=10");
        StoredResponse stored = Fixtures.stored(r);
        assertThat(CacheStrategy.shared().lookup(GET, stored, Fixtures.at(60)).action()).isEqualTo(Lookup.Action.FRESH);
        assertThat(OURS.lookup(GET, stored, Fixtures.at(60)).action()).isNotEqualTo(Lookup.Action.FRESH);
    }

    @Test
    void strategy_privateCache_ignoresCdnCacheControl() {
        CacheStrategy privateCache = CacheStrategy.builder().shared(false).build();
        assertThat(privateCache.targets()).isEmpty();
        ResponseHead r = ResponseHead.of(200, "Cache-Control", "max-age=5", "CDN-Cache-Control", "no-store");
        assertThat(privateCache.storable(GET, r).storable()).isTrue();
    }

    @Test
    void strategy_targets_ownFirstThenCdn() {
        assertThat(OURS.targets()).containsExactly("Slipstream-Cache-Control", "CDN-Cache-Control");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Bad Name", "Cache-Control", "cache-control", "a:b"})
    void checkTargets_badName_isRejectedWithWhatIsExpected(String bad) {
        assertThatThrownBy(() -> TargetedCacheControl.checkTargets(List.of(bad)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cache target: '" + bad + "'");
    }

    @Test
    void checkTargets_duplicate_isRejected() {
        assertThatThrownBy(() -> CacheStrategy.builder().targets(List.of("X-CC", "x-cc")))
                .hasMessageContaining("listed twice");
        assertThatThrownBy(() -> CacheStrategy.builder().targets(List.of("CDN-Cache-Control")).build())
                .hasMessageContaining("listed twice");
    }
}
