package io.slipstream.common;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The small HTTP endpoint every Slipstream process serves next to its real work: {@code /metrics}
 * (Prometheus text format), {@code /healthz} (alive), {@code /readyz} (ready to serve, for
 * Kubernetes probes where gRPC probes are missing) and whatever JSON routes the process adds.
 * Built on the JDK's HTTP server: it carries no data-plane traffic.
 */
public final class AdminHttpServer implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(AdminHttpServer.class);
    private static final int MAX_BODY_BYTES = 1 << 20;

    /** A route's answer. */
    public static final class Response {
        final int status;
        final String contentType;
        final byte[] body;
        final java.util.Map<String, String> headers;

        private Response(int status, String contentType, byte[] body, java.util.Map<String, String> headers) {
            this.status = status;
            this.contentType = contentType;
            this.body = body;
            this.headers = headers;
        }

        private Response(int status, String contentType, byte[] body) {
            this(status, contentType, body, java.util.Map.of());
        }

        /**
         * This response with one more header (e.g. {@code ETag}, {@code Location}); a later value of the same
         * name replaces an earlier one. {@code Content-Type} and {@code Cache-Control} are set by the server.
         */
        public Response withHeader(String name, String value) {
            if (name == null || name.isBlank() || value == null || value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("response header " + name + ": '" + value
                        + "' (expected: a name and a value without line breaks)");
            }
            java.util.Map<String, String> more = new java.util.LinkedHashMap<>(headers);
            more.put(name, value);
            return new Response(status, contentType, body, java.util.Collections.unmodifiableMap(more));
        }

        /** The value of a header set with {@link #withHeader}, or {@code null}. */
        public String header(String name) {
            return headers.get(name);
        }

        /** The HTTP status code. */
        public int status() {
            return status;
        }

        public static Response json(int status, String json) {
            return new Response(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
        }

        public static Response text(int status, String text) {
            return new Response(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        }

        public static Response of(int status, String contentType, byte[] body) {
            return new Response(status, contentType, body);
        }
    }

    /** Handles one request; {@code body} is empty for methods without one. */
    @FunctionalInterface
    public interface Route {
        Response handle(String method, String query, byte[] body) throws Exception;
    }

    /** Everything a {@link RequestRoute} sees of one request. */
    public static final class Request {
        private final HttpExchange exchange;
        private final byte[] body;

        Request(HttpExchange exchange, byte[] body) {
            this.exchange = exchange;
            this.body = body;
        }

        public String method() {
            return exchange.getRequestMethod();
        }

        /** The decoded path, e.g. {@code /api/workers/w1/drain}. */
        public String path() {
            return exchange.getRequestURI().getPath();
        }

        /** The raw query string, or {@code null}. */
        public String query() {
            return exchange.getRequestURI().getRawQuery();
        }

        public byte[] body() {
            return body;
        }

        /** The first value of a request header, or {@code null}. */
        public String header(String name) {
            return exchange.getRequestHeaders().getFirst(name);
        }

        /** Sets a value for later stages of this request's handling (e.g. the authenticated principal). */
        public void attribute(String name, Object value) {
            exchange.setAttribute(name, value);
        }

        /** A value set with {@link #attribute(String, Object)}, or {@code null}. */
        public Object attribute(String name) {
            return exchange.getAttribute(name);
        }

        /** The client's address and port. */
        public String remoteAddress() {
            InetSocketAddress remote = exchange.getRemoteAddress();
            return remote == null ? "unknown" : HostPort.of(remote.getAddress().getHostAddress(), remote.getPort()).toString();
        }
    }

    /** Handles one request with access to its path, headers and peer (authentication, path parameters). */
    @FunctionalInterface
    public interface RequestRoute {
        Response handle(Request request) throws Exception;
    }

    private final HttpServer server;
    private final ExecutorService executor;

    private AdminHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Binds and starts the server.
     *
     * @param host address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param port port, 0 for an ephemeral one
     */
    public static AdminHttpServer start(String host, int port, PrometheusMeterRegistry meters,
                                        BooleanSupplier ready) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "admin-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        AdminHttpServer admin = new AdminHttpServer(server, executor);
        admin.route("/metrics", (method, query, body) ->
                Response.of(200, "text/plain; version=0.0.4; charset=utf-8",
                        meters.scrape().getBytes(StandardCharsets.UTF_8)));
        admin.route("/healthz", (method, query, body) -> Response.text(200, "ok\n"));
        admin.route("/readyz", (method, query, body) -> ready.getAsBoolean()
                ? Response.text(200, "ready\n")
                : Response.text(503, "not ready\n"));
        server.start();
        return admin;
    }

    /** Adds a route for an exact path. Exceptions become a 500 with the message; the server keeps going. */
    public AdminHttpServer route(String path, Route route) {
        server.createContext(path, exchange -> serve(path, route, exchange));
        return this;
    }

    /**
     * Adds a route that sees the whole {@link Request}. A {@code path} ending in {@code /} serves every
     * path under it (e.g. {@code /api/workers/} for {@code /api/workers/{id}/drain}); otherwise the path
     * must match exactly.
     */
    public AdminHttpServer route(String path, RequestRoute route) {
        server.createContext(path, exchange -> serve(path, path.endsWith("/"), route, exchange));
        return this;
    }

    private static void serve(String path, Route route, HttpExchange exchange) throws IOException {
        serve(path, false, request -> route.handle(request.method(), request.query(), request.body()), exchange);
    }

    private static void serve(String path, boolean prefix, RequestRoute route, HttpExchange exchange) throws IOException {
        Response response;
        try {
            String requested = exchange.getRequestURI().getPath();
            if (prefix ? !requested.startsWith(path) : !requested.equals(path)) {
                response = Response.text(404, "not found\n");
            } else {
                byte[] body = readBounded(exchange.getRequestBody());
                if (body == null) {
                    response = Response.text(413, "request body larger than " + MAX_BODY_BYTES + " bytes\n");
                } else {
                    response = route.handle(new Request(exchange, body));
                }
            }
        } catch (Exception e) {
            log.warn("admin route {} failed", path, e);
            response = Response.text(500, "internal error: " + e.getMessage() + "\n");
        }
        response.headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
        exchange.getResponseHeaders().set("Content-Type", response.contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(response.status, response.body.length == 0 ? -1 : response.body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(response.body);
        }
    }

    private static byte[] readBounded(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        return bytes.length > MAX_BODY_BYTES ? null : bytes;
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
