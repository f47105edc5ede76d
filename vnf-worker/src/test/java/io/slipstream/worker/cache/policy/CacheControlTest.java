package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §5.2 Cache-Control grammar and the conservative handling of §4.2.1. */
class CacheControlTest {

    @Test
    void parse_booleanDirectives_allRecognised() {
        CacheControl cc = CacheControl.parse("no-store, no-cache, private, public, must-revalidate, proxy-revalidate, "
                + "must-understand, only-if-cached, no-transform");
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.isPrivate()).isTrue();
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.mustRevalidate()).isTrue();
        assertThat(cc.proxyRevalidate()).isTrue();
        assertThat(cc.mustUnderstand()).isTrue();
        assertThat(cc.onlyIfCached()).isTrue();
        assertThat(cc.noTransform()).isTrue();
    }

    @Test
    void parse_namesInAnyCase_caseInsensitive() {
        CacheControl cc = CacheControl.parse("No-Store, MAX-AGE=5");
        assertThat(cc.noStore()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(5);
    }

    @Test
    void parse_absentDirectives_absent() {
        CacheControl cc = CacheControl.parse("public");
        assertThat(cc.maxAge()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.sMaxAge()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.maxStale()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.minFresh()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.staleWhileRevalidate()).isEqualTo(CacheControl.ABSENT);
        assertThat(cc.staleIfError()).isEqualTo(CacheControl.ABSENT);
    }

    @Test
    void parse_quotedArgument_acceptedLikeToken() {
        assertThat(CacheControl.parse("max-age=\"60\"").maxAge()).isEqualTo(60);
    }

    @Test
    void parse_commaInsideQuotedString_doesNotSplit() {
        CacheControl cc = CacheControl.parse("no-cache=\"Set-Cookie, X-Foo\", max-age=10");
        assertThat(cc.arguments("no-cache")).containsExactly("Set-Cookie, X-Foo");
        assertThat(cc.maxAge()).isEqualTo(10);
        assertThat(cc.directives()).containsOnlyKeys("no-cache", "max-age");
    }

    @Test
    void parse_escapedQuoteInQuotedString_unescaped() {
        assertThat(CacheControl.parse("ext=\"a\\\"b,c\", public").arguments("ext")).containsExactly("a\"b,c");
    }

    @Test
    void parse_qualifiedNoCacheAndPrivate_treatedAsUnqualified() {
        CacheControl cc = CacheControl.parse("no-cache=\"Set-Cookie\", private=\"Authorization\"");
        assertThat(cc.noCache()).isTrue();
        assertThat(cc.isPrivate()).isTrue();
    }

    @Test
    void parse_multipleFieldLines_oneList() {
        CacheControl cc = CacheControl.of(HttpHeaders.of("Cache-Control", "public", "cache-control", "max-age=30"));
        assertThat(cc.isPublic()).isTrue();
        assertThat(cc.maxAge()).isEqualTo(30);
    }

    @Test
    void parse_emptyMembersAndWhitespace_skipped() {
        CacheControl cc = CacheControl.parse(" ,, max-age = 7 ,\tpublic , ");
        assertThat(cc.maxAge()).isEqualTo(7);
        assertThat(cc.directives()).containsOnlyKeys("max-age", "public");
    }

    @Test
    void parse_unknownExtension_keptAndHarmless() {
        CacheControl cc = CacheControl.parse("community=\"UCI\", max-age=5");
        assertThat(cc.has("community")).isTrue();
        assertThat(cc.maxAge()).isEqualTo(5);
    }

    @Test
    void parse_unterminatedQuote_doesNotThrow() {
        assertThat(CacheControl.parse("max-age=\"5").maxAge()).isEqualTo(5);
    }

    @ParameterizedTest(name = "max-age \"{0}\" -> 0 (stale)")
    @ValueSource(strings = {"max-age=-1", "max-age=abc", "max-age=", "max-age", "max-age=1.5", "max-age=\"5\"x",
            "max-age=5 10", "max-age=5, max-age=10", "max-age=10, max-age=-3"})
    void maxAge_invalidOrConflicting_zero(String value) {
        assertThat(CacheControl.parse(value).maxAge()).isZero();
    }

    @Test
    void maxAge_equalDuplicates_thatValue() {
        assertThat(CacheControl.parse("max-age=5, max-age=5").maxAge()).isEqualTo(5);
    }

    @Test
    void maxAge_huge_cappedAt2Pow31() {
        assertThat(CacheControl.parse("max-age=99999999999999999999").maxAge()).isEqualTo(DeltaSeconds.MAX);
    }

    @ParameterizedTest(name = "s-maxage \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', value = {"s-maxage=30|30", "s-maxage=-5|0", "s-maxage=x|0", "s-maxage=1, s-maxage=2|0"})
    void sMaxAge_conservative(String value, long expected) {
        assertThat(CacheControl.parse(value).sMaxAge()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "max-stale \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', value = {
            "max-stale|" + Long.MAX_VALUE,
            "max-stale=30|30",
            "max-stale=abc|-1",
            "max-stale=-5|-1",
            "max-stale=30, max-stale=10|10",
            "max-stale, max-stale=10|10",
            "max-stale=abc, max-stale=20|20"})
    void maxStale_argumentForms(String value, long expected) {
        assertThat(CacheControl.parse(value).maxStale()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "min-fresh \"{0}\" -> {1}")
    @CsvSource(delimiter = '|', value = {"min-fresh=10|10", "min-fresh=x|-1", "min-fresh=10, min-fresh=40|40"})
    void minFresh_invalidIgnoredLargestWins(String value, long expected) {
        assertThat(CacheControl.parse(value).minFresh()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\" -> swr {1}, sie {2}")
    @CsvSource(delimiter = '|', value = {
            "stale-while-revalidate=30, stale-if-error=600|30|600",
            "stale-while-revalidate=x, stale-if-error=-1|-1|-1",
            "stale-while-revalidate=60, stale-while-revalidate=5|5|-1"})
    void staleExtensions_rfc5861_smallestValidWins(String value, long swr, long sie) {
        CacheControl cc = CacheControl.parse(value);
        assertThat(cc.staleWhileRevalidate()).isEqualTo(swr);
        assertThat(cc.staleIfError()).isEqualTo(sie);
    }

    @Test
    void parse_noFieldLines_empty() {
        assertThat(CacheControl.parse(List.of()).isEmpty()).isTrue();
        assertThat(CacheControl.parse((String) null).isEmpty()).isTrue();
    }
}
