package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.PartialContent.Action;
import io.slipstream.worker.cache.policy.PartialContent.Combination;
import io.slipstream.worker.cache.policy.PartialContent.Held;
import io.slipstream.worker.cache.policy.PartialContent.Part;
import java.util.List;

/**
 * Coverage-guided fuzzing of what the cache keeps of an origin's partial responses ({@link PartialContent}):
 * a sequence of 206 heads with any {@code Content-Range}, {@code Content-Length} and {@code ETag} (lying
 * ones included), each combined with what is held. Properties, per input:
 *
 * <ul>
 *   <li>no exception;</li>
 *   <li>a part accepted lies inside its complete length, and its Content-Length (and bytes) are its range's;</li>
 *   <li>what is held stays sorted, disjoint and not adjacent, inside the complete length, at most the bound;</li>
 *   <li>the pieces added are disjoint from what was held, inside the part, and exactly what the held
 *       bytes grew by; a part of another validator never leaves the old parts held.</li>
 * </ul>
 */
class PartialContentFuzzIT {

    private static final long MAX_HELD = 4096;
    private static final String[] ETAGS = {"\"a\"", "\"b\"", "W/\"a\"", ""};

    @FuzzTest(maxDuration = "5s")
    void partialContent_anyPartsFromALyingOrigin_heldRangesStayConsistent(FuzzedDataProvider data) {
        Held held = null;
        int parts = data.consumeInt(1, 8);
        for (int i = 0; i < parts && data.remainingBytes() > 0; i++) {
            String contentRange;
            long declared;
            if (data.consumeBoolean()) {
                long total = data.consumeLong(1, 10_000);
                long first = data.consumeLong(0, total + 2);
                long last = data.consumeLong(first - 1, total + 2);
                contentRange = "bytes " + first + "-" + last + "/" + (data.consumeBoolean() ? total : "*");
                declared = data.consumeBoolean() ? last - first + 1 : data.consumeLong(-1, 20_000);
            } else {
                contentRange = data.consumeString(40);
                declared = data.consumeLong(-1, 20_000);
            }
            String etag = data.consumeBoolean() ? ETAGS[data.consumeInt(0, ETAGS.length - 1)] : data.consumeString(12);
            ResponseHead head = etag.isEmpty()
                    ? ResponseHead.of(206, "Content-Range", contentRange, "Content-Length", String.valueOf(declared))
                    : ResponseHead.of(206, "ETag", etag, "Content-Range", contentRange,
                            "Content-Length", String.valueOf(declared));
            Part part = PartialContent.of206(head, data.consumeBoolean() ? -1 : declared);
            if (!part.ok()) {
                continue;
            }
            PartialContent.ContentRange cr = part.contentRange();
            assertThat(cr.first()).isNotNegative();
            assertThat(cr.last()).isGreaterThanOrEqualTo(cr.first()).isLessThan(cr.completeLength());
            assertThat(declared).isEqualTo(cr.length());

            Combination c = PartialContent.combine(held, part, MAX_HELD);
            boolean sameRepresentation = held != null && held.validator().equals(part.validator());
            long before = held == null ? 0 : held.bytes();
            switch (c.action()) {
                case REPLACE -> assertThat(c.ranges()).containsExactly(cr.range());
                case COMBINE -> {
                    assertThat(sameRepresentation).isTrue();
                    long added = 0;
                    for (Range a : c.added()) {
                        assertThat(a.first()).isGreaterThanOrEqualTo(cr.first());
                        assertThat(a.last()).isLessThanOrEqualTo(cr.last());
                        assertThat(PartialContent.missing(held.ranges(), a)).containsExactly(a);
                        added += a.length();
                    }
                    checkHeld(c.ranges(), cr.completeLength());
                    assertThat(bytes(c.ranges())).isEqualTo(before + added);
                }
                case DROP_ALL, TOO_LARGE -> assertThat(c.added()).isEmpty();
                default -> throw new AssertionError(c);
            }
            if (c.action() == Action.TOO_LARGE) {
                assertThat(held == null || sameRepresentation).as("old parts kept beside another one").isTrue();
            }
            held = switch (c.action()) {
                case REPLACE, COMBINE -> new Held(part.validator(), cr.completeLength(), c.ranges());
                case DROP_ALL -> null;
                default -> held;
            };
            if (held != null) {
                assertThat(held.bytes()).isLessThanOrEqualTo(MAX_HELD);
                assertThat(c.complete(held.completeLength()))
                        .isEqualTo(held.ranges().equals(List.of(new Range(0, held.completeLength() - 1))));
            }
        }
    }

    private static void checkHeld(List<Range> ranges, long completeLength) {
        for (int i = 0; i < ranges.size(); i++) {
            Range r = ranges.get(i);
            assertThat(r.first()).isNotNegative();
            assertThat(r.last()).isGreaterThanOrEqualTo(r.first()).isLessThan(completeLength);
            if (i > 0) {
                assertThat(r.first()).as("sorted, disjoint, not adjacent").isGreaterThan(ranges.get(i - 1).last() + 1);
            }
        }
    }

    private static long bytes(List<Range> ranges) {
        long n = 0;
        for (Range r : ranges) {
            n += r.length();
        }
        return n;
    }
}
