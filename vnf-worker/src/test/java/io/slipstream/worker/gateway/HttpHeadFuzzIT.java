package io.slipstream.worker.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the gateway's request-head reader ({@link HttpHead#headLength} and
 * {@link HttpHead#parse}), which sees a client's first bytes before any cache worker does. Properties,
 * per input: the head length is -1 or ends exactly after an empty line within the bytes, and reading it
 * moves no index; a head either parses to a token method, a visible-ASCII target and an
 * {@code http://} cache key, or is rejected with {@link IllegalArgumentException} whose message is
 * printable and bounded (it goes into a 400 answer); never another exception. Parsing is a pure
 * function (the same head gives the same key).
 */
class HttpHeadFuzzIT {

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    @FuzzTest(maxDuration = "10s")
    void httpHead_anyClientBytes_parsedOrRejectedSayingWhy(byte[] input) {
        ByteBuf buf = Unpooled.wrappedBuffer(input);
        int length = HttpHead.headLength(buf);
        assertThat(buf.readerIndex()).isZero();
        assertThat(buf.writerIndex()).isEqualTo(input.length);
        if (length < 0) {
            assertThat(length).isEqualTo(-1);
            return;
        }
        assertThat(length).isBetween(2, input.length);
        assertThat(input[length - 1]).isEqualTo((byte) '\n');
        String head = HttpHead.text(buf, length);
        assertThat(head).hasSize(length).matches("(?s).*\n\r?\n");
        HttpHead parsed;
        try {
            parsed = HttpHead.parse(head, "198.18.0.10:80");
        } catch (IllegalArgumentException rejected) {
            assertThat(rejected.getMessage()).isNotBlank().hasSizeLessThan(512)
                    .matches("[\\x20-\\x7e]+");
            return;
        }
        assertThat(TOKEN.matcher(parsed.method()).matches()).as("method %s", parsed.method()).isTrue();
        assertThat(parsed.target()).isNotEmpty().matches("[\\x21-\\x7e]+");
        assertThat(parsed.cacheKey()).startsWith("http://");
        assertThat(HttpHead.parse(head, "198.18.0.10:80")).isEqualTo(parsed);
    }
}
