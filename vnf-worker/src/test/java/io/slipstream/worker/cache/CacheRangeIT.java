package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Range requests (RFC 9110 §14) answered by the proxy from stored complete responses, on real sockets. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheRangeIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** 100 000 bytes whose every position is recognisable. */
    private static final String OBJECT = object(100_000);

    private final TestClock clock = new TestClock();
    private TestOrigin origin;
    private CacheServer proxy;
    private HttpClient client;

    private static String object(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; sb.length() < n; i++) {
            sb.append((char) ('a' + i % 26));
            if (i % 97 == 0) {
                sb.append(i % 10);
            }
        }
        return sb.substring(0, n);
    }

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.route("/video", ex -> TestOrigin.Reply.ok(OBJECT, "Cache-Control", "max-age=600", "ETag", "\"v1\"",
                "Content-Type", "video/mp4", "Accept-Ranges", "none"));
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).clock(clock)
                .threads(1).preopen(1).build()).start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return send("GET", path, headers);
    }

    private HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.address().getPort() + path))
                .timeout(WAIT).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void rangeHit_singleRange_is206WithThoseBytes() throws Exception {
        get("/video");
        clock.advance(Duration.ofSeconds(3));
        HttpResponse<String> r = get("/video", "Range", "bytes=1000-1999");

        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.body()).isEqualTo(OBJECT.substring(1000, 2000));
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes 1000-1999/100000");
        assertThat(r.headers().firstValue("Content-Length")).hasValue("1000");
        assertThat(r.headers().firstValue("Content-Type")).hasValue("video/mp4");
        assertThat(r.headers().firstValue("ETag")).hasValue("\"v1\"");
        assertThat(r.headers().firstValue("Age")).hasValue("3");
        assertThat(r.headers().allValues("Accept-Ranges")).containsExactly("bytes");
        assertThat(origin.count("/video")).isEqualTo(1);
        assertThat(proxy.context().rangeHits.sum()).isEqualTo(1);
    }

    @Test
    void rangeMiss_fetchesTheWholeObjectOnceAndServesTheRange() throws Exception {
        HttpResponse<String> first = get("/video", "Range", "bytes=0-9");
        HttpResponse<String> whole = get("/video");

        assertThat(first.statusCode()).isEqualTo(206);
        assertThat(first.body()).isEqualTo(OBJECT.substring(0, 10));
        assertThat(origin.requestHeaders.get(0).containsKey("Range")).isFalse();
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(OBJECT);
        assertThat(whole.headers().allValues("Accept-Ranges")).containsExactly("bytes");
        assertThat(origin.count("/video")).isEqualTo(1);
    }

    @Test
    void rangeHit_suffixAndOpenEnded_areTheTail() throws Exception {
        get("/video");
        HttpResponse<String> suffix = get("/video", "Range", "bytes=-500");
        HttpResponse<String> open = get("/video", "Range", "bytes=99000-");
        assertThat(suffix.body()).isEqualTo(OBJECT.substring(99_500));
        assertThat(suffix.headers().firstValue("Content-Range")).hasValue("bytes 99500-99999/100000");
        assertThat(open.body()).isEqualTo(OBJECT.substring(99_000));
    }

    @Test
    void rangeHit_severalRanges_isMultipartByteranges() throws Exception {
        get("/video");
        HttpResponse<String> r = get("/video", "Range", "bytes=50000-50009, 0-4, -3");

        assertThat(r.statusCode()).isEqualTo(206);
        String type = r.headers().firstValue("Content-Type").orElseThrow();
        assertThat(type).startsWith("multipart/byteranges; boundary=");
        assertThat(r.headers().firstValue("Content-Range")).isEmpty();
        assertThat(r.headers().firstValue("Content-Length")).hasValue(String.valueOf(r.body().length()));
        String boundary = type.substring(type.indexOf('=') + 1);
        List<String[]> parts = parts(r.body(), boundary);
        assertThat(parts).hasSize(3);
        assertThat(parts.get(0)).containsExactly("bytes 0-4/100000", OBJECT.substring(0, 5));
        assertThat(parts.get(1)).containsExactly("bytes 50000-50009/100000", OBJECT.substring(50_000, 50_010));
        assertThat(parts.get(2)).containsExactly("bytes 99997-99999/100000", OBJECT.substring(99_997));
        assertThat(r.body()).contains("Content-Type: video/mp4").endsWith("\r\n--" + boundary + "--\r\n");
    }

    /** The parts of a multipart/byteranges body: {Content-Range, content}. */
    private static List<String[]> parts(String body, String boundary) {
        Pattern part = Pattern.compile("--" + Pattern.quote(boundary)
                + "\r\nContent-Type: video/mp4\r\nContent-Range: ([^\r]+)\r\n\r\n(.*?)\r\n(?=--" + Pattern.quote(boundary)
                + ")", Pattern.DOTALL);
        Matcher m = part.matcher(body);
        List<String[]> out = new ArrayList<>();
        while (m.find()) {
            out.add(new String[] {m.group(1), m.group(2)});
        }
        return out;
    }

    @Test
    void rangeHit_unsatisfiable_is416WithCompleteLength() throws Exception {
        get("/video");
        HttpResponse<String> r = get("/video", "Range", "bytes=100000-");
        HttpResponse<String> after = get("/video", "Range", "bytes=0-0");
        assertThat(r.statusCode()).isEqualTo(416);
        assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes */100000");
        assertThat(r.body()).isEmpty();
        assertThat(after.statusCode()).as("the connection carries on").isEqualTo(206);
    }

    @Test
    void ifRange_strongMatch_is206AndMismatchOrWeakIsTheWholeObject() throws Exception {
        get("/video");
        HttpResponse<String> match = get("/video", "Range", "bytes=0-1", "If-Range", "\"v1\"");
        HttpResponse<String> other = get("/video", "Range", "bytes=0-1", "If-Range", "\"v0\"");
        HttpResponse<String> weak = get("/video", "Range", "bytes=0-1", "If-Range", "W/\"v1\"");
        assertThat(match.statusCode()).isEqualTo(206);
        assertThat(other.statusCode()).isEqualTo(200);
        assertThat(other.body()).isEqualTo(OBJECT);
        assertThat(weak.statusCode()).isEqualTo(200);
        assertThat(origin.count("/video")).isEqualTo(1);
    }

    @Test
    void badRanges_malformedReversedAbusiveOrTooMany_areIgnoredWithTheWholeObject() throws Exception {
        get("/video");
        for (String bad : List.of("bytes=5-1", "bytes=abc", "bytes 0-1", "pages=0-1", "bytes=0-,0-,0-",
                "bytes=0-99999,1-99999", "bytes=" + "0-0,".repeat(3000))) {
            HttpResponse<String> r = get("/video", "Range", bad);
            assertThat(r.statusCode()).as(bad.length() > 40 ? bad.substring(0, 40) : bad).isEqualTo(200);
            assertThat(r.body()).isEqualTo(OBJECT);
        }
        assertThat(origin.count("/video")).isEqualTo(1);
    }

    @Test
    void badRanges_hugeNumbers_areClampedNotOverflowed() throws Exception {
        get("/video");
        HttpResponse<String> r = get("/video", "Range", "bytes=99990-99999999999999999999999999999");
        assertThat(r.statusCode()).isEqualTo(206);
        assertThat(r.body()).isEqualTo(OBJECT.substring(99_990));
    }

    @Test
    void head_withRange_isAnsweredAsAWholeHead() throws Exception {
        get("/video");
        HttpResponse<String> r = send("HEAD", "/video", "Range", "bytes=0-1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Length")).hasValue("100000");
    }

    @Test
    void originPartialContent_lyingContentRange_isRelayedNeverStored() throws Exception {
        origin.route("/liar", ex -> new TestOrigin.Reply(206, java.util.Map.of("Cache-Control", "max-age=600",
                "Content-Range", "bytes 0-999999/5"), "short".getBytes()));
        HttpResponse<String> first = get("/liar", "Range", "bytes=0-1");
        HttpResponse<String> second = get("/liar", "Range", "bytes=0-1");
        assertThat(first.statusCode()).isEqualTo(206);
        assertThat(second.body()).isEqualTo("short");
        assertThat(origin.count("/liar")).isEqualTo(2);
    }
}
