package io.slipstream.worker.cache.policy;

import static io.slipstream.worker.cache.policy.Fixtures.at;
import static io.slipstream.worker.cache.policy.Fixtures.date;
import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.cache.policy.Lookup.Action;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9111 §4.3 validation, §3.2 updating stored header fields. */
class ValidationTest {

    private static final RequestHead GET = RequestHead.get(Fixtures.URL);

    private static StoredResponse storedAt(long dateSeconds, String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Date";
        all[1] = date(dateSeconds);
        System.arraycopy(headers, 0, all, 2, headers.length);
        return StoredResponse.of(GET, ResponseHead.of(200, all), at(dateSeconds), at(dateSeconds));
    }

    @Test
    void conditionalRequest_etag_ifNoneMatchReplacingClientOwn() {
        RequestHead client = RequestHead.get(Fixtures.URL, "If-None-Match", "\"client\"", "Accept", "*/*");
        RequestHead c = Validation.conditionalRequest(client, ResponseHead.of(200, "ETag", "\"v1\"")).orElseThrow();
        assertThat(c.headers().all("If-None-Match")).containsExactly("\"v1\"");
        assertThat(c.headers().get("Accept")).isEqualTo("*/*");
        assertThat(c.headers().contains("If-Modified-Since")).isFalse();
    }

    @Test
    void conditionalRequest_lastModifiedOnly_ifModifiedSince() {
        RequestHead c = Validation.conditionalRequest(GET, ResponseHead.of(200, "Last-Modified", date(-5))).orElseThrow();
        assertThat(c.headers().get("If-Modified-Since")).isEqualTo(date(-5));
        assertThat(c.headers().contains("If-None-Match")).isFalse();
    }

    @Test
    void conditionalRequest_noValidator_empty() {
        assertThat(Validation.conditionalRequest(GET, ResponseHead.of(200))).isEmpty();
    }

    @Test
    void conditionalRequest_headClient_getSoThatA200CanReplaceTheStoredResponse() {
        RequestHead c = Validation.conditionalRequest(GET.withMethod("HEAD"), ResponseHead.of(200, "ETag", "\"v\""))
                .orElseThrow();
        assertThat(c.method()).isEqualTo("GET");
    }

    @Test
    void updateHeaders_304Fields_replaceStoredOnes() {
        ResponseHead stored = ResponseHead.of(200, "Date", date(0), "Cache-Control", "max-age=10", "ETag", "\"v1\"",
                "X-Kept", "yes");
        ResponseHead updated = Validation.updateHeaders(stored,
                ResponseHead.of(304, "Date", date(100), "Cache-Control", "max-age=60", "X-New", "1"));
        assertThat(updated.status()).isEqualTo(200);
        assertThat(updated.headers().lines()).extracting(l -> l[0] + ": " + l[1]).containsExactly(
                "Date: " + date(100), "Cache-Control: max-age=60", "ETag: \"v1\"", "X-Kept: yes", "X-New: 1");
    }

    @Test
    void updateHeaders_excludedFields_keptAsStored() {
        ResponseHead stored = ResponseHead.of(200, "Content-Length", "1234", "Content-Encoding", "gzip");
        ResponseHead updated = Validation.updateHeaders(stored, ResponseHead.of(304, "Content-Length", "0",
                "Content-Encoding", "br", "Connection", "close, X-Hop", "X-Hop", "1", "Transfer-Encoding", "chunked"));
        assertThat(updated.headers()).isEqualTo(stored.headers());
    }

    @Test
    void updateHeaders_multiLineField_allLinesReplaced() {
        ResponseHead stored = ResponseHead.of(200, "Link", "<a>", "Link", "<b>");
        ResponseHead updated = Validation.updateHeaders(stored, ResponseHead.of(304, "link", "<c>"));
        assertThat(updated.headers().all("Link")).containsExactly("<c>");
    }

    @Test
    void freshen_304_timesRestartAndFreshAgain() {
        StoredResponse stale = storedAt(0, "Cache-Control", "max-age=10", "ETag", "\"v1\"");
        StoredResponse fresh = Validation.freshen(stale, ResponseHead.of(304, "Date", date(100), "ETag", "\"v1\""),
                at(99), at(100));
        assertThat(CacheStrategy.currentAge(fresh, at(105)).getSeconds()).isEqualTo(6);
        assertThat(CacheStrategy.shared().lookup(GET, fresh, at(105)).action()).isEqualTo(Action.FRESH);
    }

