package io.slipstream.worker.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An origin on a plain loopback socket that records every request exactly as it arrived on the wire (head
 * bytes and body), so a test can see framing and hop-by-hop fields the cache sent. Keep-alive; it frames
 * request bodies by Content-Length or chunked and answers each request {@code 200 ok}, or with
 * {@link #largeBodyBytes} bytes for {@code /large}.
 */
final class RawOrigin implements AutoCloseable {

    /** One request as received: its head (request line and fields, CRLFs intact) and body. */
    record Received(String head, byte[] body) {
        String requestLine() {
            return head.substring(0, head.indexOf("\r\n"));
        }

        /** The values of field {@code name} (case-insensitive), in order. */
        List<String> fields(String name) {
            List<String> values = new java.util.ArrayList<>();
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    values.add(line.substring(colon + 1).strip());
                }
            }
            return values;
        }
    }

    final List<Received> received = new CopyOnWriteArrayList<>();
    private final ServerSocket server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    volatile int largeBodyBytes = 4 << 20;
    /** Body bytes of {@code /large} written so far (the socket accepted them). */
    final java.util.concurrent.atomic.AtomicLong largeWritten = new java.util.concurrent.atomic.AtomicLong();

    RawOrigin() throws IOException {
        server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        executor.execute(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                executor.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                byte[] body = readBody(in, head);
                Received r = new Received(head, body);
                received.add(r);
                boolean large = r.requestLine().contains(" /large ");
                int n = large ? largeBodyBytes : 2;
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + n + "\r\nCache-Control: max-age=60\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                if (large) {
                    byte[] block = new byte[64 * 1024];
                    java.util.Arrays.fill(block, (byte) 'x');
                    for (int left = n; left > 0; left -= block.length) {
                        out.write(block, 0, Math.min(left, block.length));
                        largeWritten.addAndGet(Math.min(left, block.length));
                    }
                } else {
                    out.write("ok".getBytes(StandardCharsets.ISO_8859_1));
                }
                out.flush();
            }
        } catch (IOException e) {
            // the proxy closed the connection
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : 0;
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static byte[] readBody(InputStream in, String head) throws IOException {
        String lower = head.toLowerCase(Locale.ROOT);
        if (lower.contains("\r\ntransfer-encoding: chunked")) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = readLine(in);
                int size = Integer.parseInt(sizeLine.split(";")[0].strip(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailer fields
                    }
                    return body.toByteArray();
                }
                body.write(in.readNBytes(size));
                readLine(in);
            }
        }
        int at = lower.indexOf("\r\ncontent-length:");
        if (at < 0) {
            return new byte[0];
        }
        int end = lower.indexOf("\r\n", at + 2);
        return in.readNBytes(Integer.parseInt(lower.substring(at + 17, end).strip()));
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        sockets.forEach(s -> {
            try {
                s.close();
            } catch (IOException e) {
                // already closed
            }
        });
        executor.shutdownNow();
    }
}
