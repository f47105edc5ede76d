package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.common.HostPort;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Request-target resolution, without sockets: every form RFC 9112 §3.2 names, and malformed ones. */
class RequestTargetsTest {

    private static final HostPort ORIGIN = HostPort.of("127.0.0.1", 8081);
    private final RequestTargets reverse = new RequestTargets(URI.create("http://origin.example:8081"), ORIGIN, false);
    private final RequestTargets forward = new RequestTargets(null, null, true);

    private static RequestTargets.Target target(RequestTargets.Result r) {
        assertThat(r).isInstanceOf(RequestTargets.Target.class);
        return (RequestTargets.Target) r;
    }

    private static void rejected(RequestTargets.Result r, int status, String message) {
        assertThat(r).isEqualTo(new RequestTargets.Rejected(status, message));
    }

    @Test
    void parse_originFormWithHost_joinsHostAndGoesToTheOrigin() {
        RequestTargets.Target t = target(reverse.parse("/a/b?x=1", List.of(" Www.Example.com:8080 "), false));
        assertThat(t.uri()).isEqualTo(URI.create("http://Www.Example.com:8080/a/b?x=1"));
        assertThat(t.upstream()).isEqualTo(ORIGIN);
        assertThat(t.forward()).isFalse();
        assertThat(t.key().value()).isEqualTo("http://www.example.com:8080/a/b?x=1");
    }

    @Test
    void parse_originFormForwardProxyWithoutOrigin_goesToTheHost() {
        assertThat(target(forward.parse("/", List.of("h.example"), false)).upstream())
                .isEqualTo(HostPort.of("h.example", 80));
        assertThat(target(forward.parse("/", List.of("h.example:8088"), false)).upstream())
                .isEqualTo(HostPort.of("h.example", 8088));
        assertThat(target(forward.parse("/", List.of("[::1]:8088"), false)).upstream())
                .isEqualTo(HostPort.of("[::1]", 8088));
    }

    @Test
    void parse_originFormWithoutOriginOrForwarding_isRejected() {
        rejected(new RequestTargets(null, null, false).parse("/", List.of("h"), false), 400,
                "no origin configured for origin-form requests");
    }

    @Test
    void parse_withoutHost_onlyHttp10AndOnlyWithAnOrigin() {
        rejected(reverse.parse("/a", List.of(), false), 400, "HTTP/1.1 request without Host");
        assertThat(target(reverse.parse("/a", List.of(), true)).uri())
                .isEqualTo(URI.create("http://origin.example:8081/a"));
        rejected(forward.parse("/a", List.of(), true), 400, "request without Host and no origin configured");
    }

    @Test
    void parse_severalHostLines_isRejected() {
        rejected(reverse.parse("/", List.of("a", "a"), false), 400, "more than one Host field");
    }

    @Test
    void parse_malformedHost_isRejectedNamingIt() {
        for (String host : List.of("", " ", "a b", "user@h", "h:123456", "h:", "h:port", "[zz]", "h/x", "h?q", "h%41")) {
            rejected(reverse.parse("/", List.of(host), false), 400,
                    "invalid Host: '" + host.strip() + "' (expected: host[:port])");
        }
    }

    @Test
    void parse_absoluteForm_whenForwarding_goesToItsAuthority() {
        RequestTargets.Target t = target(forward.parse("HTTP://H.example:8000/p?q", List.of("ignored"), false));
        assertThat(t.forward()).isTrue();
        assertThat(t.upstream()).isEqualTo(HostPort.of("H.example", 8000));
        assertThat(t.key().value()).isEqualTo("http://h.example:8000/p?q");
        assertThat(target(forward.parse("http://h", List.of(), false)).uri()).isEqualTo(URI.create("http://h/"));
        assertThat(target(forward.parse("http://h?x=1", List.of(), false)).uri())
                .isEqualTo(URI.create("http://h/?x=1"));
    }

    @Test
    void parse_absoluteForm_whenNotForwarding_isForbidden() {
        rejected(reverse.parse("http://h/p", List.of("h"), false), 403, "forward proxying is disabled");
    }