    @Test
    void notModifiedTargets_strongEtag_allStoredWithSameStrongEtag() {
        StoredResponse a = storedAt(0, "ETag", "\"v1\"");
        StoredResponse b = storedAt(5, "ETag", "\"v1\"");
        StoredResponse c = storedAt(9, "ETag", "\"v2\"");
        StoredResponse weak = storedAt(9, "ETag", "W/\"v1\"");
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304, "ETag", "\"v1\""), List.of(a, b, c, weak)))
                .containsExactly(a, b);
    }

    @Test
    void notModifiedTargets_strongEtagNoMatch_nothingUpdated() {
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304, "ETag", "\"v9\""),
                List.of(storedAt(0, "ETag", "\"v1\"")))).isEmpty();
    }

    @Test
    void notModifiedTargets_weakEtag_mostRecentWeakMatch() {
        StoredResponse older = storedAt(0, "ETag", "\"v1\"");
        StoredResponse newer = storedAt(5, "ETag", "W/\"v1\"");
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304, "ETag", "W/\"v1\""), List.of(older, newer)))
                .containsExactly(newer);
    }

    @Test
    void notModifiedTargets_lastModifiedOnly_mostRecentWithSameLastModified() {
        StoredResponse a = storedAt(0, "Last-Modified", date(-50));
        StoredResponse b = storedAt(5, "Last-Modified", date(-50));
        StoredResponse c = storedAt(9, "Last-Modified", date(-40));
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304, "Last-Modified", date(-50)), List.of(a, b, c)))
                .containsExactly(b);
    }

    @Test
    void notModifiedTargets_noValidatorSingleStoredWithout_thatOne() {
        StoredResponse only = storedAt(0);
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304), List.of(only))).containsExactly(only);
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304), List.of(only, storedAt(1)))).isEmpty();
        assertThat(Validation.notModifiedTargets(ResponseHead.of(304), List.of(storedAt(0, "ETag", "\"x\"")))).isEmpty();
    }

    @ParameterizedTest(name = "{0} vs {1}: strong {2}, weak {3}")
    @CsvSource(delimiter = '|', value = {
            "\"1\"|\"1\"|true|true",
            "W/\"1\"|W/\"1\"|false|true",
            "W/\"1\"|\"1\"|false|true",
            "W/\"1\"|W/\"2\"|false|false",
            "\"1\"|\"2\"|false|false"})
    void etagComparison_rfc9110Table(String a, String b, boolean strong, boolean weak) {
        assertThat(Validation.strongMatch(a, b)).isEqualTo(strong);
        assertThat(Validation.weakMatch(a, b)).isEqualTo(weak);
    }

    @ParameterizedTest(name = "If-None-Match: {0} -> {1}")
    @CsvSource(delimiter = '|', value = {"\"v1\"|true", "W/\"v1\"|true", "\"x\", \"v1\"|true", "*|true", "\"x\"|false"})
    void notModified_clientIfNoneMatch(String ifNoneMatch, boolean expected) {
        RequestHead req = RequestHead.get(Fixtures.URL, "If-None-Match", ifNoneMatch);
        assertThat(Validation.notModified(req, ResponseHead.of(200, "ETag", "\"v1\""))).isEqualTo(expected);
    }

    @Test
    void notModified_clientIfModifiedSince_comparedWithLastModified() {
        ResponseHead stored = ResponseHead.of(200, "Last-Modified", date(0));
        assertThat(Validation.notModified(RequestHead.get(Fixtures.URL, "If-Modified-Since", date(0)), stored)).isTrue();
        assertThat(Validation.notModified(RequestHead.get(Fixtures.URL, "If-Modified-Since", date(-1)), stored)).isFalse();
        assertThat(Validation.notModified(RequestHead.get(Fixtures.URL, "If-Modified-Since", "garbage"), stored))
                .isFalse();
    }

    @Test
    void notModified_ifNoneMatchPresent_ifModifiedSinceIgnored() {
        RequestHead req = RequestHead.get(Fixtures.URL, "If-None-Match", "\"x\"", "If-Modified-Since", date(10));
        assertThat(Validation.notModified(req, ResponseHead.of(200, "ETag", "\"v1\"", "Last-Modified", date(0))))
                .isFalse();
    }

    // §4.3.5 freshening with HEAD

    private static final ResponseHead STORED_GET = ResponseHead.of(200, "ETag", "\"v1\"", "Last-Modified", date(0),
            "Cache-Control", "max-age=10");

    @Test
    void headUpdates_sameValidatorsAndLength_updates() {
        ResponseHead head = ResponseHead.of(200, "ETag", "\"v1\"", "Last-Modified", date(0), "Content-Length", "42",
                "Cache-Control", "max-age=100");
        assertThat(Validation.headUpdates(head, STORED_GET, 42)).isTrue();
        StoredResponse freshened = Validation.freshen(Fixtures.stored(STORED_GET), head, at(50), at(51));
        assertThat(freshened.response().headers().get("Cache-Control")).isEqualTo("max-age=100");
        assertThat(freshened.response().headers().get("Content-Length")).isNull();
        assertThat(freshened.responseTime()).isEqualTo(at(51));
    }

    @Test
    void headUpdates_noValidatorsNoLength_updates() {
        assertThat(Validation.headUpdates(ResponseHead.of(200, "Cache-Control", "max-age=5"), STORED_GET, 1)).isTrue();
    }

    @Test
    void headUpdates_otherETagOrLastModified_doesNot() {
        assertThat(Validation.headUpdates(ResponseHead.of(200, "ETag", "\"v2\""), STORED_GET, 1)).isFalse();
        assertThat(Validation.headUpdates(ResponseHead.of(200, "ETag", "W/\"v1\""), STORED_GET, 1)).isFalse();
        assertThat(Validation.headUpdates(ResponseHead.of(200, "Last-Modified", date(5)), STORED_GET, 1)).isFalse();
    }

    @Test
    void headUpdates_validatorTheStoredOneLacks_doesNot() {
        ResponseHead storedWithout = ResponseHead.of(200, "Cache-Control", "max-age=10");
        assertThat(Validation.headUpdates(ResponseHead.of(200, "ETag", "\"v1\""), storedWithout, 1)).isFalse();
    }

    @ParameterizedTest
    @CsvSource({"41", "43", "-1", "abc", "''", "99999999999999999999"})
    void headUpdates_otherOrInvalidContentLength_doesNot(String length) {
        assertThat(Validation.headUpdates(ResponseHead.of(200, "ETag", "\"v1\"", "Content-Length", length),
                STORED_GET, 42)).isFalse();
    }

    @Test
    void headUpdates_non200_doesNot() {
        assertThat(Validation.headUpdates(ResponseHead.of(404, "ETag", "\"v1\""), STORED_GET, 1)).isFalse();
        assertThat(Validation.headUpdates(ResponseHead.of(206, "ETag", "\"v1\""), STORED_GET, 1)).isFalse();
    }
}
