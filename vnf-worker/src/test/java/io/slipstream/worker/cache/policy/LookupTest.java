package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.at;
import static io.slipstream.worker.cache.policy.Fixtures.date;
import static io.slipstream.worker.cache.policy.Fixtures.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.policy.Lookup.Action;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9111 §4 constructing responses from caches, §5.2 directives, RFC 5861 §3. */
class LookupTest {

    private static final CacheStrategy SHARED = CacheStrategy.shared();
    private static final CacheStrategy PRIVATE = CacheStrategy.builder().shared(false).build();
    private static final RequestHead GET = RequestHead.get(Fixtures.URL);

    private static RequestHead get(String cacheControl) {
        return RequestHead.get(Fixtures.URL, "Cache-Control", cacheControl);
    }

    private static Action action(RequestHead request, StoredResponse stored, long nowSeconds) {
        return SHARED.lookup(request, stored, at(nowSeconds)).action();
    }

    // ------------------------------------------------------------------ basics

    @Test
    void lookup_nothingStored_miss() {
        assertThat(action(GET, null, 0)).isEqualTo(Action.MISS);
    }

    @Test
    void lookup_nothingStoredOnlyIfCached_gatewayTimeout() {
        assertThat(action(get("only-if-cached"), null, 0)).isEqualTo(Action.GATEWAY_TIMEOUT);
    }

    @Test
    void lookup_unsafeMethod_missWithoutStoredResponse() {
        Lookup l = SHARED.lookup(GET.withMethod("POST"), ok("Cache-Control", "max-age=60"), at(1));
        assertThat(l.action()).isEqualTo(Action.MISS);
        assertThat(l.stored()).isNull();
    }

    @Test
    void lookup_freshWithinMaxAge_freshWithAge() {
        Lookup l = SHARED.lookup(GET, ok("Cache-Control", "max-age=60"), at(30));
        assertThat(l.action()).isEqualTo(Action.FRESH);
        assertThat(l.serves()).isTrue();
        assertThat(l.ageHeaderValue()).isEqualTo("30");
    }

