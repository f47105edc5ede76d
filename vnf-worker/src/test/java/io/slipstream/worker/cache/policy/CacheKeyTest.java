package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 9111 §2 primary cache key. */
class CacheKeyTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "http://Example.COM/a, http://example.com/a",
            "HTTP://example.com/a, http://example.com/a",
            "http://example.com:80/a, http://example.com/a",
            "https://example.com:443/a, https://example.com/a",
            "http://example.com:8080/a, http://example.com:8080/a",
            "https://example.com:80/a, https://example.com:80/a",
            "http://example.com, http://example.com/",
            "http://example.com/a?b=2&a=1, http://example.com/a?b=2&a=1",
            "http://example.com/A%2fb?Q=%20x, http://example.com/A%2fb?Q=%20x",
            "http://example.com/a#frag, http://example.com/a",
            "http://user:pw@example.com/a, http://example.com/a",
            "http://example.com/a/../b, http://example.com/a/../b",
            "http://[::1]:8080/x, http://[::1]:8080/x"})
    void of_uri_normalised(String uri, String expected) {
        assertThat(CacheKey.of(URI.create(uri)).value()).isEqualTo(expected);
    }

    @Test
    void of_sameResourceDifferentMethods_sameKey() {
        RequestHead get = RequestHead.get("http://example.com/a");
        assertThat(CacheKey.of(get)).isEqualTo(CacheKey.of(get.withMethod("DELETE")));
    }

    @Test
    void of_notHttp_rejectedWithExpectation() {
        assertThatThrownBy(() -> CacheKey.of(URI.create("ftp://example.com/a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: an absolute http or https URI");
    }

    @ParameterizedTest(name = "{0} vs {1} -> {2}")
    @CsvSource({
            "http://a.com/x, http://A.COM:80/y, true",
            "http://a.com/x, https://a.com/x, false",
            "http://a.com/x, http://a.com:8080/x, false",
            "http://a.com/x, http://b.a.com/x, false"})
    void sameOrigin_schemeHostPort(String a, String b, boolean expected) {
        assertThat(CacheKey.sameOrigin(URI.create(a), URI.create(b))).isEqualTo(expected);
    }
}
