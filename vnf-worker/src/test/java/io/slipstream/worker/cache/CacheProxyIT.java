package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The caching proxy against a real origin on loopback: hits, Age, revalidation, Vary, collapsing, purge, pooling. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheProxyIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TOKEN = "s3cret";

    private final TestClock clock = new TestClock();
    private TestOrigin origin;
    private CacheServer proxy;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        proxy = startProxy(CacheProxySettings.builder());
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    private CacheServer startProxy(CacheProxySettings.Builder b) throws InterruptedException {
        return new CacheServer(b.origin(URI.create(origin.url())).adminToken(TOKEN).clock(clock).threads(1)
                .preopen(2).build()).start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
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
    void get_fresh_secondIsHitWithAge() throws Exception {
        origin.route("/a", ex -> TestOrigin.Reply.ok("hello", "Cache-Control", "max-age=60"));
        HttpResponse<String> first = get("/a");
        clock.advance(Duration.ofSeconds(7));
        HttpResponse<String> second = get("/a");

        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("hello");
        assertThat(first.headers().firstValue("Age")).hasValue("0");
        assertThat(second.body()).isEqualTo("hello");
        assertThat(second.headers().firstValue("Age")).hasValue("7");
        assertThat(second.headers().firstValue("Cache-Control")).hasValue("max-age=60");
        assertThat(origin.count("/a")).isEqualTo(1);
        assertThat(proxy.hits()).isEqualTo(1);
        assertThat(proxy.originBytes()).isEqualTo("hello".length());
    }

    @Test
    void get_notStorable_everyRequestGoesToOrigin() throws Exception {
        origin.route("/n", ex -> TestOrigin.Reply.ok("x", "Cache-Control", "no-store"));
        get("/n");
        HttpResponse<String> second = get("/n");
        assertThat(second.body()).isEqualTo("x");
        assertThat(origin.count("/n")).isEqualTo(2);
    }

    @Test
    void get_staleWithETag_revalidatesAnd304UpdatesHeaders() throws Exception {
        AtomicInteger version = new AtomicInteger(1);
        origin.route("/r", ex -> {
            if ("\"v1\"".equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                return new TestOrigin.Reply(304, java.util.Map.of("ETag", "\"v1\"", "Cache-Control", "max-age=100",
                        "X-Version", String.valueOf(version.incrementAndGet())), new byte[0]);
            }
            return TestOrigin.Reply.ok("body-v1", "ETag", "\"v1\"", "Cache-Control", "max-age=10", "X-Version", "1");
        });
        get("/r");
        clock.advance(Duration.ofSeconds(20));
        HttpResponse<String> revalidated = get("/r");
        clock.advance(Duration.ofSeconds(3));
        HttpResponse<String> hit = get("/r");

        assertThat(revalidated.statusCode()).isEqualTo(200);
        assertThat(revalidated.body()).isEqualTo("body-v1");
        assertThat(revalidated.headers().firstValue("X-Version")).hasValue("2");
        // Age restarts from the 304 (its Date is the origin's real clock, ours was moved 20 s ahead).
        long ageAfter304 = Long.parseLong(revalidated.headers().firstValue("Age").orElseThrow());
        assertThat(hit.headers().firstValue("Age")).hasValue(String.valueOf(ageAfter304 + 3));
        assertThat(hit.headers().firstValue("X-Version")).hasValue("2");
        assertThat(origin.count("/r")).isEqualTo(2);
        assertThat(origin.requestHeaders.get(1).getFirst("If-None-Match")).isEqualTo("\"v1\"");
    }

    @Test
    void get_clientConditionalOnHit_gets304() throws Exception {
        origin.route("/c", ex -> TestOrigin.Reply.ok("c", "ETag", "\"e\"", "Cache-Control", "max-age=60"));
        get("/c");
        HttpResponse<String> r = get("/c", "If-None-Match", "\"e\"");
        assertThat(r.statusCode()).isEqualTo(304);
        assertThat(origin.count("/c")).isEqualTo(1);
    }

    @Test
    void get_vary_storesOneVariantPerSecondaryKey() throws Exception {
        origin.route("/v", ex -> TestOrigin.Reply.ok("enc=" + ex.getRequestHeaders().getFirst("Accept-Encoding"),
                "Cache-Control", "max-age=60", "Vary", "Accept-Encoding"));
        HttpResponse<String> gzip = get("/v", "Accept-Encoding", "gzip");
        HttpResponse<String> br = get("/v", "Accept-Encoding", "br");
        HttpResponse<String> gzipAgain = get("/v", "Accept-Encoding", "gzip");
        HttpResponse<String> brAgain = get("/v", "Accept-Encoding", "br");

        assertThat(gzip.body()).isEqualTo("enc=gzip");
        assertThat(br.body()).isEqualTo("enc=br");
        assertThat(gzipAgain.body()).isEqualTo("enc=gzip");
        assertThat(brAgain.body()).isEqualTo("enc=br");
        assertThat(origin.count("/v")).isEqualTo(2);
    }

    @Test
    void get_hundredConcurrentMisses_makeOneOriginRequest() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        origin.route("/slow", ex -> {
            release.await(10, TimeUnit.SECONDS);
            return TestOrigin.Reply.ok("collapsed", "Cache-Control", "max-age=60");
        });
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.address().getPort() + "/slow")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(WAIT).until(() -> proxy.context().collapsed.sum() == 99);
        release.countDown();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("collapsed");
        }
        assertThat(origin.count("/slow")).isEqualTo(1);
    }

    @Test
    void get_sequentialMisses_reuseOneKeepAliveOriginConnection() throws Exception {
        origin.route("/k", ex -> TestOrigin.Reply.ok("k", "Cache-Control", "no-store"));
        await().atMost(WAIT).until(() -> proxy.context().pool(
                (io.netty.channel.EventLoop) proxy.group().next()).opened() == 2);
        for (int i = 0; i < 20; i++) {
            assertThat(get("/k").body()).isEqualTo("k");
        }
        assertThat(origin.count("/k")).isEqualTo(20);
        assertThat(origin.clientPorts()).hasSize(1);
    }

    @Test
    void get_onlyIfCachedAndNothingStored_is504() throws Exception {
        origin.route("/o", ex -> TestOrigin.Reply.ok("o", "Cache-Control", "max-age=60"));
        HttpResponse<String> r = get("/o", "Cache-Control", "only-if-cached");
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(origin.count("/o")).isZero();
    }

    @Test
    void post_success_invalidatesStoredResponse() throws Exception {
        origin.route("/i", ex -> TestOrigin.Reply.ok(ex.getRequestMethod(), "Cache-Control", "max-age=60"));
        get("/i");
        HttpResponse<String> post = send("POST", "/i");
        HttpResponse<String> after = get("/i");
        assertThat(post.body()).isEqualTo("POST");
        assertThat(after.body()).isEqualTo("GET");
        assertThat(origin.count("/i")).isEqualTo(3);
    }

    @Test
    void get_staleWhileRevalidate_servesStaleAndRevalidatesOnceInBackground() throws Exception {
        AtomicInteger n = new AtomicInteger();
        // The origin's Date is real time, our clock is moved ahead: the refetched copy lives long enough.
        origin.route("/s", ex -> {
            int v = n.incrementAndGet();
            return TestOrigin.Reply.ok("v" + v, "Cache-Control",
                    v == 1 ? "max-age=1, stale-while-revalidate=60" : "max-age=100");
        });
        get("/s");
        clock.advance(Duration.ofSeconds(5));
        HttpResponse<String> stale = get("/s");
        assertThat(stale.body()).isEqualTo("v1");
        assertThat(stale.headers().firstValue("Age")).hasValue("5");
        await().atMost(WAIT).until(() -> origin.count("/s") == 2);
        await().atMost(WAIT).until(() -> get("/s").body().equals("v2"));
        assertThat(origin.count("/s")).isEqualTo(2);
    }

    @Test
    void get_staleIfErrorAndOrigin500_servesStale() throws Exception {
        AtomicInteger n = new AtomicInteger();
        origin.route("/e", ex -> n.incrementAndGet() == 1
                ? TestOrigin.Reply.ok("good", "Cache-Control", "max-age=1, stale-if-error=60")
                : new TestOrigin.Reply(500, java.util.Map.of(), "boom".getBytes()));
        get("/e");
        clock.advance(Duration.ofSeconds(5));
        HttpResponse<String> r = get("/e");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("good");
        assertThat(origin.count("/e")).isEqualTo(2);
    }

    @Test
    void get_largerThanMaxObject_streamsThroughUnstored() throws Exception {
        proxy.close();
        proxy = startProxy(CacheProxySettings.builder().storeBytes(1 << 20, 1024));
        String big = "x".repeat(64 * 1024);
        origin.route("/big", ex -> TestOrigin.Reply.ok(big, "Cache-Control", "max-age=60"));
        assertThat(get("/big").body()).isEqualTo(big);
        assertThat(get("/big").body()).isEqualTo(big);
        assertThat(origin.count("/big")).isEqualTo(2);
    }

    @Test
    void purge_byUrlWithToken_removesAndNextIsMiss() throws Exception {
        origin.route("/p", ex -> TestOrigin.Reply.ok("p", "Cache-Control", "max-age=60"));
        get("/p");
        HttpResponse<String> purge = send("PURGE", "/p", CacheProxySettings.ADMIN_TOKEN_HEADER, TOKEN);
        get("/p");
        assertThat(purge.statusCode()).isEqualTo(200);
        assertThat(purge.body()).contains("\"purged\":1");
        assertThat(origin.count("/p")).isEqualTo(2);
    }

    @Test
    void purge_withoutToken_is401AndWrongTokenIs403() throws Exception {
        origin.route("/p", ex -> TestOrigin.Reply.ok("p", "Cache-Control", "max-age=60"));
        get("/p");
        assertThat(send("PURGE", "/p").statusCode()).isEqualTo(401);
        assertThat(send("PURGE", "/p", CacheProxySettings.ADMIN_TOKEN_HEADER, "nope").statusCode()).isEqualTo(403);
        get("/p");
        assertThat(origin.count("/p")).isEqualTo(1);
    }

    @Test
    void purge_byTag_removesEveryTaggedObject() throws Exception {
        origin.route("/t1", ex -> TestOrigin.Reply.ok("1", "Cache-Control", "max-age=60", "Surrogate-Key", "news a"));
        origin.route("/t2", ex -> TestOrigin.Reply.ok("2", "Cache-Control", "max-age=60", "Surrogate-Key", "news"));
        origin.route("/t3", ex -> TestOrigin.Reply.ok("3", "Cache-Control", "max-age=60", "Surrogate-Key", "sport"));
        get("/t1");
        get("/t2");
        HttpResponse<String> t3 = get("/t3");
        HttpResponse<String> purge = send("PURGE", "/", CacheProxySettings.ADMIN_TOKEN_HEADER, TOKEN,
                "Surrogate-Key", "news");
        get("/t1");
        get("/t2");
        get("/t3");
        assertThat(purge.body()).contains("\"purged\":2");
        assertThat(t3.headers().firstValue("Surrogate-Key")).isEmpty();
        assertThat(origin.count("/t1")).isEqualTo(2);
        assertThat(origin.count("/t2")).isEqualTo(2);
        assertThat(origin.count("/t3")).isEqualTo(1);
    }

    @Test
    void purge_softByTag_nextRequestRevalidates() throws Exception {
        origin.route("/soft", ex -> "\"s\"".equals(ex.getRequestHeaders().getFirst("If-None-Match"))
                ? new TestOrigin.Reply(304, java.util.Map.of("ETag", "\"s\"", "Cache-Control", "max-age=60"), new byte[0])
                : TestOrigin.Reply.ok("soft", "ETag", "\"s\"", "Cache-Control", "max-age=60", "Surrogate-Key", "k"));
        get("/soft");
        HttpResponse<String> purge = send("PURGE", "/", CacheProxySettings.ADMIN_TOKEN_HEADER, TOKEN,
                "Surrogate-Key", "k", PurgeRequest.SOFT_PURGE_HEADER, "1");
        HttpResponse<String> revalidated = get("/soft");
        HttpResponse<String> hit = get("/soft");
        assertThat(purge.body()).contains("\"soft\":true");
        assertThat(revalidated.body()).isEqualTo("soft");
        assertThat(hit.body()).isEqualTo("soft");
        assertThat(origin.count("/soft")).isEqualTo(2);
        assertThat(origin.requestHeaders.get(1).getFirst("If-None-Match")).isEqualTo("\"s\"");
    }

    @Test
    void head_onStoredGet_isAnsweredWithoutBody() throws Exception {
        origin.route("/h", ex -> TestOrigin.Reply.ok("body", "Cache-Control", "max-age=60"));
        get("/h");
        HttpResponse<String> head = send("HEAD", "/h");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("Content-Length")).hasValue("4");
        assertThat(origin.count("/h")).isEqualTo(1);
    }

    @Test
    void get_hopByHopHeaders_areNotForwarded() throws Exception {
        origin.route("/hop", ex -> TestOrigin.Reply.ok("hop", "Cache-Control", "no-store"));
        get("/hop", "X-Secret", "1", "Proxy-Authorization", "Basic abc", "TE", "trailers");
        com.sun.net.httpserver.Headers seen = origin.requestHeaders.get(0);
        assertThat(seen.containsKey("Proxy-authorization")).isFalse();
        assertThat(seen.containsKey("Te")).isFalse();
        assertThat(seen.getFirst("Via")).contains("slipstream");
    }

    @Test
    void get_concurrentMissesNotStorable_eachMakesItsOwnRequest() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        origin.route("/private", ex -> {
            release.await(10, TimeUnit.SECONDS);
            return TestOrigin.Reply.ok("mine", "Cache-Control", "private");
        });
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + proxy.address().getPort() + "/private")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(WAIT).until(() -> proxy.context().collapsed.sum() == 9);
        release.countDown();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            assertThat(f.get(10, TimeUnit.SECONDS).body()).isEqualTo("mine");
        }
        assertThat(origin.count("/private")).isEqualTo(10);
    }

    @Test
    void get_chunkedOriginResponse_isStoredWithContentLength() throws Exception {
        origin.route("/chunked", ex -> TestOrigin.Reply.ok("in chunks", "Cache-Control", "max-age=60",
                TestOrigin.CHUNKED, "1"));
        HttpResponse<String> first = get("/chunked");
        HttpResponse<String> hit = get("/chunked");
        assertThat(first.body()).isEqualTo("in chunks");
        assertThat(hit.body()).isEqualTo("in chunks");
        assertThat(hit.headers().firstValue("Content-Length")).hasValue("9");
        assertThat(origin.count("/chunked")).isEqualTo(1);
    }

    @Test
    void get_chunkedLargerThanMaxObject_streamsThroughChunked() throws Exception {
        proxy.close();
        proxy = startProxy(CacheProxySettings.builder().storeBytes(1 << 20, 1024));
        String big = "y".repeat(200 * 1024);
        origin.route("/bigchunked", ex -> TestOrigin.Reply.ok(big, "Cache-Control", "max-age=60",
                TestOrigin.CHUNKED, "1"));
        assertThat(get("/bigchunked").body()).isEqualTo(big);
        assertThat(get("/bigchunked").body()).isEqualTo(big);
        assertThat(origin.count("/bigchunked")).isEqualTo(2);
    }

    @Test
    void get_staleIfErrorAndOriginDown_servesStale() throws Exception {
        origin.route("/down", ex -> TestOrigin.Reply.ok("kept", "Cache-Control", "max-age=1, stale-if-error=600"));
        get("/down");
        origin.close();
        clock.advance(Duration.ofSeconds(5));
        HttpResponse<String> r = get("/down");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("kept");
        assertThat(r.headers().firstValue("Age")).hasValue("5");
        origin = new TestOrigin();
    }

    @Test
    void get_http10Client_getsKeepAliveOrCloseAsAsked() throws Exception {
        origin.route("/old", ex -> TestOrigin.Reply.ok("old", "Cache-Control", "max-age=60"));
        get("/old");
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /old HTTP/1.0\r\nHost: x\r\n\r\n".getBytes());
            String r = new String(s.getInputStream().readAllBytes());
            assertThat(r).startsWith("HTTP/1.1 200 ").contains("Connection: close").endsWith("old");
        }
    }

    @Test
    void get_manyStaleHitsWithinStaleWhileRevalidate_startOneBackgroundRevalidation() throws Exception {
        AtomicInteger n = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        origin.route("/swr", ex -> {
            int v = n.incrementAndGet();
            if (v > 1) {
                release.await(10, TimeUnit.SECONDS);
            }
            return TestOrigin.Reply.ok("v" + v, "Cache-Control",
                    v == 1 ? "max-age=1, stale-while-revalidate=60" : "max-age=100");
        });
        get("/swr");
        clock.advance(Duration.ofSeconds(5));
        for (int i = 0; i < 20; i++) {
            assertThat(get("/swr").body()).isEqualTo("v1");
        }
        release.countDown();
        await().atMost(WAIT).until(() -> get("/swr").body().equals("v2"));
        assertThat(origin.count("/swr")).isEqualTo(2);
    }
}
