package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9111 §4.1 secondary keys. */
class VaryTest {

    private static Vary vary(String... values) {
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (String v : values) {
            b.add("Vary", v);
        }
        return Vary.of(ResponseHead.of(200, b.build()));
    }

    @Test
    void of_multipleLinesAndCases_lowercasedDeduplicated() {
        assertThat(vary("Accept-Encoding, accept", "ACCEPT-ENCODING, User-Agent").fieldNames())
                .containsExactly("accept-encoding", "accept", "user-agent");
    }

    @Test
    void of_starAmongNames_any() {
        assertThat(vary("Accept, *").isAny()).isTrue();
    }

    @Test
    void matches_varyStar_neverMatches() {
        HttpHeaders h = HttpHeaders.of("Accept", "text/html");
        assertThat(vary("*").matches(h, h)).isFalse();
    }

    @Test
    void matches_noVary_alwaysMatches() {
        assertThat(vary().matches(HttpHeaders.of("Accept", "a"), HttpHeaders.of("Accept", "b"))).isTrue();
    }

    @Test
    void matches_sameValue_matches() {
        assertThat(vary("Accept-Language").matches(HttpHeaders.of("Accept-Language", "en"),
                HttpHeaders.of("accept-language", "en"))).isTrue();
    }

    @Test
    void matches_differentValue_noMatch() {
        assertThat(vary("Accept-Language").matches(HttpHeaders.of("Accept-Language", "en"),
                HttpHeaders.of("Accept-Language", "de"))).isFalse();
    }

    @Test
    void matches_absentInBoth_matches() {
        assertThat(vary("X-Variant").matches(HttpHeaders.empty(), HttpHeaders.of("Other", "1"))).isTrue();
    }

    @Test
    void matches_absentVersusEmpty_noMatch() {
        assertThat(vary("X-Variant").matches(HttpHeaders.empty(), HttpHeaders.of("X-Variant", ""))).isFalse();
    }

    @Test
    void matches_allVariedFieldsMustMatch_oneDiffers_noMatch() {
        Vary v = vary("Accept-Encoding, Accept-Language");
        assertThat(v.matches(HttpHeaders.of("Accept-Encoding", "gzip", "Accept-Language", "en"),
                HttpHeaders.of("Accept-Encoding", "gzip", "Accept-Language", "fr"))).isFalse();
    }

    @ParameterizedTest(name = "Accept-Encoding \"{0}\" ~ \"{1}\"")
    @CsvSource(delimiter = '|', value = {
            "gzip, br|br,gzip",
            "GZIP|gzip",
            "gzip;q=1.0, br|br , gzip ; q = 1.0",
            "gzip, gzip, br|br, gzip",
            "gzip,,br|br, gzip"})
    void normalise_acceptEncoding_sortedTrimmedLowercased(String a, String b) {
        assertThat(Vary.normalise("Accept-Encoding", List.of(a))).isEqualTo(Vary.normalise("accept-encoding", List.of(b)));
    }

    @Test
    void normalise_multipleFieldLines_combinedLikeOneLine() {
        assertThat(Vary.normalise("Accept-Encoding", List.of("gzip", " br "))).isEqualTo("br,gzip");
        assertThat(Vary.normalise("X-Custom", List.of(" a ", "b"))).isEqualTo("a, b");
    }

    @Test
    void normalise_acceptLanguage_orderKept() {
        assertThat(Vary.normalise("Accept-Language", List.of("EN-us, de"))).isEqualTo("en-us,de");
        assertThat(Vary.normalise("Accept-Language", List.of("de, en-us"))).isNotEqualTo("en-us,de");
    }

    @Test
    void normalise_otherField_caseKept() {
        assertThat(Vary.normalise("User-Agent", List.of("Mozilla/5.0"))).isEqualTo("Mozilla/5.0");
    }

    @Test
    void retain_keepsOnlyVariedFields() {
        HttpHeaders kept = vary("Accept-Encoding").retain(HttpHeaders.of("Accept-Encoding", "gzip", "Cookie", "s=1"));
        assertThat(kept.names()).containsExactly("accept-encoding");
    }
}
