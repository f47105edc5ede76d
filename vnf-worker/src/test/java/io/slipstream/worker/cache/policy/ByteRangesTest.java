package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.date;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.policy.ByteRanges.Decision;
import io.slipstream.worker.cache.policy.ByteRanges.Outcome;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.ByteRanges.Reason;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9110 §14 (Range, 206, 416, multipart/byteranges) and §13.1.5 (If-Range) as pure decisions. */
class ByteRangesTest {

    private static final ResponseHead OK = ResponseHead.of(200, "ETag", "\"v1\"", "Date", date(100),
            "Last-Modified", date(0), "Content-Type", "video/mp4");

    private static Decision decide(String range, long length) {
        return ByteRanges.decide("GET", List.of(range), List.of(), OK, length);
    }

    private static Decision decideIfRange(String ifRange) {
        return ByteRanges.decide("GET", List.of("bytes=0-9"), List.of(ifRange), OK, 100);
    }

    @Test
    void decide_singleRange_isPartialWithThatRange() {
        Decision d = decide("bytes=0-499", 1000);
        assertThat(d.outcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(d.ranges()).containsExactly(new Range(0, 499));
        assertThat(d.ranges().get(0).contentRange(1000)).isEqualTo("bytes 0-499/1000");
    }

    @Test
    void decide_lastBeyondEnd_isClampedToTheEnd() {
        assertThat(decide("bytes=900-5000", 1000).ranges()).containsExactly(new Range(900, 999));
    }

    @Test
    void decide_openEnded_runsToTheEnd() {
        assertThat(decide("bytes=9500-", 10000).ranges()).containsExactly(new Range(9500, 9999));
    }

    @Test
    void decide_suffix_isTheLastBytes() {
        assertThat(decide("bytes=-500", 10000).ranges()).containsExactly(new Range(9500, 9999));
    }

    @Test
    void decide_suffixLongerThanRepresentation_isTheWholeOfIt() {
        assertThat(decide("bytes=-5000", 100).ranges()).containsExactly(new Range(0, 99));
    }

    @Test
    void decide_severalDisjointRanges_areAllSentSorted() {
        Decision d = decide("bytes=5000-5099, 0-99", 10000);
        assertThat(d.outcome()).isEqualTo(Outcome.PARTIAL);
        assertThat(d.ranges()).containsExactly(new Range(0, 99), new Range(5000, 5099));
        assertThat(d.bytes()).isEqualTo(200);
    }

    @Test
    void decide_overlappingOrCloseRanges_areCoalesced() {
        assertThat(decide("bytes=0-99,50-149", 10000).ranges()).containsExactly(new Range(0, 149));
        assertThat(decide("bytes=0-99,150-199", 10000).ranges()).containsExactly(new Range(0, 199));
        assertThat(decide("bytes=0-99,500-599", 10000).ranges()).hasSize(2);
    }

    @Test
    void decide_overlapsAddingUpToMoreThanTheRepresentation_ignoresRange() {
        Decision d = decide("bytes=0-,0-,0-", 1000);
        assertThat(d.outcome()).isEqualTo(Outcome.FULL);
        assertThat(d.reason()).isEqualTo(Reason.OVERLAP_ABUSE);
    }

    @Test
    void decide_onlyUnsatisfiableRanges_is416() {
        Decision d = decide("bytes=1000-2000, -0", 1000);
        assertThat(d.outcome()).isEqualTo(Outcome.NOT_SATISFIABLE);
        assertThat(d.ranges()).isEmpty();
    }

    @Test
    void decide_someUnsatisfiable_sendsTheSatisfiableOnes() {
        assertThat(decide("bytes=2000-3000, 0-9", 1000).ranges()).containsExactly(new Range(0, 9));
    }

    @Test
    void decide_emptyRepresentation_servesItWhole() {
        assertThat(decide("bytes=0-9", 0).reason()).isEqualTo(Reason.EMPTY_REPRESENTATION);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bytes=5-1", "bytes=", "bytes=,", "bytes=a-b", "bytes=1-2-3", "bytes = 0-1",
        "bytes=0 -1", "bytes=--1", "bytes=-", "=0-1", "0-1", "bytes=0-1;x", "bytes=+1-2", "bytes=0x10-20",
        "by(tes=0-1", "bytes=0-1,5-4"})
    void decide_invalidRange_servesFull(String range) {
        Decision d = decide(range, 1000);
        assertThat(d.outcome()).isEqualTo(Outcome.FULL);
        assertThat(d.reason()).isEqualTo(Reason.INVALID);
    }

