package io.slipstream.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP origin on loopback for the demo: {@code /obj/<n>} answers a deterministic body of
 * {@link #OBJECT_BYTES} bytes, cacheable for five minutes, and counts what it serves.
 */
final class DemoOrigin implements AutoCloseable {

    static final int OBJECT_BYTES = 8 * 1024;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "demo-origin");
        t.setDaemon(true);
        return t;
    });
    final AtomicLong requests = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();

    DemoOrigin() throws IOException {
        this("127.0.0.1");
    }

    /** An origin listening on {@code host} (e.g. 127.0.0.3, the web servers' address on loopback). */
    DemoOrigin(String host) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, 0), 128);
        server.setExecutor(executor);
        server.createContext("/obj/", exchange -> {
            try (exchange) {
                String name = exchange.getRequestURI().getPath().substring("/obj/".length());
                byte[] body = new byte[OBJECT_BYTES];
                new Random(name.hashCode()).nextBytes(body);
                exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
                exchange.getResponseHeaders().set("Cache-Control", "public, max-age=300");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
                requests.incrementAndGet();
                bytes.addAndGet(body.length);
            }
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
