package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §4.4 invalidating stored responses. */
class InvalidationTest {

    private static RequestHead request(String method) {
        return RequestHead.of(method, URI.create("http://example.com/items/1"), HttpHeaders.empty());
    }

    private static String[] keys(RequestHead request, ResponseHead response) {
        return Invalidation.targets(request, response).stream().map(CacheKey::value).toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "PURGE-ISH", "post"})
    void targets_unsafeOrUnknownMethodSuccess_targetUriInvalidated(String method) {
        assertThat(keys(request(method), ResponseHead.of(200))).containsExactly("http://example.com/items/1");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"GET", "HEAD", "OPTIONS", "TRACE"})
    void targets_safeMethod_nothing(String method) {
        assertThat(keys(request(method), ResponseHead.of(200))).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {400, 404, 500, 503})
    void targets_errorStatus_nothing(int status) {
        assertThat(keys(request("POST"), ResponseHead.of(status))).isEmpty();
    }

    @Test
    void targets_redirectStatus_invalidates() {
        assertThat(keys(request("POST"), ResponseHead.of(303, "Location", "/items"))).hasSize(2);
    }

    @Test
    void targets_sameOriginLocationAndContentLocation_alsoInvalidated() {
        assertThat(keys(request("POST"), ResponseHead.of(201, "Location", "/items/2",
                "Content-Location", "http://EXAMPLE.com:80/items/2?v=1")))
                .containsExactly("http://example.com/items/1", "http://example.com/items/2",
                        "http://example.com/items/2?v=1");
    }

    @Test
    void targets_crossOriginLocation_ignored() {
        assertThat(keys(request("PUT"), ResponseHead.of(200, "Location", "http://other.com/x",
                "Content-Location", "https://example.com/items/1"))).containsExactly("http://example.com/items/1");
    }

    @Test
    void targets_unparseableLocation_ignored() {
        assertThat(keys(request("DELETE"), ResponseHead.of(204, "Location", "http://exa mple.com/ bad")))
                .containsExactly("http://example.com/items/1");
    }

    @Test
    void targets_locationEqualsTarget_notDuplicated() {
        assertThat(keys(request("PUT"), ResponseHead.of(200, "Content-Location", "/items/1"))).hasSize(1);
    }
}
