package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.cache.policy.CacheKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Range misses: the range is served as soon as its bytes arrive from the whole-object fetch; objects too
 * large to store have their range cut from the stream (and the rest not fetched), later ranges of them are
 * passed through to the origin. The origin is a plain socket that can stall in the middle of a body.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheRangeMissIT {

    private static final int SIZE = 200_000;
    private static final byte[] OBJECT = object(SIZE);

    private ServerSocket origin;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<String> heads = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private CacheServer proxy;

    private static byte[] object(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 26) % 26);
        }
        return b;
    }

    private void startProxy(CacheProxySettings.Builder b) throws InterruptedException {
        proxy = new CacheServer(b.origin(URI.create("http://127.0.0.1:" + origin.getLocalPort())).threads(1)
                .preopen(0).build()).start();
    }

    @BeforeEach
    void start() throws Exception {
        origin = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        executor.execute(this::acceptLoop);
    }

    @AfterEach
    void stop() throws IOException {
        release.countDown();
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
        executor.shutdownNow();
    }

    /**
     * {@code /stall}: the first 50 000 bytes, then the rest once {@link #release} opens. {@code /big}: the
     * whole object, or for a request with Range the origin's own 206 of {@code bytes=A-B}.
     */
    private void acceptLoop() {
        while (!origin.isClosed()) {
            try {
                Socket s = origin.accept();
                executor.execute(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        String head;
                        while ((head = readHead(in)) != null) {
                            heads.add(head);
                            answer(head, out);
                        }
                    } catch (IOException | InterruptedException e) {
                        // the proxy closed the connection
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private void answer(String head, OutputStream out) throws IOException, InterruptedException {
        String range = field(head, "Range");
        if (range != null && range.contains(",")) {
            // Several ranges: a multipart/byteranges 206 that breaks off halfway through its body.
            StringBuilder body = new StringBuilder();
            for (String spec : range.substring("bytes=".length()).split(",")) {
                String[] ab = spec.strip().split("-");
                int a = Integer.parseInt(ab[0]);
                int b = Integer.parseInt(ab[1]);
                body.append("--B\r\nContent-Range: bytes ").append(a).append('-').append(b).append('/').append(SIZE)
                        .append("\r\n\r\n").append(bytes(a, b + 1)).append("\r\n");
            }
            body.append("--B--\r\n");
            byte[] all = body.toString().getBytes(StandardCharsets.ISO_8859_1);
            out.write(("HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=B\r\n"
                    + "Content-Length: " + all.length + "\r\nCache-Control: max-age=600\r\nETag: \"o\"\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(all, 0, all.length / 2);
            out.flush();
            throw new IOException("the multipart body breaks off");
        }
        if (range != null) {
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            out.write(("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + a + "-" + b + "/" + SIZE
                    + "\r\nContent-Length: " + (b - a + 1) + "\r\nCache-Control: max-age=600\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(OBJECT, a, b - a + 1);
            out.flush();
            return;
        }
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + SIZE + "\r\nCache-Control: max-age=600\r\nETag: \"o\"\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        if (head.startsWith("GET /stall ")) {
            out.write(OBJECT, 0, 50_000);
            out.flush();
            release.await(10, TimeUnit.SECONDS);
            out.write(OBJECT, 50_000, SIZE - 50_000);
        } else {
            out.write(OBJECT);
        }
        out.flush();
    }

    private static String field(String head, String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
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

    /** One request on its own connection: the head and the body of the answer. */
    private String[] get(String path, String range) throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + (range != null ? "Range: " + range + "\r\n" : "") + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int split = all.indexOf("\r\n\r\n");
            return new String[] {all.substring(0, split + 2), all.substring(split + 4)};
        }
    }

    private static String bytes(int from, int toExclusive) {
        return new String(OBJECT, from, toExclusive - from, StandardCharsets.ISO_8859_1);
    }

    @Test
    void rangeMiss_storableObject_rangeServedBeforeTheRestArrivesThenStored() throws Exception {
        startProxy(CacheProxySettings.builder());
        String[] early = get("/stall", "bytes=1000-1999");
        assertThat(release.getCount()).as("answered while the origin still holds the rest").isEqualTo(1);
        assertThat(early[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 1000-1999/200000\r\n")
                .contains("Content-Length: 1000\r\n").contains("ETag: \"o\"\r\n");
        assertThat(early[1]).isEqualTo(bytes(1000, 2000));
        assertThat(proxy.context().earlyRanges.sum()).isEqualTo(1);

        release.countDown();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> proxy.context().store.entryCount() == 1);
        String[] whole = get("/stall", null);
        assertThat(whole[0]).startsWith("HTTP/1.1 200 ");
        assertThat(whole[1]).isEqualTo(bytes(0, SIZE));
        assertThat(heads).hasSize(1);
    }

    @Test
    void rangeMiss_tooLargeToStore_rangeCutFromTheStreamThenPassedThrough() throws Exception {
        startProxy(CacheProxySettings.builder().storeBytes(1 << 20, 64 * 1024));
        String[] first = get("/big", "bytes=100000-100999");
        assertThat(first[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 100000-100999/200000\r\n")
                .contains("Content-Length: 1000\r\n");
        assertThat(first[1]).isEqualTo(bytes(100_000, 101_000));
        assertThat(field(heads.get(0), "Range")).as("the whole object was asked for").isNull();
        assertThat(proxy.context().largeObjects.getIfPresent(CacheKey.of(URI.create(
                "http://x/big")))).isTrue();

        String[] second = get("/big", "bytes=5000-5999");
        assertThat(second[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 5000-5999/200000\r\n");
        assertThat(second[1]).isEqualTo(bytes(5000, 6000));
        assertThat(field(heads.get(1), "Range")).isEqualTo("bytes=5000-5999");
        assertThat(proxy.context().rangePassthroughs.sum()).isEqualTo(1);
    }

    @Test
    void rangeMiss_tooLargeWithSeveralRanges_relaysTheWholeObject() throws Exception {
        startProxy(CacheProxySettings.builder().storeBytes(1 << 20, 64 * 1024));
        String[] r = get("/big", "bytes=0-9,100000-100009");
        assertThat(r[0]).startsWith("HTTP/1.1 200 ");
        assertThat(r[1]).isEqualTo(bytes(0, SIZE));
    }

    @Test
    void rangeMiss_passthroughSizeConfigured_storableObjectRangesGoToTheOrigin() throws Exception {
        startProxy(CacheProxySettings.builder().rangePassthroughBytes(100_000));
        get("/big", null);
        String[] r = get("/big", "bytes=10-19");
        assertThat(r[1]).isEqualTo(bytes(10, 20));
        assertThat(heads).as("stored, so a hit: the pass-through is only for misses").hasSize(1);
    }

    @Test
    void rangeMiss_truncatedMultipartFromTheOrigin_clientCutOffNothingKeptProxyServesOn() throws Exception {
        startProxy(CacheProxySettings.builder().storeBytes(1 << 20, 64 * 1024));
        get("/big", "bytes=0-999"); // cut from the 200: kept as a part, the object known to be large
        assertThat(proxy.context().partsStored.sum()).isEqualTo(1);
        String[] cut = get("/big", "bytes=10000-10999,150000-150999");
        assertThat(cut[0]).startsWith("HTTP/1.1 206 ").contains("multipart/byteranges; boundary=B");
        int announced = Integer.parseInt(field(cut[0], "Content-Length"));
        assertThat(cut[1].length()).as("the client sees the body end early (its connection closed)")
                .isLessThan(announced);
        assertThat(proxy.context().partsStored.sum()).isEqualTo(1);
        int asked = heads.size();
        String[] again = get("/big", "bytes=100-199");
        assertThat(again[0]).startsWith("HTTP/1.1 206 ");
        assertThat(again[1]).isEqualTo(bytes(100, 200));
        assertThat(heads).as("answered from the part held").hasSize(asked);
    }
}
