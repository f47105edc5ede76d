package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hostile and malformed requests over raw sockets: each gets a clear status and the connection is closed
 * where framing can no longer be trusted; none reaches the origin in a form that could poison the cache,
 * and the proxy keeps answering well-formed requests.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheBadInputIT {

    private final TestClock clock = new TestClock();
    private TestOrigin origin;
    private CacheServer proxy;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.route("/page", ex -> TestOrigin.Reply.ok("the page", "Cache-Control", "max-age=60"));
        origin.route("/evil", ex -> TestOrigin.Reply.ok("EVIL", "Cache-Control", "max-age=60"));
        origin.route("/echo", ex -> TestOrigin.Reply.ok(
                String.valueOf(ex.getRequestHeaders().getFirst("X-Drop")) + "|"
                        + ex.getRequestHeaders().getFirst("X-Folded"), "Cache-Control", "no-store"));
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).clock(clock).threads(1)
                .maxHeaderBytes(16 * 1024).maxInitialLineBytes(8 * 1024).maxRequestBodyBytes(1 << 20).build()).start();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    /** Writes {@code request} and reads until the proxy closes (or 5 s pass). */
    private String exchange(String request) throws Exception {
        return exchange(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private String exchange(byte[] request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (java.io.IOException e) {
                // the proxy may close before reading everything (oversized input); read what it answered
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                }
            } catch (java.net.SocketException | java.net.SocketTimeoutException e) {
                // reset after the answer, or kept open: the assertions look at what arrived
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private void assertStillServes() throws Exception {
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 ").endsWith("the page");
    }

    @Test
    void oversizedHeader_is431() throws Exception {
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 431 ");
        assertStillServes();
    }

    @Test
    void oversizedRequestLine_is414() throws Exception {
        String r = exchange("GET /page?" + "q".repeat(10_000) + " HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 414 ");
        assertStillServes();
    }

    @Test
    void contentLengthAndChunked_is400AndDoesNotPoisonTheCache() throws Exception {
        String smuggled = "GET /evil HTTP/1.1\r\nHost: site\r\n\r\n";
        String body = "0\r\n\r\n" + smuggled;
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\nContent-Length: " + body.length()
                + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body
                + "GET /page HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 400 ").contains("Transfer-Encoding and Content-Length");
        assertThat(r).doesNotContain("EVIL").doesNotContain("200 OK");
        assertStillServes();
        assertThat(origin.count("/evil")).isZero();
        assertStillServes();
    }

    @Test
    void transferEncodingOtherThanChunked_is400() throws Exception {
        for (String te : new String[] {"gzip, chunked", "chunked, identity", "xchunked", "identity"}) {
            String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: " + te
                    + "\r\n\r\n0\r\n\r\n");
            assertThat(r).as(te).startsWith("HTTP/1.1 400 ");
        }
        String twoLines = exchange("POST /page HTTP/1.1\r\nHost: site\r\nTransfer-Encoding: chunked\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        assertThat(twoLines).startsWith("HTTP/1.1 400 ");
        assertThat(origin.count("/page")).isZero();
    }

    @Test
    void conflictingContentLengths_is400() throws Exception {
        String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde");
        assertThat(r).startsWith("HTTP/1.1 400 ");
        String invalid = exchange("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 3x\r\n\r\nabc");
        assertThat(invalid).startsWith("HTTP/1.1 400 ");
        assertThat(origin.count("/page")).isZero();
    }

    @Test
    void obsoleteLineFolding_isUnfoldedToOneSpaceBeforeForwarding() throws Exception {
        String r = exchange("GET /echo HTTP/1.1\r\nHost: site\r\nX-Folded: a\r\n b\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 ").endsWith("null|a b");
    }

    @Test
    void foldedTransferEncoding_cannotSmuggle() throws Exception {
        String r = exchange("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"
                + "0\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 400 ");
        assertThat(origin.count("/page")).isZero();
    }

    @Test
    void oversizedBody_is413() throws Exception {
        byte[] head = ("POST /page HTTP/1.1\r\nHost: site\r\nContent-Length: " + (2 << 20) + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[head.length + (2 << 20)];
        System.arraycopy(head, 0, all, 0, head.length);
        String r = exchange(all);
        assertThat(r).startsWith("HTTP/1.1 413 ");
        assertThat(origin.count("/page")).isZero();
        assertStillServes();
    }

    @Test
    void invalidTargetsAndMethods_are400() throws Exception {
        String[] requests = {
            "GET /a|b HTTP/1.1\r\nHost: site\r\n\r\n",
            "GET page HTTP/1.1\r\nHost: site\r\n\r\n",
            "GET https://site/page HTTP/1.1\r\nHost: site\r\n\r\n",
            "G(ET /page HTTP/1.1\r\nHost: site\r\n\r\n",
            "GET /page HTTP/1.1\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: a b\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: site\r\nX-Null: a\u0000b\r\n\r\n",
            "GET /page HTTP/1.1\r\nHost: site\r\nBad Name: x\r\n\r\n",
        };
        for (String req : requests) {
            assertThat(exchange(req)).as(req).startsWith("HTTP/1.1 400 ");
        }
        assertThat(exchange("GET /page HTTP/9.9\r\nHost: site\r\n\r\n")).startsWith("HTTP/1.1 505 ");
        assertThat(origin.total()).isZero();
        assertStillServes();
    }

    @Test
    void connectAndTrace_areRefused() throws Exception {
        assertThat(exchange("CONNECT site:443 HTTP/1.1\r\nHost: site:443\r\n\r\n")).startsWith("HTTP/1.1 501 ");
        assertThat(exchange("TRACE /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 405 ");
        assertThat(origin.total()).isZero();
    }

    @Test
    void fieldsNamedInConnection_areNotForwarded() throws Exception {
        String r = exchange("GET /echo HTTP/1.1\r\nHost: site\r\nConnection: close, X-Drop\r\nX-Drop: secret\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 ").endsWith("null|null");
    }

    @Test
    void pipelinedRequests_areAnsweredInOrder() throws Exception {
        String r = exchange("GET /echo HTTP/1.1\r\nHost: site\r\n\r\nGET /page HTTP/1.1\r\nHost: site\r\n\r\n"
                + "GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        int echo = r.indexOf("null|null");
        int page = r.indexOf("the page");
        assertThat(echo).isPositive();
        assertThat(page).isGreaterThan(echo);
        assertThat(r.indexOf("the page", page + 1)).isGreaterThan(page);
    }

    @Test
    void absoluteFormRequest_isForwardProxiedToItsHost() throws Exception {
        String r = exchange("GET http://127.0.0.1:" + origin.port() + "/page HTTP/1.1\r\nHost: ignored\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 ").endsWith("the page");
        assertThat(origin.requestHeaders.get(0).getFirst("Host")).isEqualTo("127.0.0.1:" + origin.port());
    }

    @Test
    void originDown_is502() throws Exception {
        origin.close();
        String r = exchange("GET /page HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 502 ");
        origin = new TestOrigin();
        Duration.ZERO.isZero();
    }
}
