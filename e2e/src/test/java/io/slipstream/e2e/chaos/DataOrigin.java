package io.slipstream.e2e.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP origin on loopback whose objects {@code /obj/<n>} are a deterministic function of {@code n}
 * ({@link #body(int)}: 2 to 34 KiB of {@link DataStreams.Payload}), cacheable for five minutes; and a one-request
 * HTTP/1.1 client ({@code Connection: close}, so the gateway routes every request by its own key) that checks
 * a response body against the object it asked for.
 */
final class DataOrigin implements AutoCloseable {

    final AtomicLong requests = new AtomicLong();
    private final ExecutorService threads = Executors.newFixedThreadPool(8);
    private final HttpServer server;

    DataOrigin() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.setExecutor(threads);
        server.createContext("/obj/", exchange -> {
            requests.incrementAndGet();
            try (exchange) {
                int n;
                try {
                    n = Integer.parseInt(exchange.getRequestURI().getPath().substring("/obj/".length()));
                } catch (NumberFormatException e) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] body = body(n);
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.getResponseHeaders().set("Cache-Control", "public, max-age=300");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Object {@code n}'s content. */
    static byte[] body(int n) {
        byte[] b = new byte[2048 + (n * 7919) % (32 * 1024)];
        new DataStreams.Payload(n).next(b, 0, b.length);
        return b;
    }

    /** How one request ended. */
    enum Result { OK, FAILED, WRONG_BODY }

    /**
     * GET {@code /obj/n} through {@code port} with Host = the origin; OK only for a 200 whose body is object n.
     * {@code bytes} counts verified body bytes.
     */
    static Result get(int port, int originPort, int n, AtomicLong bytes) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /obj/" + n + " HTTP/1.1\r\nHost: 127.0.0.1:" + originPort + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            byte[] raw = all.toByteArray();
            int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            if (headEnd < 0) {
                return Result.FAILED;
            }
            String head = new String(raw, 0, headEnd, StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 200")) {
                System.out.println("CHAOS http: /obj/" + n + " -> " + head.lines().findFirst().orElse(""));
                return Result.FAILED;
            }
            byte[] body = Arrays.copyOfRange(raw, headEnd + 4, raw.length);
            if (!Arrays.equals(body, body(n))) {
                System.out.println("CHAOS http: /obj/" + n + " answered " + body.length + " bytes that are not object "
                        + n);
                return Result.WRONG_BODY;
            }
            bytes.addAndGet(body.length);
            return Result.OK;
        } catch (IOException e) {
            return Result.FAILED;
        }
    }

    private static int indexOf(byte[] a, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= a.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (a[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