    @Test
    void lookup_ageEqualsLifetime_stale() {
        assertThat(action(GET, ok("Cache-Control", "max-age=60", "ETag", "\"v1\""), 60)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_headRequestStoredGet_fresh() {
        assertThat(action(GET.withMethod("HEAD"), ok("Cache-Control", "max-age=60"), 1)).isEqualTo(Action.FRESH);
    }

    @Test
    void lookup_getRequestStoredHead_miss() {
        StoredResponse head = Fixtures.stored(GET.withMethod("HEAD"), ResponseHead.of(200, "Cache-Control", "max-age=60"));
        assertThat(action(GET, head, 1)).isEqualTo(Action.MISS);
    }

    @Test
    void lookup_storedForOtherKey_rejected() {
        RequestHead other = RequestHead.get("http://example.com/b");
        assertThatThrownBy(() -> SHARED.lookup(other, ok(), at(0))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: one stored under the request's key");
    }

    @Test
    void lookup_equivalentUriSpelling_sameKeyServed() {
        RequestHead req = RequestHead.of("GET", URI.create("http://EXAMPLE.com:80/a"), HttpHeaders.empty());
        assertThat(action(req, ok("Cache-Control", "max-age=60"), 1)).isEqualTo(Action.FRESH);
    }

    // ------------------------------------------------------------------ Vary

    @Test
    void lookup_varyMatches_fresh() {
        StoredResponse s = Fixtures.stored(RequestHead.get(Fixtures.URL, "Accept-Encoding", "gzip, br"),
                ResponseHead.of(200, "Date", date(0), "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"));
        assertThat(action(RequestHead.get(Fixtures.URL, "Accept-Encoding", "br,gzip"), s, 1)).isEqualTo(Action.FRESH);
    }

    @Test
    void lookup_varyMismatch_miss() {
        StoredResponse s = Fixtures.stored(RequestHead.get(Fixtures.URL, "Accept-Encoding", "gzip"),
                ResponseHead.of(200, "Date", date(0), "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"));
        Lookup l = SHARED.lookup(RequestHead.get(Fixtures.URL, "Accept-Encoding", "br"), s, at(1));
        assertThat(l.action()).isEqualTo(Action.MISS);
        assertThat(l.stored()).isNull();
    }

    @Test
    void lookup_varyStar_miss() {
        assertThat(action(GET, ok("Cache-Control", "max-age=60", "Vary", "*"), 1)).isEqualTo(Action.MISS);
    }

    @Test
    void select_severalVariants_matchingMostRecentByDate() {
        ResponseHead gzipOld = ResponseHead.of(200, "Date", date(0), "Vary", "Accept-Encoding", "ETag", "\"old\"");
        ResponseHead gzipNew = ResponseHead.of(200, "Date", date(10), "Vary", "Accept-Encoding", "ETag", "\"new\"");
        ResponseHead br = ResponseHead.of(200, "Date", date(20), "Vary", "Accept-Encoding", "ETag", "\"br\"");
        RequestHead gzip = RequestHead.get(Fixtures.URL, "Accept-Encoding", "gzip");
        List<StoredResponse> all = List.of(Fixtures.stored(gzip, gzipOld), Fixtures.stored(gzip, gzipNew),
                Fixtures.stored(RequestHead.get(Fixtures.URL, "Accept-Encoding", "br"), br));
        assertThat(SHARED.select(gzip, all).response()).isEqualTo(gzipNew);
        assertThat(SHARED.select(RequestHead.get(Fixtures.URL, "Accept-Encoding", "zstd"), all)).isNull();
    }

    // ------------------------------------------------------------------ no-cache

    @Test
    void lookup_requestNoCacheOnFresh_revalidate() {
        assertThat(action(get("no-cache"), ok("Cache-Control", "max-age=60", "ETag", "\"v1\""), 1))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_pragmaNoCacheWithoutCacheControl_revalidate() {
        RequestHead req = RequestHead.get(Fixtures.URL, "Pragma", "no-cache");
        assertThat(action(req, ok("Cache-Control", "max-age=60", "ETag", "\"v1\""), 1)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_pragmaNoCacheWithCacheControl_pragmaIgnored() {
        RequestHead req = RequestHead.get(Fixtures.URL, "Pragma", "no-cache", "Cache-Control", "max-stale");
        assertThat(action(req, ok("Cache-Control", "max-age=60"), 1)).isEqualTo(Action.FRESH);
    }

    @Test
    void lookup_responseNoCacheOnFresh_revalidate() {
        assertThat(action(GET, ok("Cache-Control", "no-cache, max-age=60", "ETag", "\"v1\""), 1))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_responseQualifiedNoCache_treatedAsUnqualified() {
        assertThat(action(GET, ok("Cache-Control", "no-cache=\"Set-Cookie\", max-age=60", "ETag", "\"v1\""), 1))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_requestNoStore_stillServedFromCache() {
        assertThat(action(get("no-store"), ok("Cache-Control", "max-age=60"), 1)).isEqualTo(Action.FRESH);
    }

    // ------------------------------------------------------------------ request max-age, min-fresh

    @ParameterizedTest(name = "request max-age={0} at age {1} -> {2}")
    @CsvSource({"30, 30, FRESH", "30, 31, REVALIDATE", "0, 0, FRESH", "0, 1, REVALIDATE", "abc, 1, REVALIDATE"})
    void lookup_requestMaxAge_limitsAcceptableAge(String maxAge, long now, Action expected) {
        assertThat(action(get("max-age=" + maxAge), ok("Cache-Control", "max-age=600", "ETag", "\"v1\""), now))
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "min-fresh={0} at age {1} -> {2}")
    @CsvSource({"10, 50, FRESH", "10, 51, REVALIDATE", "garbage, 59, FRESH"})
    void lookup_requestMinFresh_needsRemainingFreshness(String minFresh, long now, Action expected) {
        assertThat(action(get("min-fresh=" + minFresh), ok("Cache-Control", "max-age=60", "ETag", "\"v1\""), now))
                .isEqualTo(expected);
    }

    // ------------------------------------------------------------------ stale: max-stale, must-revalidate

    @ParameterizedTest(name = "max-stale {0} at age {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "max-stale=30|90|STALE",
            "max-stale=30|91|REVALIDATE",
            "max-stale|100000|STALE",
            "max-stale=-1|61|REVALIDATE",
            "max-stale=x|61|REVALIDATE"})
    void lookup_requestMaxStale_acceptsBoundedStaleness(String cc, long now, Action expected) {
        assertThat(action(get(cc), ok("Cache-Control", "max-age=60", "ETag", "\"v1\""), now)).isEqualTo(expected);
    }

    @Test
    void lookup_maxStaleWithRequestMaxAgeExceeded_revalidate() {
        assertThat(action(get("max-stale, max-age=60"), ok("Cache-Control", "max-age=10", "ETag", "\"v1\""), 70))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_maxStaleWithMinFresh_revalidate() {
        assertThat(action(get("max-stale, min-fresh=1"), ok("Cache-Control", "max-age=10", "ETag", "\"v1\""), 20))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_maxStaleButMustRevalidate_revalidate() {
        assertThat(action(get("max-stale"), ok("Cache-Control", "max-age=10, must-revalidate", "ETag", "\"v1\""), 20))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_maxStaleButProxyRevalidateInSharedCache_revalidate() {
        assertThat(action(get("max-stale"), ok("Cache-Control", "max-age=10, proxy-revalidate", "ETag", "\"v1\""), 20))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_maxStaleAndProxyRevalidateInPrivateCache_stale() {
        assertThat(PRIVATE.lookup(get("max-stale"), ok("Cache-Control", "max-age=10, proxy-revalidate"), at(20))
                .action()).isEqualTo(Action.STALE);
    }

    @Test
    void lookup_maxStaleButSMaxAgeInSharedCache_revalidate() {
        assertThat(action(get("max-stale"), ok("Cache-Control", "s-maxage=10", "ETag", "\"v1\""), 20))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_mustRevalidateStillFresh_fresh() {
        assertThat(action(GET, ok("Cache-Control", "max-age=10, must-revalidate"), 5)).isEqualTo(Action.FRESH);
    }

    // ------------------------------------------------------------------ stale-while-revalidate (RFC 5861 §3)

    @Test
    void lookup_staleWithinStaleWhileRevalidate_serveAndRevalidateInBackground() {
        Lookup l = SHARED.lookup(GET, ok("Cache-Control", "max-age=10, stale-while-revalidate=30", "ETag", "\"v1\""),
                at(40));
        assertThat(l.action()).isEqualTo(Action.STALE_WHILE_REVALIDATE);
        assertThat(l.serves()).isTrue();
        assertThat(l.conditionalRequest().headers().get("If-None-Match")).isEqualTo("\"v1\"");
    }

    @Test
    void lookup_staleBeyondStaleWhileRevalidate_revalidate() {
        assertThat(action(GET, ok("Cache-Control", "max-age=10, stale-while-revalidate=30", "ETag", "\"v1\""), 41))
                .isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_staleWhileRevalidateWithMustRevalidate_revalidate() {
        assertThat(action(GET, ok("Cache-Control", "max-age=10, stale-while-revalidate=30, must-revalidate",
                "ETag", "\"v1\""), 20)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_staleWhileRevalidateWithSMaxAge_originPermissionHonoured() {
        assertThat(action(GET, ok("Cache-Control", "s-maxage=10, stale-while-revalidate=30"), 20))
                .isEqualTo(Action.STALE_WHILE_REVALIDATE);
    }

    @Test
    void lookup_staleWhileRevalidateButRequestNoCache_revalidate() {
        assertThat(action(get("no-cache"), ok("Cache-Control", "max-age=10, stale-while-revalidate=30",
                "ETag", "\"v1\""), 20)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_staleWhileRevalidateWithoutValidator_backgroundRequestUnconditional() {
        Lookup l = SHARED.lookup(GET, ok("Cache-Control", "max-age=10, stale-while-revalidate=30"), at(20));
        assertThat(l.action()).isEqualTo(Action.STALE_WHILE_REVALIDATE);
        assertThat(l.conditionalRequest()).isEqualTo(GET);
    }

    // ------------------------------------------------------------------ revalidation request, only-if-cached

    @Test
    void lookup_staleWithEtagAndLastModified_conditionalRequestCarriesBoth() {
        Lookup l = SHARED.lookup(GET, ok("Cache-Control", "max-age=10", "ETag", "W/\"v1\"",
                "Last-Modified", date(-100)), at(20));
        assertThat(l.action()).isEqualTo(Action.REVALIDATE);
        assertThat(l.conditionalRequest().headers().get("If-None-Match")).isEqualTo("W/\"v1\"");
        assertThat(l.conditionalRequest().headers().get("If-Modified-Since")).isEqualTo(date(-100));
    }

    @Test
    void lookup_staleWithoutValidator_missKeepingStoredForStaleIfError() {
        Lookup l = SHARED.lookup(GET, ok("Cache-Control", "max-age=10"), at(20));
        assertThat(l.action()).isEqualTo(Action.MISS);
        assertThat(l.stored()).isNotNull();
        assertThat(l.conditionalRequest()).isNull();
    }

    @Test
    void lookup_staleOnlyIfCached_gatewayTimeout() {
        assertThat(action(get("only-if-cached"), ok("Cache-Control", "max-age=10", "ETag", "\"v1\""), 20))
                .isEqualTo(Action.GATEWAY_TIMEOUT);
    }

    @Test
    void lookup_freshOnlyIfCached_fresh() {
        assertThat(action(get("only-if-cached"), ok("Cache-Control", "max-age=60"), 20)).isEqualTo(Action.FRESH);
    }

    @Test
    void lookup_staleOnlyIfCachedWithMaxStale_stale() {
        assertThat(action(get("only-if-cached, max-stale"), ok("Cache-Control", "max-age=10"), 20))
                .isEqualTo(Action.STALE);
    }

    @Test
    void lookup_varyMismatchOnlyIfCached_gatewayTimeout() {
        StoredResponse s = Fixtures.stored(RequestHead.get(Fixtures.URL, "Accept-Language", "en"),
                ResponseHead.of(200, "Date", date(0), "Cache-Control", "max-age=60", "Vary", "Accept-Language"));
        assertThat(action(RequestHead.get(Fixtures.URL, "Accept-Language", "de", "Cache-Control", "only-if-cached"),
                s, 1)).isEqualTo(Action.GATEWAY_TIMEOUT);
    }

    // ------------------------------------------------------------------ heuristic and Expires end to end

    @Test
    void lookup_heuristicFreshness_freshThenStale() {
        StoredResponse s = ok("Last-Modified", date(-1000), "ETag", "\"v1\"");
        assertThat(action(GET, s, 99)).isEqualTo(Action.FRESH);
        assertThat(action(GET, s, 100)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_expiresZero_revalidate() {
        assertThat(action(GET, ok("Expires", "0", "ETag", "\"v1\""), 0)).isEqualTo(Action.REVALIDATE);
    }

    @Test
    void lookup_ageHeaderFromUpstream_countsTowardFreshness() {
        assertThat(action(GET, ok("Cache-Control", "max-age=60", "Age", "50", "ETag", "\"v1\""), 10))
                .isEqualTo(Action.REVALIDATE);
    }
}