    @Test
    void parse_absoluteFormWithUserInfoOrFragmentOrNoHost_isRejected() {
        for (String t : List.of("http://u:p@h/x", "http://h/x#frag", "http:///x", "http://")) {
            assertThat(forward.parse(t, List.of(), false)).as(t)
                    .isInstanceOf(RequestTargets.Rejected.class)
                    .extracting(r -> ((RequestTargets.Rejected) r).status()).isEqualTo(400);
        }
        rejected(forward.parse("http://u@h/x", List.of(), false), 400, "invalid absolute request target: http://u@h/x");
    }

    @Test
    void parse_authorityAsteriskAndOtherSchemes_areRejectedNamingTheForms() {
        for (String t : List.of("example.com:443", "*", "https://h/x", "ftp://h/x", "", "a/b")) {
            rejected(forward.parse(t, List.of("h"), false), 400,
                    "request target must be origin-form (/path) or absolute http:// (got: '" + t + "')");
        }
    }

    @Test
    void parse_percentEncoding_isKeptAsSentAndMalformedIsRejected() {
        RequestTargets.Target t = target(reverse.parse("/a%20b/%2F?q=%41", List.of("h"), false));
        assertThat(t.uri().getRawPath()).isEqualTo("/a%20b/%2F");
        assertThat(t.key().value()).isEqualTo("http://h/a%20b/%2F?q=%41");
        for (String bad : List.of("/a%zz", "/a%2", "/a b", "/a\"b", "/<x>")) {
            assertThat(reverse.parse(bad, List.of("h"), false)).as(bad)
                    .isInstanceOfSatisfying(RequestTargets.Rejected.class, r -> {
                        assertThat(r.status()).isEqualTo(400);
                        assertThat(r.message()).startsWith("invalid request target: ");
                    });
        }
    }

    @Test
    void parse_fragmentInOriginForm_isRejected() {
        rejected(reverse.parse("/a#f", List.of("h"), false), 400, "invalid request target: /a#f");
    }

    @Test
    void parse_oversizedTarget_isParsedWhole() {
        // The decoder bounds the request line (414, RequestChecksTest); what reaches the parser is parsed whole.
        String path = "/" + "x".repeat(100_000);
        assertThat(target(reverse.parse(path, List.of("h"), false)).uri().getRawPath()).isEqualTo(path);
    }

    @Test
    void resolve_sameHostAndTarget_answersFromTheMemoAndNeverMemoizesRejections() {
        RequestTargets.Result first = reverse.resolve("/memo", List.of("memo.example"), false);
        assertThat(reverse.resolve("/memo", List.of("memo.example"), false)).isSameAs(first);
        assertThat(reverse.resolve("/memo", List.of("other.example"), false)).isNotSameAs(first);
        RequestTargets.Result bad = reverse.resolve("/a%zz", List.of("memo.example"), false);
        assertThat(bad).isInstanceOf(RequestTargets.Rejected.class);
        assertThat(reverse.resolve("/a%zz", List.of("memo.example"), false)).isNotSameAs(bad).isEqualTo(bad);
        rejected(reverse.resolve("/", List.of("a", "b"), false), 400, "more than one Host field");
    }

    @Test
    void resolve_twoProxiesOnOneThread_eachAnswersWithItsOwnSettings() {
        RequestTargets other = new RequestTargets(URI.create("http://other.example:9090"), HostPort.of("127.0.0.1", 9090),
                false);

        RequestTargets.Result mine = reverse.resolve("/shared", List.of("shared.example"), false);
        RequestTargets.Result theirs = other.resolve("/shared", List.of("shared.example"), false);
        RequestTargets.Result forwarded = forward.resolve("/shared", List.of("shared.example"), false);

        assertThat(target(mine).upstream()).isEqualTo(ORIGIN);
        assertThat(target(theirs).upstream()).isEqualTo(HostPort.of("127.0.0.1", 9090));
        assertThat(target(forwarded).upstream()).isEqualTo(HostPort.of("shared.example", 80));
        assertThat(target(reverse.resolve("/shared", List.of("shared.example"), false)).upstream()).isEqualTo(ORIGIN);
    }
}
