package io.slipstream.worker.compression.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fault spec of {@code -Dslipstream.compression.emulator.faults}: parsing, bad items, probability draws. */
class CardEmulatorFaultsTest {

    @Test
    void parse_allKeys_readsEachValue() {
        CardEmulatorFaults f = CardEmulatorFaults.parse(" lose-device-at:400, fail-probability:0.25,corrupt-probability:1 ,seed:-7");

        assertThat(f).isEqualTo(new CardEmulatorFaults(400, 0.25, 1.0, -7));
        assertThat(f.isEmpty()).isFalse();
    }

    @Test
    void parse_blankOrNull_noFaultsSeedOne() {
        assertThat(CardEmulatorFaults.parse(null)).isEqualTo(CardEmulatorFaults.NONE);
        assertThat(CardEmulatorFaults.parse("  ")).isEqualTo(CardEmulatorFaults.NONE);
        assertThat(CardEmulatorFaults.parse("seed:9")).isEqualTo(new CardEmulatorFaults(0, 0, 0, 9));
        assertThat(CardEmulatorFaults.parse("seed:9").isEmpty()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "lose-device-at:0|'lose-device-at:0'|N a request number >= 1",
        "lose-device-at:x|'lose-device-at:x'|N a request number >= 1",
        "fail-probability:1.5|'fail-probability:1.5'|fail-probability:P with 0 <= P <= 1",
        "corrupt-probability:NaN|'corrupt-probability:NaN'|corrupt-probability:P with 0 <= P <= 1",
        "fail-probability:-0.1|'fail-probability:-0.1'|0 <= P <= 1",
        "seed:abc|'seed:abc'|S an integer",
        "explode-at:3|'explode-at:3'|a key among lose-device-at:N",
        "lose-device-at|'lose-device-at'|key:value",
        "seed:1,,seed:2|''|key:value",
        "seed:1,seed:2|'seed:2'|each key at most once",
        "fail-probability:|'fail-probability:'|key:value",
    })
    void parse_badItem_namesItemAndWhatWasExpected(String spec, String item, String expected) {
        assertThatThrownBy(() -> CardEmulatorFaults.parse(spec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad item '" + item + "'")
                .hasMessageContaining(expected);
    }

    @Test
    void applyTo_probabilities_drawnPerRequestAndReplayedBySeed() {
        CardEmulator card = CardEmulatorFaults.parse("fail-probability:0.2,corrupt-probability:0.1,seed:3")
                .applyTo(CardEmulator.builder().build());
        CardEmulator same = CardEmulatorFaults.parse("fail-probability:0.2,corrupt-probability:0.1,seed:3")
                .applyTo(CardEmulator.builder().build());
        CardEmulator other = CardEmulatorFaults.parse("fail-probability:0.2,corrupt-probability:0.1,seed:4")
                .applyTo(CardEmulator.builder().build());

        int errors = 0;
        int corrupt = 0;
        int differ = 0;
        for (long n = 1; n <= 10_000; n++) {
            CardEmulator.Fault f = card.faultFor(n);
            errors += f == CardEmulator.Fault.ERROR ? 1 : 0;
            corrupt += f == CardEmulator.Fault.CORRUPT ? 1 : 0;
            assertThat(same.faultFor(n)).isEqualTo(f);
            differ += other.faultFor(n) != f ? 1 : 0;
        }
        assertThat(errors).isBetween(1800, 2200);
        // corruption is drawn only for requests that did not fail: 0.8 * 0.1
        assertThat(corrupt).isBetween(650, 950);
        assertThat(differ).isGreaterThan(1000);
    }

    @Test
    void applyTo_loseDeviceAt_lostFromThatRequestOnAndStaysLost() {
        CardEmulator card = CardEmulatorFaults.parse("lose-device-at:5").applyTo(CardEmulator.builder().build());

        assertThat(card.faultFor(4)).isEqualTo(CardEmulator.Fault.NONE);
        assertThat(card.deviceLost()).isFalse();
        assertThat(card.faultFor(5)).isEqualTo(CardEmulator.Fault.DEVICE_LOST);
        assertThat(card.faultFor(6)).isEqualTo(CardEmulator.Fault.DEVICE_LOST);
        assertThat(card.deviceLost()).isTrue();
        assertThat(card.availability().isAvailable()).isFalse();
    }

    @Test
    void probability_outOfRange_rejectedByCard() {
        assertThatThrownBy(() -> CardEmulator.builder().build().failProbability(2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: 0 <= p <= 1");
    }
}
