package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.date;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.PartialContent.Action;
import io.slipstream.worker.cache.policy.PartialContent.Combination;
import io.slipstream.worker.cache.policy.PartialContent.ContentRange;
import io.slipstream.worker.cache.policy.PartialContent.Held;
import io.slipstream.worker.cache.policy.PartialContent.Part;
import io.slipstream.worker.cache.policy.PartialContent.Reason;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §3.3/§3.4 and RFC 9110 §14.4/§15.3.7.3: storing and combining partial content, as pure decisions. */
class PartialContentTest {

    private static final long MAX = 1 << 20;

    /** A 206 of first..last of a 1000-byte representation with {@code ETag: etag}. */
    private static ResponseHead part(long first, long last, String etag) {
        return ResponseHead.of(206, "Date", date(100), "ETag", etag, "Content-Range",
                "bytes " + first + "-" + last + "/1000", "Content-Length", String.valueOf(last - first + 1));
    }

    private static Part ok(long first, long last, String etag) {
        Part p = PartialContent.of206(part(first, last, etag), last - first + 1);
        assertThat(p.reason()).isEqualTo(Reason.PART);
        return p;
    }

    private static Held held(String etag, Range... ranges) {
        return new Held("ETag " + etag, 1000, List.of(ranges));
    }

    // ------------------------------------------------------------------------------------ Content-Range

    @Test
    void parseContentRange_satisfiedRange_hasFirstLastAndLength() {
        assertThat(PartialContent.parseContentRange("bytes 10-19/1000")).isEqualTo(new ContentRange(10, 19, 1000));
        assertThat(PartialContent.parseContentRange(" BYTES 0-0/1 ")).isEqualTo(new ContentRange(0, 0, 1));
    }