    @Test
    void decide_otherUnit_servesFull() {
        assertThat(decide("items=0-1", 1000).reason()).isEqualTo(Reason.UNKNOWN_UNIT);
    }

    @Test
    void decide_unitIsCaseInsensitiveAndListOwsAndEmptyElementsAllowed() {
        assertThat(decide("BYTES= 0-1 ,\t, 500-501 ,", 1000).ranges()).containsExactly(new Range(0, 1),
                new Range(500, 501));
    }

    @Test
    void decide_hugeNumbers_saturateInsteadOfOverflowing() {
        assertThat(decide("bytes=0-99999999999999999999999999", 1000).ranges()).containsExactly(new Range(0, 999));
        assertThat(decide("bytes=99999999999999999999999999-", 1000).outcome()).isEqualTo(Outcome.NOT_SATISFIABLE);
        assertThat(decide("bytes=-99999999999999999999999999", 1000).ranges()).containsExactly(new Range(0, 999));
    }

    @Test
    void decide_exactlyMaxRanges_isHonouredOneMoreIsIgnored() {
        StringBuilder ok = new StringBuilder("bytes=");
        for (int i = 0; i < ByteRanges.MAX_RANGES; i++) {
            ok.append(i == 0 ? "" : ",").append(i * 1000).append('-').append(i * 1000);
        }
        assertThat(decide(ok.toString(), 1_000_000).ranges()).hasSize(ByteRanges.MAX_RANGES);
        Decision tooMany = decide(ok + ",999999-999999", 1_000_000);
        assertThat(tooMany.outcome()).isEqualTo(Outcome.FULL);
        assertThat(tooMany.reason()).isEqualTo(Reason.TOO_MANY_RANGES);
    }

    @Test
    void decide_thousandsOfRanges_ignoredWithoutReadingThemAll() {
        String value = "bytes=" + "0-0,".repeat(5000);
        assertThat(decide(value, 10).reason()).isEqualTo(Reason.TOO_MANY_RANGES);
    }

    @Test
    void decide_notGet_ignoresRange() {
        assertThat(ByteRanges.decide("HEAD", List.of("bytes=0-1"), List.of(), OK, 10).reason())
                .isEqualTo(Reason.NOT_GET);
    }

    @Test
    void decide_storedNot200_ignoresRange() {
        assertThat(ByteRanges.decide("GET", List.of("bytes=0-1"), List.of(), ResponseHead.of(404), 10).reason())
                .isEqualTo(Reason.STATUS_NOT_200);
    }

    @Test
    void decide_twoRangeLines_ignoresRange() {
        assertThat(ByteRanges.decide("GET", List.of("bytes=0-1", "bytes=2-3"), List.of(), OK, 10).reason())
                .isEqualTo(Reason.INVALID);
    }

    @Test
    void decide_noRange_isFull() {
        assertThat(ByteRanges.decide("GET", List.of(), List.of("\"v1\""), OK, 10).reason()).isEqualTo(Reason.NO_RANGE);
    }

    @Test
    void decide_fromRequestHead_readsItsFields() {
        RequestHead r = RequestHead.of("GET", java.net.URI.create(Fixtures.URL),
                HttpHeaders.of("Range", "bytes=1-2", "If-Range", "\"v1\""));
        assertThat(ByteRanges.decide(r, OK, 10).ranges()).containsExactly(new Range(1, 2));
    }

