package io.slipstream.worker.cache;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny origin on loopback (the JDK's HTTP server, keep-alive) that counts requests per path, remembers
 * the connections (client ports) they came on and the request headers, and answers with whatever a test's
 * route says.
 */
final class TestOrigin implements AutoCloseable {

    /** What a route answers. */
    record Reply(int status, Map<String, String> headers, byte[] body) {
        static Reply ok(String body, String... headerNamesAndValues) {
            Map<String, String> h = new java.util.LinkedHashMap<>();
            for (int i = 0; i < headerNamesAndValues.length; i += 2) {
                h.put(headerNamesAndValues[i], headerNamesAndValues[i + 1]);
            }
            return new Reply(200, h, body.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A route: the exchange (read its request headers) to a reply. */
    interface Route {
        Reply answer(HttpExchange exchange) throws Exception;
    }

    /** A reply header that makes the origin send its body chunked (not sent itself). */
    static final String CHUNKED = "X-Test-Chunked";

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    final List<String> requestLines = new CopyOnWriteArrayList<>();
    final List<com.sun.net.httpserver.Headers> requestHeaders = new CopyOnWriteArrayList<>();

    TestOrigin() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    void route(String path, Route route) {
        routes.put(path, route);
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    int count(String path) {
        AtomicInteger n = counts.get(path);
        return n == null ? 0 : n.get();
    }

    int total() {
        return counts.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    Set<Integer> clientPorts() {
        return Set.copyOf(clientPorts);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            in.readAllBytes();
        }
        String path = ex.getRequestURI().getRawPath();
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        clientPorts.add(ex.getRemoteAddress().getPort());
        requestLines.add(ex.getRequestMethod() + " " + ex.getRequestURI());
        requestHeaders.add(ex.getRequestHeaders());
        Route route = routes.get(path);
        Reply reply;
        try {
            reply = route == null ? new Reply(404, Map.of("Cache-Control", "no-store"),
                    "no route".getBytes(StandardCharsets.UTF_8)) : route.answer(ex);
        } catch (Exception e) {
            reply = new Reply(500, Map.of(), e.toString().getBytes(StandardCharsets.UTF_8));
        }
        boolean chunked = reply.headers().containsKey(CHUNKED);
        reply.headers().forEach((k, v) -> {
            if (!k.equals(CHUNKED)) {
                ex.getResponseHeaders().add(k, v);
            }
        });
        boolean bodyless = reply.status() == 304 || reply.status() == 204 || ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(reply.status(), bodyless ? -1 : chunked ? 0 : reply.body().length == 0 ? -1
                : reply.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!bodyless) {
                out.write(reply.body());
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