    @Test
    void parseContentRange_unknownCompleteLength_isMinusOne() {
        assertThat(PartialContent.parseContentRange("bytes 0-9/*")).isEqualTo(new ContentRange(0, 9, -1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes 10-9/100", "bytes 0-100/100", "bytes */100", "bytes 0-9", "bytes=0-9/100",
        "items 0-9/100", "bytes 0 -9/100", "bytes  0-9/100", "bytes 0-9/1x", "bytes -9/100", "bytes 0-/100",
        "bytes 0-9/", "bytes 0-99999999999999999999/1", "", "bytes", "bytes 1-2-3/10", "bytes 0-9/*x"})
    void parseContentRange_invalid_isNull(String value) {
        assertThat(PartialContent.parseContentRange(value)).isNull();
    }

    // ------------------------------------------------------------------------------------ validators

    @Test
    void strongValidator_strongEtag_isTheEtag() {
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "ETag", "\"v1\""))).isEqualTo("ETag \"v1\"");
    }

    @Test
    void strongValidator_weakEtag_isNoneEvenWithLastModified() {
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "ETag", "W/\"v1\"", "Date", date(1000),
                "Last-Modified", date(0)))).isNull();
    }

    @Test
    void strongValidator_lastModifiedAMinuteBeforeDate_isStrong() {
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "Date", date(60), "Last-Modified",
                date(0)))).isEqualTo("Last-Modified " + date(0));
    }

    @Test
    void strongValidator_lastModifiedCloseToDate_isNone() {
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "Date", date(59), "Last-Modified",
                date(0)))).isNull();
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "Last-Modified", date(0)))).isNull();
    }

    @Test
    void strongValidator_malformedOrSeveralEtags_isNone() {
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "ETag", "v1"))).isNull();
        assertThat(PartialContent.strongValidator(ResponseHead.of(206, "ETag", "\"a\"", "ETag", "\"b\""))).isNull();
    }

    // ------------------------------------------------------------------------------------ storable parts

    @Test
    void of206_wellFormedWithStrongEtag_isAPart() {
        Part p = ok(100, 199, "\"v1\"");
        assertThat(p.contentRange()).isEqualTo(new ContentRange(100, 199, 1000));
        assertThat(p.validator()).isEqualTo("ETag \"v1\"");
    }

    @Test
    void of206_weakEtag_isNeverStored() {
        assertThat(PartialContent.of206(part(0, 9, "W/\"v1\""), 10).reason()).isEqualTo(Reason.WEAK_ETAG);
    }

    @Test
    void of206_noValidator_isNotStored() {
        ResponseHead r = ResponseHead.of(206, "Content-Range", "bytes 0-9/1000", "Content-Length", "10");
        assertThat(PartialContent.of206(r, 10).reason()).isEqualTo(Reason.NO_STRONG_VALIDATOR);
    }

    @Test
    void of206_bodyLengthDiffersFromRange_isNotStored() {
        assertThat(PartialContent.of206(part(0, 9, "\"v1\""), 9).reason()).isEqualTo(Reason.LENGTH_MISMATCH);
        assertThat(PartialContent.of206(part(0, 9, "\"v1\""), 11).reason()).isEqualTo(Reason.LENGTH_MISMATCH);
    }

    @Test
    void of206_contentLengthDiffersFromRange_isNotStored() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/1000",
                "Content-Length", "20");
        assertThat(PartialContent.of206(r, -1).reason()).isEqualTo(Reason.LENGTH_MISMATCH);
    }

    @Test
    void of206_lengthNotKnownYet_isAPartUntilTheBodyArrives() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/1000");
        assertThat(PartialContent.of206(r, -1).ok()).isTrue();
        assertThat(PartialContent.of206(r, 10).ok()).isTrue();
        assertThat(PartialContent.of206(r, 12).reason()).isEqualTo(Reason.LENGTH_MISMATCH);
    }

    @Test
    void of206_unknownCompleteLength_isNotStored() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/*");
        assertThat(PartialContent.of206(r, 10).reason()).isEqualTo(Reason.UNKNOWN_LENGTH);
    }

    @Test
    void of206_rangeBeyondTheTotal_isInvalid() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/5");
        assertThat(PartialContent.of206(r, 10).reason()).isEqualTo(Reason.INVALID_CONTENT_RANGE);
    }

    @Test
    void of206_severalContentRanges_isInvalid() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/100",
                "Content-Range", "bytes 0-9/100");
        assertThat(PartialContent.of206(r, 10).reason()).isEqualTo(Reason.INVALID_CONTENT_RANGE);
    }

    @Test
    void of206_multipartOrMissingContentRange_isNotStored() {
        assertThat(PartialContent.of206(ResponseHead.of(206, "ETag", "\"v1\"", "Content-Type",
                "multipart/byteranges; boundary=x"), 100).reason()).isEqualTo(Reason.MULTIPART);
        assertThat(PartialContent.of206(ResponseHead.of(206, "ETag", "\"v1\""), 100).reason())
                .isEqualTo(Reason.NO_CONTENT_RANGE);
    }

    @Test
    void of206_vary_isNotStored() {
        ResponseHead r = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 0-9/100", "Vary", "Accept");
        assertThat(PartialContent.of206(r, 10).reason()).isEqualTo(Reason.VARY);
    }

    @Test
    void of206_not206_isNotPartial() {
        assertThat(PartialContent.of206(ResponseHead.of(200, "ETag", "\"v1\""), 10).reason())
                .isEqualTo(Reason.NOT_PARTIAL);
    }

    @Test
    void ofComplete_rangeOfA200_isAPartOfItsLength() {
        ResponseHead r = ResponseHead.of(200, "ETag", "\"v1\"", "Content-Length", "1000");
        Part p = PartialContent.ofComplete(r, 1000, new Range(10, 19));
        assertThat(p.ok()).isTrue();
        assertThat(p.contentRange()).isEqualTo(new ContentRange(10, 19, 1000));
    }

    @Test
    void ofComplete_rangeBeyondTheLengthOrLyingContentLength_isNotStored() {
        ResponseHead r = ResponseHead.of(200, "ETag", "\"v1\"", "Content-Length", "1000");
        assertThat(PartialContent.ofComplete(r, 1000, new Range(990, 1000)).reason())
                .isEqualTo(Reason.LENGTH_MISMATCH);
        assertThat(PartialContent.ofComplete(r, 999, new Range(0, 9)).reason()).isEqualTo(Reason.LENGTH_MISMATCH);
    }

    // ------------------------------------------------------------------------------------ combining

    @Test
    void combine_nothingHeld_storesThePart() {
        Combination c = PartialContent.combine(null, ok(0, 99, "\"v1\""), MAX);
        assertThat(c.action()).isEqualTo(Action.REPLACE);
        assertThat(c.ranges()).containsExactly(new Range(0, 99));
        assertThat(c.added()).containsExactly(new Range(0, 99));
    }

    @Test
    void combine_gappedPartSameValidator_holdsBothSeparately() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), ok(200, 299, "\"v1\""), MAX);
        assertThat(c.action()).isEqualTo(Action.COMBINE);
        assertThat(c.ranges()).containsExactly(new Range(0, 99), new Range(200, 299));
        assertThat(c.added()).containsExactly(new Range(200, 299));
        assertThat(c.complete(1000)).isFalse();
    }

    @Test
    void combine_adjacentPart_mergesIntoOneRange() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), ok(100, 199, "\"v1\""), MAX);
        assertThat(c.ranges()).containsExactly(new Range(0, 199));
        assertThat(c.added()).containsExactly(new Range(100, 199));
    }

    @Test
    void combine_overlappingPart_addsOnlyTheBytesNotHeld() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(100, 199), new Range(300, 399)),
                ok(50, 349, "\"v1\""), MAX);
        assertThat(c.ranges()).containsExactly(new Range(50, 399));
        assertThat(c.added()).containsExactly(new Range(50, 99), new Range(200, 299));
    }

    @Test
    void combine_partAlreadyHeld_addsNothing() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 499)), ok(100, 199, "\"v1\""), MAX);
        assertThat(c.action()).isEqualTo(Action.COMBINE);
        assertThat(c.added()).isEmpty();
        assertThat(c.ranges()).containsExactly(new Range(0, 499));
    }

    @Test
    void combine_lastMissingPiece_isComplete() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99), new Range(500, 999)),
                ok(100, 499, "\"v1\""), MAX);
        assertThat(c.ranges()).containsExactly(new Range(0, 999));
        assertThat(c.complete(1000)).isTrue();
    }

    @Test
    void combine_otherValidator_dropsWhatWasHeld() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), ok(100, 199, "\"v2\""), MAX);
        assertThat(c.action()).isEqualTo(Action.REPLACE);
        assertThat(c.ranges()).containsExactly(new Range(100, 199));
    }

    @Test
    void combine_sameValidatorOtherTotal_dropsEverything() {
        ResponseHead lying = ResponseHead.of(206, "ETag", "\"v1\"", "Content-Range", "bytes 100-199/2000",
                "Content-Length", "100");
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), PartialContent.of206(lying, 100),
                MAX);
        assertThat(c.action()).isEqualTo(Action.DROP_ALL);
        assertThat(c.ranges()).isEmpty();
        assertThat(c.added()).isEmpty();
    }

    @Test
    void combine_moreThanAllowed_keepsWhatIsHeld() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), ok(100, 199, "\"v1\""), 150);
        assertThat(c.action()).isEqualTo(Action.TOO_LARGE);
        assertThat(c.ranges()).containsExactly(new Range(0, 99));
        assertThat(PartialContent.combine(null, ok(0, 199, "\"v1\""), 150).action()).isEqualTo(Action.TOO_LARGE);
    }

    @Test
    void combine_otherValidatorTooLargeToHold_dropsWhatWasHeld() {
        Combination c = PartialContent.combine(held("\"v1\"", new Range(0, 99)), ok(100, 299, "\"v2\""), 150);
        assertThat(c.action()).as("v1's parts must not be served beside v2's").isEqualTo(Action.DROP_ALL);
        assertThat(c.ranges()).isEmpty();
        assertThat(c.added()).isEmpty();
    }

    @Test
    void combine_unstorablePart_isRefused() {
        Part weak = PartialContent.of206(part(0, 9, "W/\"v1\""), 10);
        assertThatThrownBy(() -> PartialContent.combine(null, weak, MAX))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WEAK_ETAG");
    }

    @Test
    void coversAndMissing_gappedRanges() {
        List<Range> held = List.of(new Range(0, 99), new Range(200, 299));
        assertThat(PartialContent.covers(held, new Range(10, 99))).isTrue();
        assertThat(PartialContent.covers(held, new Range(90, 209))).isFalse();
        assertThat(PartialContent.missing(held, new Range(90, 309)))
                .containsExactly(new Range(100, 199), new Range(300, 309));
        assertThat(PartialContent.missing(List.of(), new Range(5, 6))).containsExactly(new Range(5, 6));
    }

    @Test
    void complete_onlyTheWholeRepresentation() {
        assertThat(PartialContent.complete(List.of(new Range(0, 999)), 1000)).isTrue();
        assertThat(PartialContent.complete(List.of(new Range(0, 998)), 1000)).isFalse();
        assertThat(PartialContent.complete(List.of(new Range(0, 9), new Range(10, 999)), 1000)).isFalse();
    }

    @Test
    void combinedHead_newFieldsReplaceHeldOnes_asA200WithoutContentRange() {
        ResponseHead first = PartialContent.combinedHead(null, part(0, 9, "\"v1\""));
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.headers().get("Content-Range")).isNull();
        assertThat(first.headers().get("Content-Length")).isNull();
        ResponseHead next = PartialContent.combinedHead(first, ResponseHead.of(206, "Date", date(200), "ETag",
                "\"v1\"", "Cache-Control", "max-age=60", "Content-Range", "bytes 10-19/1000"));
        assertThat(next.headers().get("Date")).isEqualTo(date(200));
        assertThat(next.headers().get("Cache-Control")).isEqualTo("max-age=60");
        assertThat(next.headers().get("Content-Range")).isNull();
    }
}
