package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile HTTP input against a real cache proxy over raw sockets, with an origin that records exactly what
 * reaches it on the wire ({@link RawOrigin}): smuggling variants beyond {@link CacheBadInputIT}'s, header,
 * body and response size limits, invalid targets and methods, and slow clients (head and idle deadlines).
 * Each gets a clear status and a close; nothing smuggled reaches the origin; other clients are unaffected.
 */
@ExtendWith(NettyLeakCheck.class)
class CacheHostileInputIT {

    private RawOrigin origin;
    private CacheServer proxy;
    private SimpleMeterRegistry meters;

    @BeforeEach
    void start() throws Exception {
        origin = new RawOrigin();
        proxy = start(CacheProxySettings.builder());
    }

    private CacheServer start(CacheProxySettings.Builder b) throws InterruptedException {
        meters = new SimpleMeterRegistry();
        return new CacheServer(b.origin(URI.create(origin.url())).forwardProxy(false).threads(1).preopen(0)
                .storeBytes(1 << 20, 64 * 1024).maxRequestBodyBytes(64 * 1024).build()).start().bindMetrics(meters);
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private String exchange(String request) throws IOException {
        return exchange(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes {@code request} and reads until the proxy closes (or 5 s pass). */
    private String exchange(byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(5000);
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // closed before everything was read (oversized input): look at what was answered
            }
            return readAll(s.getInputStream());
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                got.write(buf, 0, n);
            }
        } catch (SocketException | SocketTimeoutException e) {
            // reset after the answer, or kept open: the assertions look at what arrived
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private static int responses(String wire) {
        int n = 0;
        for (int i = wire.indexOf("HTTP/1.1 "); i >= 0; i = wire.indexOf("HTTP/1.1 ", i + 1)) {
            n++;
        }
        return n;
    }

    private double rejected(String reason) {
        return meters.get("slipstream.cache.rejected").tag("reason", reason).functionCounter().count();
    }

    private void assertStillServes() throws IOException {
        assertThat(exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 200 ").endsWith("ok");
    }

    /** Each request must be answered 400 alone (no second response from its remainder) and reach no origin. */
    private void assertRefusedAlone(int status, String... requests) throws IOException {
        for (String req : requests) {
            String smuggled = "GET /smuggled HTTP/1.1\r\nHost: site\r\n\r\n";
            String r = exchange(req + smuggled);
            assertThat(r).as(req).startsWith("HTTP/1.1 " + status + " ").containsIgnoringCase("Connection: close");
            assertThat(responses(r)).as(req).isEqualTo(1);
        }
        assertThat(origin.received).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ smuggling

    @Test
    void transferEncoding_whitespaceBeforeColonOrObsoleteForms_is400Alone() throws Exception {
        assertRefusedAlone(400,
                "POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
                "POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
                "POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding:\tchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                "POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
                "POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: CHUNKED\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                "POST /page HTTP/1.0\r\nHost: site\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(rejected("bad_request")).isEqualTo(6);
        assertStillServes();
    }

    @Test
    void contentLength_signedListedOrNonDecimal_is400Alone() throws Exception {
        List<String> requests = new ArrayList<>();
        for (String cl : new String[] {"+5", "-5", "5 5", "5,5", "5, 6", "0x5", "5.0", "99999999999999999999", ""}) {
            requests.add("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: " + cl + "\r\n\r\nabcde");
        }
        requests.add("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\nabcde");
        assertRefusedAlone(400, requests.toArray(String[]::new));
        assertStillServes();
    }

    @Test
    void contentLength_surroundingWhitespace_isOptionalWhitespaceAndFramesExactly() throws Exception {
        String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length:    5   \r\n\r\nabcde"
                + "GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(responses(r)).isEqualTo(2);
        assertThat(origin.received).hasSize(2);
        assertThat(new String(origin.received.get(0).body(), StandardCharsets.ISO_8859_1)).isEqualTo("abcde");
        assertThat(origin.received.get(1).requestLine()).isEqualTo("GET /page HTTP/1.1");
    }

    @Test
    void bareCrOrNulInTheHead_is400Alone() throws Exception {
        assertRefusedAlone(400,
                "GET /page HTTP/1.1\r\nHost: site\r\nX-A: a\rGET /smuggled HTTP/1.1\r\n\r\n",
                "GET /page HTTP/1.1\r\nHost: site\rX-A: b\r\n\r\n",
                "GET /page HTTP/1.1\r\nHost: site\r\nX-A\r: b\r\n\r\n",
                "GET /page HTTP/1.1\r\nHost: si\u0000te\r\n\r\n",
                "GET /page\u0000 HTTP/1.1\r\nHost: site\r\n\r\n");
    }

    @Test
    void bareLfLineEnds_areOneRequestReSerialisedWithCrlfUpstream() throws Exception {
        // RFC 9112 §2.2 lets a recipient accept a lone LF as a line end; what goes upstream is re-serialised.
        String r = exchange("GET /page HTTP/1.1\nHost: site\nX-A: 1\nConnection: close\n\n");
        assertThat(r).startsWith("HTTP/1.1 200 ");
        assertThat(origin.received).hasSize(1);
        String head = origin.received.get(0).head();
        assertThat(head.replace("\r\n", "")).doesNotContain("\n").doesNotContain("\r");
        assertThat(origin.received.get(0).fields("X-A")).containsExactly("1");
    }

    @Test
    void obsoleteLineFolding_ofHostOrContentLength_is400Alone() throws Exception {
        assertRefusedAlone(400,
                "GET /page HTTP/1.1\r\nHost:\r\n site\r\nHost: other\r\n\r\n",
                "POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\n 0\r\n\r\nabcde",
                "GET /page HTTP/1.1\r\n Host: site\r\n\r\n");
    }

    @Test
    void requestHiddenInAGetBody_isDroppedNeverParsedAsARequest() throws Exception {
        String hidden = "GET /smuggled HTTP/1.1\r\nHost: site\r\n\r\n";
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\nContent-Length: " + hidden.length() + "\r\n\r\n"
                + hidden + "GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(responses(r)).isEqualTo(2);
        assertThat(origin.received).allSatisfy(rec -> assertThat(rec.requestLine()).isEqualTo("GET /page HTTP/1.1"));
        assertThat(origin.received).isNotEmpty(); // the second may be a hit
        // The proxy consumed the body by its Content-Length and sends a GET upstream without body or framing
        // fields, so neither it nor the origin can read the hidden bytes as a request.
        for (RawOrigin.Received rec : origin.received) {
            assertThat(rec.fields("Content-Length")).isEmpty();
            assertThat(rec.fields("Transfer-Encoding")).isEmpty();
            assertThat(rec.body()).isEmpty();
        }
    }

    @Test
    void absoluteFormForAnotherHost_onAReverseProxy_isRefusedNotForwarded() throws Exception {
        String r = exchange("GET http://evil.example/page HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 403 ");
        assertThat(origin.received).isEmpty();
    }

    @Test
    void requestsToTheOrigin_carryOneExactFramingAndNoHopByHopFields() throws Exception {
        String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\n"
                + "Upgrade: h2c\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\n"
                + "X-Secret: 1\r\nX-Kept: yes\r\n"
                + CacheProxySettings.ADMIN_TOKEN_HEADER + ": guess\r\n\r\n"
                + "3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
                + "GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(responses(r)).isEqualTo(2);
        RawOrigin.Received post = origin.received.get(0);
        assertThat(post.fields("Content-Length")).containsExactly("5");
        assertThat(new String(post.body(), StandardCharsets.ISO_8859_1)).isEqualTo("abcde");
        for (String hop : new String[] {"Transfer-Encoding", "Keep-Alive", "TE", "Trailer", "Upgrade",
            "Proxy-Connection", "Proxy-Authorization", "X-Secret", CacheProxySettings.ADMIN_TOKEN_HEADER}) {
            assertThat(post.fields(hop)).as(hop).isEmpty();
        }
        assertThat(post.fields("X-Kept")).containsExactly("yes");
        assertThat(post.fields("Host")).containsExactly("site");
        RawOrigin.Received get = origin.received.get(1);
        assertThat(get.fields("Content-Length")).isEmpty();
        assertThat(get.fields("Transfer-Encoding")).isEmpty();
    }

    // ------------------------------------------------------------------------------------------ sizes

    @Test
    void tooManyHeaderFields_is431Alone() throws Exception {
        String many = "X-F: v\r\n".repeat(CacheProxySettings.DEFAULT_MAX_HEADER_COUNT);
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\n" + many + "\r\n");
        assertThat(r).startsWith("HTTP/1.1 431 ").contains("expected: at most 100");
        assertThat(rejected("header_too_large")).isEqualTo(1);
        String ok = exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n"
                + "X-F: v\r\n".repeat(CacheProxySettings.DEFAULT_MAX_HEADER_COUNT - 2) + "\r\n");
        assertThat(ok).startsWith("HTTP/1.1 200 ");
    }

    @Test
    void manySmallFieldsOverTheByteLimit_is431Alone() throws Exception {
        String fields = ("X-Filler: " + "f".repeat(200) + "\r\n").repeat(90);
        assertRefusedAlone(431, "GET /page HTTP/1.1\r\nHost: site\r\n" + fields + "\r\n");
    }

    @Test
    void chunkedBodyOverTheLimit_is413AndNothingReachesTheOrigin() throws Exception {
        StringBuilder body = new StringBuilder();
        String chunk = "z".repeat(8192);
        for (int i = 0; i < 16; i++) {
            body.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked\r\n\r\n" + body
                + "0\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 413 ").contains("larger than 65536 bytes");
        assertThat(origin.received).isEmpty();
        String huge = exchange("POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "7fffffffffffffff\r\nabc");
        assertThat(huge).matches("(?s)HTTP/1.1 (400|413) .*");
        assertThat(origin.received).isEmpty();
        assertStillServes();
    }

    @Test
    void originResponseAboveMaxObject_streamsThroughUnstoredWithBoundedBuffering() throws Exception {
        int size = 64 << 20;
        origin.largeBodyBytes = size;
        for (int i = 0; i < 2; i++) {
            try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /large HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.ISO_8859_1));
                if (i == 0) {
                    // The client reads nothing: the proxy stops reading the origin once its own write buffer
                    // is full, so the origin stalls after the sockets' buffers, far below the 64 MiB body.
                    long[] previous = {-1};
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(15))
                            .pollInterval(java.time.Duration.ofMillis(500)).until(() -> {
                                long now = origin.largeWritten.get();
                                boolean stalled = now > 0 && now == previous[0];
                                previous[0] = now;
                                return stalled;
                            });
                    System.out.printf("origin stalled after %d KiB of a %d KiB body while the client did not read%n",
                            origin.largeWritten.get() >> 10, size >> 10);
                    assertThat(origin.largeWritten.get()).isLessThan(size / 2);
                }
                InputStream in = s.getInputStream();
                long total = 0;
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = in.read(buf)) > 0; ) {
                    total += n;
                }
                assertThat(total).isGreaterThan(size);
            }
        }
        assertThat(proxy.storedBytes()).isZero();
        assertThat(origin.received).hasSize(2);
    }

    // ------------------------------------------------------------------------------------------ targets, methods

    @Test
    void invalidTargets_are400Alone() throws Exception {
        assertThat(exchange("GET http://[::1 HTTP/1.1\r\nHost: site\r\n\r\n")).startsWith("HTTP/1.1 403 ");
        assertRefusedAlone(400,
                "GET ../../etc/passwd HTTP/1.1\r\nHost: site\r\n\r\n",
                "GET /a\u0001b HTTP/1.1\r\nHost: site\r\n\r\n",
                "GET /a\u007fb HTTP/1.1\r\nHost: site\r\n\r\n",
                "GET /a%zz HTTP/1.1\r\nHost: site\r\n\r\n",
                "GET * HTTP/1.1\r\nHost: site\r\n\r\n");
    }

    @Test
    void targetOverTheLineLimit_is414Alone() throws Exception {
        assertRefusedAlone(414, "GET /" + "a".repeat(9 * 1024) + " HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(rejected("uri_too_long")).isEqualTo(1);
    }

    @Test
    void dotSegments_areForwardedVerbatimToTheOneOrigin() throws Exception {
        String r = exchange("GET /a/../../etc/passwd HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 ");
        assertThat(origin.received).hasSize(1);
        assertThat(origin.received.get(0).requestLine()).isEqualTo("GET /a/../../etc/passwd HTTP/1.1");
        assertThat(origin.received.get(0).fields("Host")).containsExactly("site");
        // A network-path reference is a path here: it goes to the one configured origin, never to its "host".
        String r2 = exchange("GET //evil.example/x HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(r2).startsWith("HTTP/1.1 200 ");
        assertThat(origin.received.get(1).requestLine()).isEqualTo("GET //evil.example/x HTTP/1.1");
        assertThat(origin.received.get(1).fields("Host")).containsExactly("site");
    }

    @Test
    void malformedMethods_are400Alone() throws Exception {
        assertRefusedAlone(400,
                "GE T /page HTTP/1.1\r\nHost: site\r\n\r\n",
                "G\u0000ET /page HTTP/1.1\r\nHost: site\r\n\r\n",
                "GET\u00a0/page HTTP/1.1\r\nHost: site\r\n\r\n");
        assertRefusedAlone(501, "M".repeat(100) + " /page HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(rejected("method")).isEqualTo(1);
    }

    @Test
    void lowercaseMethod_isAnotherMethodNeverServedFromTheStore() throws Exception {
        assertStillServes(); // stores /page
        String r = exchange("get /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 ");
        assertThat(r).doesNotContain("Age:");
        assertThat(origin.received.get(origin.received.size() - 1).requestLine()).startsWith("get /page ");
    }

    // ------------------------------------------------------------------------------------------ slow clients

    @Test
    void slowlorisClient_isAnswered408AndClosedAtTheHeadTimeout() throws Exception {
        proxy.close();
        proxy = start(CacheProxySettings.builder().clientTimeouts(2000, 60_000));
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(15_000);
            long t0 = System.nanoTime();
            String head = "GET /page HTTP/1.1\r\nHost: site\r\n" + "X-Slow: " + "s".repeat(200);
            OutputStream out = s.getOutputStream();
            ScheduledTrickle trickle = new ScheduledTrickle(out, head, 200);
            String r = readAll(s.getInputStream());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            trickle.stop();
            assertThat(r).startsWith("HTTP/1.1 408 ").containsIgnoringCase("Connection: close");
            assertThat(millis).isBetween(1500L, 10_000L);
            System.out.printf("slowloris: cut off after %d ms (head timeout 2000 ms), %d bytes trickled%n", millis,
                    trickle.sent());
        }
        assertThat(rejected("head_timeout")).isEqualTo(1);
        assertThat(origin.received).isEmpty();
    }

    @Test
    void silentConnection_is408AtTheHeadTimeout_idleKeepAliveIsClosedAtTheIdleTimeout() throws Exception {
        proxy.close();
        proxy = start(CacheProxySettings.builder().clientTimeouts(1500, 1500));
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            assertThat(readAll(s.getInputStream())).startsWith("HTTP/1.1 408 ");
        }
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /page HTTP/1.1\r\nHost: site\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long t0 = System.nanoTime();
            String r = readAll(s.getInputStream()); // one response, then silence until the idle close
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(r).startsWith("HTTP/1.1 200 ").endsWith("ok");
            assertThat(responses(r)).isEqualTo(1);
            assertThat(millis).isBetween(1000L, 9000L);
            System.out.printf("idle keep-alive connection closed after %d ms (idle timeout 1500 ms)%n", millis);
        }
        assertThat(rejected("head_timeout")).isEqualTo(1);
    }

    @Test
    void slowBody_is408AtTheIdleTimeoutAfterTheHead_nothingForwarded() throws Exception {
        proxy.close();
        proxy = start(CacheProxySettings.builder().clientTimeouts(60_000, 2000));
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 1000\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            long t0 = System.nanoTime();
            ScheduledTrickle trickle = new ScheduledTrickle(out, "b".repeat(1000), 200);
            String r = readAll(s.getInputStream());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            trickle.stop();
            assertThat(r).startsWith("HTTP/1.1 408 ").contains("request body not received in time");
            assertThat(millis).isBetween(1500L, 10_000L);
            System.out.printf("slow body: cut off after %d ms (idle timeout 2000 ms), %d body bytes trickled%n",
                    millis, trickle.sent());
        }
        assertThat(rejected("body_timeout")).isEqualTo(1);
        assertThat(origin.received).isEmpty();
        assertStillServes();
    }

    @Test
    void fiftySlowlorisClients_doNotDelayOtherClients() throws Exception {
        proxy.close();
        proxy = start(CacheProxySettings.builder().clientTimeouts(6000, 60_000));
        assertStillServes(); // warm: stored
        List<Socket> slow = new ArrayList<>();
        List<ScheduledTrickle> trickles = new ArrayList<>();
        ExecutorService readers = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Socket s = new Socket("127.0.0.1", proxy.address().getPort());
                s.setSoTimeout(20_000);
                slow.add(s);
                trickles.add(new ScheduledTrickle(s.getOutputStream(),
                        "GET /page HTTP/1.1\r\nHost: site\r\nX-Slow: " + "s".repeat(500), 300));
                answers.add(readers.submit(() -> readAll(s.getInputStream())));
            }
            List<Long> latencies = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
            while (System.nanoTime() < deadline) {
                long t0 = System.nanoTime();
                assertStillServes();
                latencies.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0));
            }
            for (Future<String> a : answers) {
                assertThat(a.get(20, TimeUnit.SECONDS)).startsWith("HTTP/1.1 408 ");
            }
            latencies.sort(null);
            long p50 = latencies.get(latencies.size() / 2);
            long max = latencies.get(latencies.size() - 1);
            System.out.printf("with 50 slowloris clients: %d normal requests, p50 %d us, max %d us%n",
                    latencies.size(), p50, max);
            assertThat(latencies.size()).isGreaterThan(10);
            assertThat(max).isLessThan(TimeUnit.SECONDS.toMicros(2));
            assertThat(rejected("head_timeout")).isEqualTo(50);
        } finally {
            trickles.forEach(ScheduledTrickle::stop);
            readers.shutdownNow();
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    /** Writes one byte of {@code text} every {@code periodMillis} on a scheduler until done or stopped. */
    static final class ScheduledTrickle {
        private final java.util.concurrent.ScheduledExecutorService timer =
                Executors.newSingleThreadScheduledExecutor();
        private final java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();

        ScheduledTrickle(OutputStream out, String text, long periodMillis) {
            byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
            timer.scheduleAtFixedRate(() -> {
                int i = sent.get();
                if (i >= bytes.length) {
                    timer.shutdown();
                    return;
                }
                try {
                    out.write(bytes[i]);
                    out.flush();
                    sent.incrementAndGet();
                } catch (IOException e) {
                    timer.shutdown();
                }
            }, 0, periodMillis, TimeUnit.MILLISECONDS);
        }

        int sent() {
            return sent.get();
        }

        void stop() {
            timer.shutdownNow();
        }
    }
}
