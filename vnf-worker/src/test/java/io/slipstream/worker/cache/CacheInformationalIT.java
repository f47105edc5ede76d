package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Informational responses (RFC 9110 §15.2): 103 Early Hints forwarded to the client, never stored. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheInformationalIT {

    private static final String FINAL = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: max-age=600\r\n\r\nhello";

    private ServerSocket origin;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final AtomicInteger requests = new AtomicInteger();
    private volatile String script;
    private CacheServer proxy;

    @BeforeEach
    void start() throws Exception {
        origin = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        executor.execute(this::acceptLoop);
        proxy = new CacheServer(CacheProxySettings.builder()
                .origin(URI.create("http://127.0.0.1:" + origin.getLocalPort())).threads(1).preopen(0).build()).start();
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        origin.close();
        executor.shutdownNow();
    }

    /** Answers every request on a connection with {@link #script}, verbatim. */
    private void acceptLoop() {
        while (!origin.isClosed()) {
            try {
                Socket s = origin.accept();
                executor.execute(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        while (readHead(in) != null) {
                            requests.incrementAndGet();
                            out.write(script.getBytes(StandardCharsets.ISO_8859_1));
                            out.flush();
                        }
                    } catch (IOException e) {
                        // the proxy closed the connection
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    /** One request on a new connection; everything the proxy sent until it closed. */
    private String exchange(String version) throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /hints " + version + "\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void earlyHints_forwardedBeforeTheResponseAndNotStored() throws Exception {
        script = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nConnection: x-hop\r\nX-Hop: 1\r\n\r\n"
                + FINAL;
        String first = exchange("HTTP/1.1");
        String hit = exchange("HTTP/1.1");

        assertThat(first).startsWith("HTTP/1.1 103 Early Hints\r\n").contains("Link: </style.css>; rel=preload\r\n")
                .doesNotContain("X-Hop").endsWith("hello");
        assertThat(first.indexOf("HTTP/1.1 200 OK")).isGreaterThan(0);
        assertThat(hit).startsWith("HTTP/1.1 200 OK").doesNotContain("103").doesNotContain("Link:").endsWith("hello");
        assertThat(requests.get()).isEqualTo(1);
        assertThat(proxy.context().informational.sum()).isEqualTo(1);
    }

    @Test
    void earlyHints_toHttp10Client_areNotSent() throws Exception {
        script = "HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n" + FINAL;
        String r = exchange("HTTP/1.0");
        assertThat(r).startsWith("HTTP/1.1 200 OK").doesNotContain("Link:").endsWith("hello");
    }

    @Test
    void manyInformational_atMostTheLimitForwardedAndTheResponseIntact() throws Exception {
        script = "HTTP/1.1 102 Processing\r\n\r\n".repeat(50) + "HTTP/1.1 100 Continue\r\n\r\n" + FINAL;
        String r = exchange("HTTP/1.1");
        int count = r.split("HTTP/1.1 102 Processing", -1).length - 1;
        assertThat(count).isEqualTo(io.slipstream.worker.cache.policy.Interim.MAX_FORWARDED);
        assertThat(r).doesNotContain("100 Continue").endsWith("hello");
    }
}
