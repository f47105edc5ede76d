package io.slipstream.controller.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Hostile policy documents: each is refused with a {@link PolicyException} that says what was expected, in
 * bounded time and memory, and never with a StackOverflowError or an unexplained exception.
 */
class PolicyJsonHostileTest {

    private static final String VALID = "{\"policies\":[{\"name\":\"web\",\"chain\":\"cache\",\"dstPorts\":[80]}]}";

    @Test
    void parse_tenMegabyteDocument_isRefusedBySizeBeforeParsing() {
        String huge = "{\"policies\":[{\"name\":\"" + "x".repeat(10 << 20) + "\"}]}";
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> FleetPolicies.parse(huge))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("$: " + huge.length() + " characters (expected: at most "
                        + FleetPolicies.MAX_DOCUMENT_CHARS + ")");
        assertThat(System.nanoTime() - t0).isLessThan(5_000_000_000L);
    }

    @Test
    void parse_manyPoliciesJustBelowTheSizeLimit_isStillParsed() {
        StringBuilder sb = new StringBuilder("{\"policies\":[");
        for (int i = 0; i < 2000; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"name\":\"p").append(i).append("\",\"chain\":\"cache\",\"dstPorts\":[")
                    .append(1 + i).append("]}");
        }
        String json = sb.append("]}").toString();
        assertThat(json.length()).isLessThan(FleetPolicies.MAX_DOCUMENT_CHARS);
        assertThat(FleetPolicies.parse(json).getPoliciesCount()).isEqualTo(2000);
    }

    @Test
    void parse_tenThousandNestingLevels_isAClearErrorNotAStackOverflow() {
        String deep = "{\"policies\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        assertThatThrownBy(() -> FleetPolicies.parse(deep))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("nesting depth");
        String deepObjects = "{\"compression\":" + "{\"codec\":".repeat(10_000) + "1" + "}".repeat(10_001);
        assertThatThrownBy(() -> FleetPolicies.parse(deepObjects))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("nesting depth");
    }

    @Test
    void parse_moderateNestingWhereAValueIsExpected_namesThePath() {
        String nested = "{\"bucketCount\":" + "[".repeat(50) + "]".repeat(50) + "}";
        assertThatThrownBy(() -> FleetPolicies.parse(nested))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("$.bucketCount: an array (expected: a whole number");
    }

    @Test
    void parse_hugeNumbers_areOutOfRangeOrTooLong() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"bucketCount\":123456789012345678901234567890}"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("$.bucketCount: 123456789012345678901234567890 (expected: a whole number >= 0 up to");
        assertThatThrownBy(() -> FleetPolicies.parse("{\"bucketCount\":1e400}"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("$.bucketCount:");
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"p\",\"dstPorts\":[1e9]}]}"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("$.policies[0].dstPorts[0]");
        assertThatThrownBy(() -> FleetPolicies.parse("{\"bucketCount\":" + "9".repeat(5000) + "}"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("Number value length");
    }

    @Test
    void parse_duplicateKeys_areRefusedNotSilentlyLastWins() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[],\"policies\":" + VALID.substring(12)))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("Duplicate field 'policies'");
        assertThatThrownBy(() -> FleetPolicies.parse(
                "{\"policies\":[{\"name\":\"web\",\"chain\":\"cache\",\"chain\":\"bypass\"}]}"))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("Duplicate field 'chain'");
    }

    @Test
    void parse_controlCharactersAndInvalidUtf16_areRefused() {
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"a\u0000b\",\"chain\":\"cache\"}]}"))
                .isInstanceOf(PolicyException.class);
        assertThatThrownBy(() -> FleetPolicies.parse("{\"policies\":[{\"name\":\"a\\ud800\",\"chain\":\"cache\"}]}"))
                .isInstanceOf(PolicyException.class);
    }

    @Test
    void parse_validDocumentAfterHostileOnes_stillParses() {
        assertThat(FleetPolicies.parse(VALID).getPolicies(0).getName()).isEqualTo("web");
    }
}
