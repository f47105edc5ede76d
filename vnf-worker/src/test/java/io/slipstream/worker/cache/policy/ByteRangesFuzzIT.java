package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slipstream.worker.cache.policy.ByteRanges.Decision;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import java.util.List;

/**
 * Coverage-guided fuzzing of the {@code Range} / {@code If-Range} decision ({@link ByteRanges}) with any
 * field values and any representation length. Properties, per input:
 *
 * <ul>
 *   <li>no exception;</li>
 *   <li>a PARTIAL answer has 1..{@link ByteRanges#MAX_RANGES} ranges, sorted, inside the representation,
 *       more than {@link ByteRanges#COALESCE_GAP} bytes apart, adding up to no more than the
 *       representation; each range starts and ends on a byte some range-spec asked for, and every byte a
 *       range-spec asked for is sent;</li>
 *   <li>NOT_SATISFIABLE only when the header parsed and no spec is satisfiable;</li>
 *   <li>the multipart framing's declared length equals the bytes it frames.</li>
 * </ul>
 */
class ByteRangesFuzzIT {

    private static final ResponseHead STORED = ResponseHead.of(200, "ETag", "\"v1\"", "Content-Type", "video/mp4",
            "Date", "Thu, 01 Jan 2026 00:01:00 GMT", "Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT");

    @FuzzTest(maxDuration = "10s")
    void byteRanges_anyRangeAndIfRange_decisionWithinTheRepresentation(FuzzedDataProvider data) {
        long length = data.consumeBoolean() ? data.consumeLong(0, 1000) : data.consumeLong(0, Long.MAX_VALUE / 2);
        List<String> ifRange = data.consumeBoolean() ? List.of(data.consumeString(40)) : List.of();
        String range = data.consumeRemainingAsString();

        Decision d = ByteRanges.decide("GET", List.of(range), ifRange, STORED, length);
        ByteRanges.Parsed parsed = ByteRanges.parse(range);
        switch (d.outcome()) {
            case FULL:
                assertThat(d.ranges()).isEmpty();
                break;
            case NOT_SATISFIABLE:
                assertThat(parsed.ok()).isTrue();
                assertThat(parsed.specs()).allMatch(s -> s.resolve(length) == null);
                break;
            case PARTIAL:
                checkPartial(d, parsed, length);
                break;
            default:
                throw new AssertionError(d);
        }
    }

    private static void checkPartial(Decision d, ByteRanges.Parsed parsed, long length) {
        List<Range> ranges = d.ranges();
        assertThat(ranges).isNotEmpty().hasSizeLessThanOrEqualTo(ByteRanges.MAX_RANGES);
        assertThat(d.bytes()).isLessThanOrEqualTo(length);
        for (int i = 0; i < ranges.size(); i++) {
            Range r = ranges.get(i);
            assertThat(r.last()).isLessThan(length);
            if (i > 0) {
                assertThat(r.first() - ranges.get(i - 1).last()).isGreaterThan(ByteRanges.COALESCE_GAP);
            }
            boolean startAsked = false;
            boolean endAsked = false;
            for (ByteRanges.Spec s : parsed.specs()) {
                Range asked = s.resolve(length);
                if (asked != null) {
                    startAsked |= asked.first() == r.first();
                    endAsked |= asked.last() == r.last();
                }
            }
            assertThat(startAsked && endAsked).as("%s from %s", r, parsed.specs()).isTrue();
        }
        for (ByteRanges.Spec s : parsed.specs()) {
            Range asked = s.resolve(length);
            if (asked != null) {
                assertThat(ranges).as("%s covered", asked)
                        .anyMatch(r -> r.first() <= asked.first() && asked.last() <= r.last());
            }
        }
        ByteRanges.Multipart m = new ByteRanges.Multipart("b", "video/mp4", ranges, length);
        long framed = m.trailer().length();
        for (int i = 0; i < ranges.size(); i++) {
            framed += m.partHeader(i).length() + ranges.get(i).length();
        }
        assertThat(m.contentLength()).isEqualTo(framed);
    }
}
