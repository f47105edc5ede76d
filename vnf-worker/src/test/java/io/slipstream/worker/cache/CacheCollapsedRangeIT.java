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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Collapsed range misses: while one fetch of the whole object runs, every collapsed client asking for one
 * range is answered as soon as that range's bytes have arrived, not when the object is stored. The origin
 * is a plain socket sending the object in three pieces, the second and third only when the test opens a
 * gate, so "before the object completes" is a fact the test controls, not a timing.
 */
@ExtendWith(NettyLeakCheck.class)
class CacheCollapsedRangeIT {

    private static final int PIECE = 100_000;
    private static final int SIZE = 3 * PIECE;
    private static final byte[] OBJECT = object(SIZE);

    private ServerSocket origin;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<String> heads = new CopyOnWriteArrayList<>();
    /** Opens the second piece, then the third. */
    private final CountDownLatch second = new CountDownLatch(1);
    private final CountDownLatch third = new CountDownLatch(1);
    /** {@code /broken}: how many answers broke off after the first piece (only the first does). */
    private final AtomicInteger broken = new AtomicInteger();
    private CacheServer proxy;

    private static byte[] object(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 26) % 26);
        }
        return b;
    }

    @BeforeEach
    void start() throws Exception {
        origin = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        executor.execute(this::acceptLoop);
        // Two event loops: the leader's fetch and a waiter's connection may live on different threads.
        proxy = new CacheServer(CacheProxySettings.builder()
                .origin(URI.create("http://127.0.0.1:" + origin.getLocalPort())).threads(2).preopen(0).build())
                .start();
    }

    @AfterEach
    void stop() throws IOException {
        second.countDown();
        third.countDown();
        proxy.close();
        origin.close();
        executor.shutdownNow();
    }

    private void acceptLoop() {
        while (!origin.isClosed()) {
            try {
                Socket s = origin.accept();
                executor.execute(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        String head;
                        while ((head = readHead(in)) != null) {
                            heads.add(head);
                            if (!answer(head, out)) {
                                return;
                            }
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

    /**
     * {@code /paced}: the first piece at once, the second and third when their gates open. {@code /vary}: the
     * same with {@code Vary: Accept-Language}. {@code /broken}: the first answer sends the first piece and,
     * once the second gate opens, closes the connection; later answers are whole. False: connection closed.
     */
    private boolean answer(String head, OutputStream out) throws IOException, InterruptedException {
        boolean breaks = head.startsWith("GET /broken ") && broken.getAndIncrement() == 0;
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + SIZE + "\r\nCache-Control: max-age=600\r\n"
                + "ETag: \"v1\"\r\nContent-Type: video/mp4\r\n"
                + (head.startsWith("GET /vary ") ? "Vary: Accept-Language\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(OBJECT, 0, PIECE);
        out.flush();
        if (head.startsWith("GET /broken ") && !breaks) {
            out.write(OBJECT, PIECE, SIZE - PIECE);
            out.flush();
            return true;
        }
        second.await(10, TimeUnit.SECONDS);
        if (breaks) {
            return false;
        }
        out.write(OBJECT, PIECE, PIECE);
        out.flush();
        third.await(10, TimeUnit.SECONDS);
        out.write(OBJECT, 2 * PIECE, PIECE);
        out.flush();
        return true;
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

    /** One request on its own connection (closed after the answer), sent from another thread. */
    private Future<String[]> send(String path, String... fields) {
        return executor.submit(() -> {
            try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
                s.setSoTimeout(10_000);
                StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
                for (String f : fields) {
                    req.append(f).append("\r\n");
                }
                s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
                String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                int split = all.indexOf("\r\n\r\n");
                return new String[] {all.substring(0, split + 2), all.substring(split + 4)};
            }
        });
    }

    private static String bytes(int from, int toExclusive) {
        return new String(OBJECT, from, toExclusive - from, StandardCharsets.ISO_8859_1);
    }

    private static String[] done(Future<String[]> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private void awaitCollapsed(int n) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> proxy.context().collapsed.sum() == n);
    }

    @Test
    void collapsedRangeMiss_waitersRanges_eachServedAsItsBytesArriveBeforeTheObjectCompletes() throws Exception {
        String[] leader = done(send("/paced", "Range: bytes=1000-1999"));
        assertThat(leader[0]).startsWith("HTTP/1.1 206 ");
        assertThat(leader[1]).isEqualTo(bytes(1000, 2000));

        // A waiter whose range is in the second piece: it waits, and is answered once that piece is in.
        Future<String[]> later = send("/paced", "Range: bytes=150000-150999");
        awaitCollapsed(1);
        assertThat(later).isNotDone();
        // A waiter whose range has arrived already: answered at once.
        String[] arrived = done(send("/paced", "Range: bytes=50000-50999"));
        assertThat(arrived[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 50000-50999/300000\r\n")
                .contains("Content-Length: 1000\r\n").contains("ETag: \"v1\"\r\n").contains("Age: ");
        assertThat(arrived[1]).isEqualTo(bytes(50_000, 51_000));
        // Waiters that must wait for the landing: two ranges (multipart), a conditional answered 304, an
        // If-Range naming another representation (the whole object), a suffix range reaching the last piece.
        Future<String[]> multipart = send("/paced", "Range: bytes=0-9,250000-250009");
        Future<String[]> conditional = send("/paced", "Range: bytes=0-9", "If-None-Match: \"v1\"");
        Future<String[]> otherIfRange = send("/paced", "Range: bytes=0-9", "If-Range: \"v0\"");
        Future<String[]> suffix = send("/paced", "Range: bytes=-10");
        awaitCollapsed(6);

        second.countDown();
        String[] second = done(later);
        assertThat(third.getCount()).as("the object is not complete yet").isEqualTo(1);
        assertThat(proxy.context().store.entryCount()).isZero();
        assertThat(second[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 150000-150999/300000\r\n")
                .contains("Content-Length: 1000\r\n");
        assertThat(second[1]).isEqualTo(bytes(150_000, 151_000));
        assertThat(multipart).isNotDone();
        assertThat(conditional).isNotDone();
        assertThat(otherIfRange).isNotDone();
        assertThat(suffix).isNotDone();

        third.countDown();
        String[] suffixAnswer = done(suffix);
        assertThat(suffixAnswer[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 299990-299999/300000");
        assertThat(suffixAnswer[1]).isEqualTo(bytes(SIZE - 10, SIZE));
        assertThat(done(multipart)[0]).startsWith("HTTP/1.1 206 ")
                .contains("Content-Type: multipart/byteranges; boundary=");
        assertThat(done(conditional)[0]).startsWith("HTTP/1.1 304 ");
        String[] whole = done(otherIfRange);
        assertThat(whole[0]).startsWith("HTTP/1.1 200 ");
        assertThat(whole[1]).isEqualTo(bytes(0, SIZE));

        assertThat(heads).as("one fetch served them all").hasSize(1);
        assertThat(proxy.context().earlyRanges.sum()).as("leader, the arrived one, the later one, the suffix")
                .isEqualTo(4);
    }

    @Test
    void collapsedRangeMiss_waiterOfAnotherVariant_notServedFromThisResponse() throws Exception {
        String[] leader = done(send("/vary", "Range: bytes=0-99", "Accept-Language: en"));
        assertThat(leader[1]).isEqualTo(bytes(0, 100));
        Future<String[]> other = send("/vary", "Range: bytes=10-19", "Accept-Language: fr");
        Future<String[]> same = send("/vary", "Range: bytes=20-29", "Accept-Language: en");
        awaitCollapsed(2);
        String[] sameAnswer = done(same);
        assertThat(sameAnswer[1]).isEqualTo(bytes(20, 30));
        assertThat(other).as("the French variant is not this response").isNotDone();

        second.countDown();
        third.countDown();
        String[] otherAnswer = done(other);
        assertThat(otherAnswer[1]).isEqualTo(bytes(10, 20));
        assertThat(heads).as("the French client fetched its own variant").hasSize(2);
        assertThat(heads.get(1)).contains("Accept-Language: fr");
    }

    @Test
    void collapsedRangeMiss_originBreaksBeforeTheWaitersRange_waiterFetchesItself() throws Exception {
        String[] leader = done(send("/broken", "Range: bytes=0-9"));
        assertThat(leader[1]).isEqualTo(bytes(0, 10));
        Future<String[]> waiter = send("/broken", "Range: bytes=200000-200099");
        awaitCollapsed(1);

        second.countDown(); // the first answer breaks off here
        String[] answer = done(waiter);
        assertThat(answer[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 200000-200099/300000");
        assertThat(answer[1]).isEqualTo(bytes(200_000, 200_100));
        assertThat(heads).hasSize(2);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> proxy.context().store.entryCount() == 1);
        assertThat(done(send("/broken"))[1]).isEqualTo(bytes(0, SIZE));
    }
}
