package io.slipstream.worker.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.slipstream.worker.cache.policy.CacheKey;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpHeadTest {

    private static int length(String s) {
        ByteBuf b = Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
        try {
            return HttpHead.headLength(b);
        } finally {
            b.release();
        }
    }

    @Test
    void headLength_incompleteHead_isMinusOne() {
        assertThat(length("GET / HTTP/1.1\r\nHost: a\r\n")).isEqualTo(-1);
    }

    @Test
    void headLength_completeHeadWithBodyAfter_endsAtTheEmptyLine() {
        String head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
        assertThat(length(head + "abc")).isEqualTo(head.length());
        assertThat(length("GET / HTTP/1.0\n\nrest")).isEqualTo("GET / HTTP/1.0\n\n".length());
    }

    @Test
    void parse_originForm_keysLikeTheCacheWorker() {
        HttpHead h = HttpHead.parse("GET /a/b?q=1 HTTP/1.1\r\nHost: Example.COM:80\r\nAccept: */*\r\n\r\n", "x:1");
        assertThat(h.cacheKey()).isEqualTo(CacheKey.of(URI.create("http://Example.COM:80/a/b?q=1")).value())
                .isEqualTo("http://example.com/a/b?q=1");
        assertThat(h.method()).isEqualTo("GET");
    }

    @Test
    void parse_absoluteForm_keysByTheTarget() {
        assertThat(HttpHead.parse("GET http://origin:8080/x HTTP/1.1\r\nHost: other\r\n\r\n", "x:1").cacheKey())
                .isEqualTo("http://origin:8080/x");
    }

    @Test
    void parse_http10WithoutHost_keysByTheOriginalDestination() {
        assertThat(HttpHead.parse("GET /x HTTP/1.0\r\n\r\n", "198.18.2.10:80").cacheKey())
                .isEqualTo("http://198.18.2.10/x");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1\r\n\r\n",
        "GET /\r\nHost: a\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        "GET ftp://x/ HTTP/1.1\r\nHost: a\r\n\r\n",
        "\u0000\u0001\u0002 garbage\r\n\r\n",
        "GET /a\u0007b HTTP/1.1\r\nHost: a\r\n\r\n",
    })
    void parse_badHead_isRejectedSayingWhatWasExpected(String head) {
        assertThatThrownBy(() -> HttpHead.parse(head, "x:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> assertThat(e.getMessage()).isNotBlank());
    }
}
