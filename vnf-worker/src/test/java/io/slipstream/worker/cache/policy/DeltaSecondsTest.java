package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §1.2.2 delta-seconds. */
class DeltaSecondsTest {

    @ParameterizedTest(name = "\"{0}\" -> {1}")
    @CsvSource({
            "0, 0",
            "60, 60",
            "007, 7",
            "2147483647, 2147483647",
            "2147483648, 2147483648",
            "2147483649, 2147483648",
            "99999999999999999999999999, 2147483648"})
    void parse_digits_valueCappedAt2Pow31(String input, long expected) {
        assertThat(DeltaSeconds.parse(input)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "-1", "+5", "1.5", " 5", "5 ", "abc", "1e3", "0x10", "\uFF15"})
    void parse_notOneOrMoreDigits_invalid(String input) {
        assertThat(DeltaSeconds.parse(input)).isEqualTo(DeltaSeconds.INVALID);
    }
}
