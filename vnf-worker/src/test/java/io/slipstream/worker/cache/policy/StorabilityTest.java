package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.cache.policy.Storability.Reason;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9111 §3 storing responses, §3.5 Authorization. */
class StorabilityTest {

    private static final CacheStrategy SHARED = CacheStrategy.shared();
    private static final CacheStrategy PRIVATE = CacheStrategy.builder().shared(false).build();
    private static final RequestHead GET = RequestHead.get(Fixtures.URL);

    private static Reason shared(RequestHead request, ResponseHead response) {
        return SHARED.storable(request, response).reason();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW", "get"})
    void storable_methodNotGetOrHead_notStorable(String method) {
        assertThat(shared(RequestHead.of(method, URI.create(Fixtures.URL), HttpHeaders.empty()),
                ResponseHead.of(200, "Cache-Control", "max-age=60"))).isEqualTo(Reason.METHOD_NOT_CACHEABLE);
    }

    @Test
    void storable_head_storable() {
        assertThat(SHARED.storable(GET.withMethod("HEAD"), ResponseHead.of(200)).storable()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
    void storable_heuristicallyCacheableStatusWithoutFreshness_storable(int status) {
        assertThat(shared(GET, ResponseHead.of(status))).isEqualTo(Reason.HEURISTICALLY_CACHEABLE_STATUS);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {201, 302, 303, 307, 400, 403, 500, 502, 503})
    void storable_otherStatusWithoutFreshness_notStorable(int status) {
        assertThat(shared(GET, ResponseHead.of(status))).isEqualTo(Reason.NOT_CACHEABLE);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"max-age=60", "s-maxage=60"})
    void storable_otherStatusWithExplicitFreshness_storable(String cc) {
        assertThat(shared(GET, ResponseHead.of(302, "Cache-Control", cc))).isEqualTo(Reason.EXPLICIT_FRESHNESS);
    }

    @Test
    void storable_otherStatusWithExpires_storable() {
        assertThat(shared(GET, ResponseHead.of(500, "Expires", Fixtures.date(60)))).isEqualTo(Reason.EXPLICIT_FRESHNESS);
    }

    @Test
    void storable_invalidExpires_storableButStale() {
        assertThat(shared(GET, ResponseHead.of(302, "Expires", "0"))).isEqualTo(Reason.EXPLICIT_FRESHNESS);
    }

    @Test
    void storable_otherStatusWithPublic_storable() {
        assertThat(shared(GET, ResponseHead.of(307, "Cache-Control", "public"))).isEqualTo(Reason.PUBLIC);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {100, 101, 103})
    void storable_informational_notStorable(int status) {
        assertThat(shared(GET, ResponseHead.of(status, "Cache-Control", "max-age=60"))).isEqualTo(Reason.STATUS_NOT_FINAL);
    }

    @Test
    void storable_partialContent_notStoredByThisCache() {
        assertThat(shared(GET, ResponseHead.of(206, "Cache-Control", "max-age=60"))).isEqualTo(Reason.STATUS_NOT_SUPPORTED);
    }

    @Test
    void storable_notModified_notStorable() {
        assertThat(shared(GET, ResponseHead.of(304, "Cache-Control", "max-age=60"))).isEqualTo(Reason.STATUS_NOT_SUPPORTED);
    }

    @Test
    void storable_responseNoStore_notStorable() {
        assertThat(shared(GET, ResponseHead.of(200, "Cache-Control", "no-store, max-age=60")))
                .isEqualTo(Reason.RESPONSE_NO_STORE);
    }

    @Test
    void storable_requestNoStore_notStorable() {
        assertThat(shared(RequestHead.get(Fixtures.URL, "Cache-Control", "no-store"),
                ResponseHead.of(200, "Cache-Control", "max-age=60"))).isEqualTo(Reason.REQUEST_NO_STORE);
    }

    @Test
    void storable_mustUnderstandKnownStatus_noStoreIgnored() {
        assertThat(shared(GET, ResponseHead.of(200, "Cache-Control", "must-understand, no-store, max-age=60")))
                .isEqualTo(Reason.EXPLICIT_FRESHNESS);
    }

    @Test
    void storable_mustUnderstandUnknownStatus_notStorable() {
        assertThat(shared(GET, ResponseHead.of(299, "Cache-Control", "must-understand, no-store, max-age=60")))
                .isEqualTo(Reason.MUST_UNDERSTAND_UNKNOWN_STATUS);
    }

    @Test
    void storable_privateInSharedCache_notStorable() {
        assertThat(shared(GET, ResponseHead.of(200, "Cache-Control", "private, max-age=60"))).isEqualTo(Reason.PRIVATE);
    }

    @Test
    void storable_qualifiedPrivateInSharedCache_notStorable() {
        assertThat(shared(GET, ResponseHead.of(200, "Cache-Control", "private=\"Set-Cookie\", max-age=60")))
                .isEqualTo(Reason.PRIVATE);
    }

    @Test
    void storable_privateInPrivateCache_storable() {
        assertThat(PRIVATE.storable(GET, ResponseHead.of(302, "Cache-Control", "private")).reason())
                .isEqualTo(Reason.PRIVATE_IN_PRIVATE_CACHE);
    }

    @Test
    void storable_sMaxAgeInPrivateCache_notExplicitFreshness() {
        assertThat(PRIVATE.storable(GET, ResponseHead.of(302, "Cache-Control", "s-maxage=60")).reason())
                .isEqualTo(Reason.NOT_CACHEABLE);
    }

    @Test
    void storable_authorizationWithoutPermission_notStorable() {
        assertThat(shared(RequestHead.get(Fixtures.URL, "Authorization", "Bearer x"),
                ResponseHead.of(200, "Cache-Control", "max-age=60"))).isEqualTo(Reason.AUTHORIZATION);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"public", "s-maxage=60", "must-revalidate, max-age=60"})
    void storable_authorizationWithPermission_storable(String cc) {
        assertThat(SHARED.storable(RequestHead.get(Fixtures.URL, "Authorization", "Bearer x"),
                ResponseHead.of(200, "Cache-Control", cc)).storable()).isTrue();
    }

    @Test
    void storable_authorizationInPrivateCache_storable() {
        assertThat(PRIVATE.storable(RequestHead.get(Fixtures.URL, "Authorization", "Bearer x"),
                ResponseHead.of(200, "Cache-Control", "max-age=60")).storable()).isTrue();
    }

    @Test
    void storable_varyStar_notStorable() {
        assertThat(shared(GET, ResponseHead.of(200, "Cache-Control", "max-age=60", "Vary", "*")))
                .isEqualTo(Reason.VARY_ANY);
    }

    @Test
    void storable_noCacheResponse_storable() {
        assertThat(SHARED.storable(GET, ResponseHead.of(200, "Cache-Control", "no-cache")).storable()).isTrue();
    }

    @Test
    void storable_noValidatorsNoFreshness200_stillStorable() {
        assertThat(SHARED.storable(GET, ResponseHead.of(200)).storable()).isTrue();
    }

    @Test
    void forStorage_hopByHopAndConnectionListed_removed() {
        ResponseHead stored = CacheStrategy.forStorage(ResponseHead.of(200, "Connection", "close, X-Hop",
                "X-Hop", "1", "Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "Proxy-Authenticate", "Basic",
                "ETag", "\"a\""));
        assertThat(stored.headers().names()).containsExactly("etag");
    }
}
