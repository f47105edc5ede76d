package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** HEAD served from a stored GET, and a HEAD response from the origin refreshing it (RFC 9111 §4.3.5). */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheHeadIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String BODY = "0123456789".repeat(100);

    private final TestClock clock = new TestClock();
    private final AtomicReference<String> etag = new AtomicReference<>("\"v1\"");
    private final AtomicReference<String> version = new AtomicReference<>("1");
    /** Our clock is moved ahead of the origin's Date: later answers live long enough to stay fresh. */
    private final AtomicReference<String> cacheControl = new AtomicReference<>("max-age=10");
    private TestOrigin origin;
    private CacheServer proxy;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.route("/h", ex -> {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("ETag", etag.get());
            h.put("Cache-Control", cacheControl.get());
            h.put("X-Version", version.get());
            if (ex.getRequestMethod().equals("HEAD")) {
                h.put("Content-Length", String.valueOf(BODY.length()));
            }
            return new TestOrigin.Reply(200, h, BODY.getBytes());
        });
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).clock(clock)
                .threads(1).preopen(1).build()).start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.address().getPort() + path))
                .timeout(WAIT).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void head_freshStoredGet_isAnsweredFromTheStore() throws Exception {
        send("GET", "/h");
        HttpResponse<String> head = send("HEAD", "/h");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("Content-Length")).hasValue(String.valueOf(BODY.length()));
        assertThat(origin.count("/h")).isEqualTo(1);
    }

    @Test
    void head_staleStoredGet_originHeadWithSameValidators_updatesHeadersAndFreshness() throws Exception {
        send("GET", "/h");
        clock.advance(Duration.ofSeconds(30));
        version.set("2");
        cacheControl.set("max-age=100");
        HttpResponse<String> head = send("HEAD", "/h");
        HttpResponse<String> get = send("GET", "/h");

        assertThat(origin.requestLines).containsExactly("GET /h", "HEAD /h");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("X-Version")).hasValue("2");
        assertThat(head.headers().firstValue("Content-Length")).hasValue(String.valueOf(BODY.length()));
        assertThat(get.body()).isEqualTo(BODY);
        assertThat(get.headers().firstValue("X-Version")).hasValue("2");
        assertThat(origin.count("/h")).as("the GET after the refresh is a hit").isEqualTo(2);
        assertThat(proxy.context().headRefreshes.sum()).isEqualTo(1);
    }

    @Test
    void head_staleStoredGet_originHeadWithOtherETag_relaysItAndNextGetRevalidates() throws Exception {
        send("GET", "/h");
        clock.advance(Duration.ofSeconds(30));
        etag.set("\"v2\"");
        cacheControl.set("max-age=100");
        HttpResponse<String> head = send("HEAD", "/h");
        HttpResponse<String> get = send("GET", "/h");
        HttpResponse<String> again = send("GET", "/h");

        assertThat(head.headers().firstValue("ETag")).hasValue("\"v2\"");
        assertThat(head.body()).isEmpty();
        assertThat(origin.requestLines).containsExactly("GET /h", "HEAD /h", "GET /h");
        assertThat(origin.requestHeaders.get(2).getFirst("If-None-Match")).isEqualTo("\"v1\"");
        assertThat(get.headers().firstValue("ETag")).hasValue("\"v2\"");
        assertThat(again.headers().firstValue("ETag")).hasValue("\"v2\"");
        assertThat(proxy.context().headRefreshes.sum()).isZero();
    }

    @Test
    void head_staleStoredGet_originHeadWithOtherLength_doesNotUpdate() throws Exception {
        send("GET", "/h");
        clock.advance(Duration.ofSeconds(30));
        origin.route("/h", ex -> new TestOrigin.Reply(200, Map.of("ETag", "\"v1\"", "Cache-Control", "max-age=10",
                "Content-Length", "5"), new byte[0]));
        HttpResponse<String> head = send("HEAD", "/h");
        assertThat(head.headers().firstValue("Content-Length")).hasValue("5");
        assertThat(proxy.context().headRefreshes.sum()).isZero();
    }
}
