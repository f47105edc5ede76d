package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9110 §5.6.7 HTTP-date: three accepted forms, everything else invalid. */
class HttpDatesTest {

    private static final Instant NOV_6_1994 = Instant.parse("1994-11-06T08:49:37Z");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
            "Sunday, 06-Nov-94 08:49:37 GMT",  // obsolete RFC 850
            "Sun Nov  6 08:49:37 1994",        // obsolete asctime
            "  Sun, 06 Nov 1994 08:49:37 GMT  "})
    void parse_everyAcceptedForm_sameInstant(String value) {
        assertThat(HttpDates.parse(value)).isEqualTo(NOV_6_1994);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {
            "", "0", "-1", "garbage", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37",
            "sun, 06 nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:60:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
            "1994-11-06T08:49:37Z", "Sun, 06 Nov 1994 08:49:37 GMT trailing", "Sunday, 06-Nov-1994 08:49:37 GMT"})
    void parse_malformed_null(String value) {
        assertThat(HttpDates.parse(value)).isNull();
    }

    @Test
    void parse_null_null() {
        assertThat(HttpDates.parse(null)).isNull();
    }

    @Test
    void parse_rfc850TwoDigitYearBelow70_twentyFirstCentury() {
        assertThat(HttpDates.parse("Thursday, 01-Jan-26 00:00:00 GMT")).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    }

    @Test
    void format_instant_imfFixdateWithZeroPaddedDay() {
        assertThat(HttpDates.format(Instant.parse("1994-11-06T08:49:37.999Z"))).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
    }

    @Test
    void format_thenParse_roundTrips() {
        Instant t = Instant.parse("2031-07-15T23:59:59Z");
        assertThat(HttpDates.parse(HttpDates.format(t))).isEqualTo(t);
    }
}
