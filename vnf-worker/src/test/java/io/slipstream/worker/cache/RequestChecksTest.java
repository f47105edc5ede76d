package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request-head checks answer with the documented status, message and connection handling. */
class RequestChecksTest {

    private static final CacheProxySettings SETTINGS = CacheProxySettings.builder()
            .maxHeaderBytes(4096).maxInitialLineBytes(1024).build();

    @Test
    void decoderFailure_eachCause_hasItsStatusAndCloses() {
        assertThat(RequestChecks.decoderFailure(new RequestGuard.TooManyFieldsException(101, 100), SETTINGS))
                .isEqualTo(new Refusal(431, "request has 101 header fields (expected: at most 100)", true));
        assertThat(RequestChecks.decoderFailure(new TooLongHttpHeaderException("x"), SETTINGS))
                .isEqualTo(new Refusal(431, "request header fields larger than 4096 bytes", true));
        assertThat(RequestChecks.decoderFailure(new TooLongHttpLineException("x"), SETTINGS))
                .isEqualTo(new Refusal(414, "request line longer than 1024 bytes", true));
        assertThat(RequestChecks.decoderFailure(new TooLongFrameException("x"), SETTINGS))
                .isEqualTo(new Refusal(431, "request head too large", true));
        assertThat(RequestChecks.decoderFailure(new IllegalArgumentException("bad field"), SETTINGS))
                .isEqualTo(new Refusal(400, "malformed request: bad field", true));
    }

    @Test
    void version_only10And11Pass() {
        assertThat(RequestChecks.version(HttpVersion.HTTP_1_1)).isNull();
        assertThat(RequestChecks.version(HttpVersion.HTTP_1_0)).isNull();
        assertThat(RequestChecks.version(HttpVersion.valueOf("HTTP/2.0")))
                .isEqualTo(new Refusal(505, "HTTP version HTTP/2.0 (expected: HTTP/1.0 or HTTP/1.1)", true));
    }

    @Test
    void method_tokensUpToTheLimitPass() {
        for (String m : List.of("GET", "HEAD", "POST", "PURGE", "M-SEARCH", "x!#$%&'*+.^_`|~", "A".repeat(32))) {
            assertThat(RequestChecks.method(m)).as(m).isNull();
        }
    }

    @Test
    void method_notAToken_is400() {
        for (String m : List.of("", "G(T", "GE T", "GET/", "G\u00e9T", "{}")) {
            assertThat(RequestChecks.method(m)).as(m)
                    .isEqualTo(new Refusal(400, "invalid method (expected: an HTTP token)", true));
        }
    }

    @Test
    void method_longerThanTheLimit_is501() {
        assertThat(RequestChecks.method("A".repeat(33)))
                .isEqualTo(new Refusal(501, "method of 33 characters (expected: at most 32)", true));
    }

    @Test
    void method_connectAndTrace_areRefusedTraceKeepingTheConnection() {
        assertThat(RequestChecks.method("CONNECT")).isEqualTo(new Refusal(501, "CONNECT is not supported", true));
        assertThat(RequestChecks.method("TRACE")).isEqualTo(new Refusal(405, "TRACE is not allowed", false));
        assertThat(RequestChecks.method("connect")).isNull();
    }

    @Test
    void via_thisProxyThreeTimesAcrossLines_isALoop() {
        assertThat(RequestChecks.via(List.of("1.1 slipstream, 1.1 other", "1.1 slipstream"))).isNull();
        assertThat(RequestChecks.via(List.of("1.1 slipstream, 1.1 slipstream", "1.1 slipstream")))
                .isEqualTo(new Refusal(508, "request loop: Via shows this proxy three times already", true));
        assertThat(RequestChecks.via(List.of("slipstreamslipstreamslipstream")).status()).isEqualTo(508);
        assertThat(RequestChecks.via(List.of())).isNull();
    }
}
