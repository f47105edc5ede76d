package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.at;
import static io.slipstream.worker.cache.policy.Fixtures.date;
import static io.slipstream.worker.cache.policy.Fixtures.secs;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §4.2.3 current age, §5.1 Age. */
class AgeTest {

    private static StoredResponse stored(ResponseHead response, long requestAt, long responseAt) {
        return StoredResponse.of(RequestHead.get(Fixtures.URL), response, at(requestAt), at(responseAt));
    }

    @Test
    void currentAge_noAgeNoDelay_residentTimeOnly() {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(0)), 0, 0);
        assertThat(CacheStrategy.currentAge(s, at(42))).isEqualTo(secs(42));
    }

    @Test
    void currentAge_ageHeader_addedWithResponseDelay() {
        // corrected_age_value = 10 + (5 - 2) = 13; apparent_age = 5 - 5 = 0; resident = 20 - 5
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(5), "Age", "10"), 2, 5);
        assertThat(CacheStrategy.currentAge(s, at(20))).isEqualTo(secs(13 + 15));
    }

    @Test
    void currentAge_dateInPast_apparentAgeWins() {
        // apparent_age = 100 - 0 = 100 > corrected_age_value = 0 + 1
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(0)), 99, 100);
        assertThat(CacheStrategy.currentAge(s, at(100))).isEqualTo(secs(100));
    }

    @Test
    void currentAge_dateInFuture_apparentAgeZero() {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(500)), 0, 0);
        assertThat(CacheStrategy.currentAge(s, at(0))).isEqualTo(secs(0));
    }

    @Test
    void currentAge_noDate_responseTimeUsed() {
        StoredResponse s = stored(ResponseHead.of(200, "Age", "30"), 0, 0);
        assertThat(CacheStrategy.currentAge(s, at(10))).isEqualTo(secs(40));
    }

    @ParameterizedTest(name = "Age: \"{0}\"")
    @ValueSource(strings = {"-5", "abc", "1.5", ""})
    void currentAge_invalidAge_ignored(String age) {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(0), "Age", age), 0, 0);
        assertThat(CacheStrategy.currentAge(s, at(10))).isEqualTo(secs(10));
    }

    @Test
    void currentAge_listValuedAge_firstMemberUsed() {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(0), "Age", "7, 300"), 0, 0);
        assertThat(CacheStrategy.currentAge(s, at(0))).isEqualTo(secs(7));
    }

    @Test
    void currentAge_nowBeforeResponseTime_noResidentTime() {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(10)), 10, 10);
        assertThat(CacheStrategy.currentAge(s, at(0))).isEqualTo(secs(0));
    }

    @Test
    void ageHeaderValue_fractionalAge_wholeSecondsRoundedDown() {
        assertThat(CacheStrategy.ageHeaderValue(secs(5).plusMillis(999))).isEqualTo("5");
    }

    @Test
    void ageHeaderValue_hugeAge_cappedAt2Pow31() {
        assertThat(CacheStrategy.ageHeaderValue(secs(Long.MAX_VALUE / 2))).isEqualTo("2147483648");
    }

    @Test
    void ageHeaderValue_storedAndNow_currentAge() {
        StoredResponse s = stored(ResponseHead.of(200, "Date", date(0), "Age", "3"), 0, 0);
        assertThat(CacheStrategy.ageHeaderValue(s, at(60))).isEqualTo("63");
    }
}
