package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9110 §15.2: which interim responses reach the client. */
class InterimTest {

    @ParameterizedTest
    @CsvSource({
        "103, false, 0, true",
        "102, false, 7, true",
        "199, false, 0, true",
        "103, false, 8, false",
        "103, true, 0, false",
        "100, false, 0, false",
        "101, false, 0, false",
        "200, false, 0, false",
        "99, false, 0, false"})
    void forwarded_statusClientAndCount_decides(int status, boolean http10, int sent, boolean expected) {
        assertThat(Interim.forwarded(status, http10, sent)).isEqualTo(expected);
    }
}