    @Test
    void ifRange_strongMatchingETag_honoursRange() {
        assertThat(decideIfRange("\"v1\"").outcome()).isEqualTo(Outcome.PARTIAL);
    }

    @Test
    void ifRange_otherOrWeakETag_servesFull() {
        assertThat(decideIfRange("\"v2\"").reason()).isEqualTo(Reason.IF_RANGE_FALSE);
        assertThat(decideIfRange("W/\"v1\"").reason()).isEqualTo(Reason.IF_RANGE_FALSE);
        assertThat(decideIfRange("\"v1").reason()).isEqualTo(Reason.IF_RANGE_FALSE);
    }

    @Test
    void ifRange_storedWeakETag_neverMatches() {
        ResponseHead weak = ResponseHead.of(200, "ETag", "W/\"v1\"");
        assertThat(ByteRanges.ifRangeHolds(List.of("W/\"v1\""), weak)).isFalse();
        assertThat(ByteRanges.ifRangeHolds(List.of("\"v1\""), weak)).isFalse();
    }

    @Test
    void ifRange_dateEqualToStrongLastModified_honoursRange() {
        assertThat(decideIfRange(date(0)).outcome()).isEqualTo(Outcome.PARTIAL);
    }

    @Test
    void ifRange_dateNotEqualOrLastModifiedWeak_servesFull() {
        assertThat(decideIfRange(date(1)).reason()).isEqualTo(Reason.IF_RANGE_FALSE);
        assertThat(decideIfRange("yesterday").reason()).isEqualTo(Reason.IF_RANGE_FALSE);
        // Last-Modified within a second of Date is a weak validator (RFC 9110 §8.8.2.2).
        ResponseHead weakDate = ResponseHead.of(200, "Date", date(0), "Last-Modified", date(0));
        assertThat(ByteRanges.ifRangeHolds(List.of(date(0)), weakDate)).isFalse();
        ResponseHead noDate = ResponseHead.of(200, "Last-Modified", date(0));
        assertThat(ByteRanges.ifRangeHolds(List.of(date(0)), noDate)).isFalse();
    }

    @Test
    void ifRange_twoLines_servesFull() {
        assertThat(ByteRanges.ifRangeHolds(List.of("\"v1\"", "\"v1\""), OK)).isFalse();
    }

    @Test
    void multipart_framing_matchesContentLength() {
        ByteRanges.Multipart m = new ByteRanges.Multipart("XYZ", "video/mp4",
                List.of(new Range(0, 1), new Range(10, 12)), 100);
        String body = m.partHeader(0) + "ab" + m.partHeader(1) + "cde" + m.trailer();
        assertThat(body).isEqualTo("--XYZ\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-1/100\r\n\r\nab"
                + "\r\n--XYZ\r\nContent-Type: video/mp4\r\nContent-Range: bytes 10-12/100\r\n\r\ncde\r\n--XYZ--\r\n");
        assertThat(m.contentLength()).isEqualTo(body.length());
        assertThat(m.mediaType()).isEqualTo("multipart/byteranges; boundary=XYZ");
    }

    @Test
    void multipart_withoutContentType_partsCarryNone() {
        ByteRanges.Multipart m = new ByteRanges.Multipart("B", null, List.of(new Range(0, 0)), 1);
        assertThat(m.partHeader(0)).isEqualTo("--B\r\nContent-Range: bytes 0-0/1\r\n\r\n");
    }

    @Test
    void multipart_badBoundary_isRejected() {
        assertThatThrownBy(() -> new ByteRanges.Multipart("", null, List.of(), 1))
                .hasMessageContaining("expected: 1..70");
    }

    @Test
    void range_reversed_isRejectedWithMessage() {
        assertThatThrownBy(() -> new Range(5, 1)).hasMessageContaining("expected: 0 <= first <= last");
    }

    @Test
    void decide_negativeLength_isRejected() {
        assertThatThrownBy(() -> decide("bytes=0-1", -1)).hasMessageContaining("length: -1");
    }
}
