package io.slipstream.e2e.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Traffic that runs while a chaos scenario breaks things: workloads (TCP flows echoed end to end, HTTP GETs of
 * known objects), each a loop on its own thread until {@link #close()}; every flow's bytes are compared with what
 * was sent (or, for HTTP, with the object), so a failed or corrupted flow is counted, never missed.
 */
final class ControlTraffic implements AutoCloseable {

    /** One failed flow: when, which workload, why. */
    record Failure(long atNanos, String workload, String reason) {}

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Runnable> workloads = new ArrayList<>();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final List<Failure> failures = new CopyOnWriteArrayList<>();
    private volatile boolean running;

    /** Flows of {@code size} random bytes to {@code port} on loopback, each echoed back and compared. */
    ControlTraffic echoFlows(String name, int port, int size) {
        workloads.add(() -> {
            long seed = name.hashCode();
            while (running) {
                byte[] data = new byte[size];
                new Random(seed++).nextBytes(data);
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write(data);
                    s.shutdownOutput();
                    byte[] back = s.getInputStream().readAllBytes();
                    record(name, Arrays.equals(back, data), back.length + data.length,
                            "echoed " + back.length + " bytes, not the " + data.length + " sent");
                } catch (IOException e) {
                    record(name, false, 0, e.toString());
                }
            }
        });
        return this;
    }

    /** GETs of {@code objects} objects of {@link Origin} through {@code baseUrl}, each compared with the object. */
    ControlTraffic httpGets(String name, String baseUrl, int objects) {
        workloads.add(() -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            int i = 0;
            while (running) {
                String path = "/object/" + (i++ % objects);
                try {
                    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create(baseUrl + path))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
                    record(name, r.statusCode() == 200 && Arrays.equals(r.body(), Origin.body(path)), r.body().length,
                            "HTTP " + r.statusCode() + ", " + r.body().length + " bytes");
                } catch (IOException e) {
                    record(name, false, 0, e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        });
        return this;
    }

    private void record(String workload, boolean success, long n, String reason) {
        if (!running) {
            return; // a flow cut short by close() is not the fleet's failure
        }
        if (success) {
            ok.incrementAndGet();
            bytes.addAndGet(n);
        } else {
            failures.add(new Failure(System.nanoTime(), workload, reason));
        }
    }

    ControlTraffic start() {
        running = true;
        for (Runnable w : workloads) {
            threads.execute(w);
        }
        return this;
    }

    long ok() {
        return ok.get();
    }

    /** Bytes checked: sent and compared on the way back. */
    long bytes() {
        return bytes.get();
    }

    List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** Stops the loops, waits for the flows in progress to end. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        threads.shutdown();
        if (!threads.awaitTermination(15, TimeUnit.SECONDS)) {
            threads.shutdownNow();
        }
    }

    /** Echoes every byte of every connection, then half-closes when the client does. */
    static final class Echo implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        private final ExecutorService threads = Executors.newCachedThreadPool();

        Echo() throws IOException {
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        threads.execute(() -> {
                            try (s; InputStream in = s.getInputStream()) {
                                in.transferTo(s.getOutputStream());
                                s.shutdownOutput();
                            } catch (IOException e) {
                                // the client went away
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    /** An HTTP origin on loopback: {@code /object/N} is 16 KiB derived from its path, cacheable for an hour. */
    static final class Origin implements AutoCloseable {
        private final HttpServer server;
        private final AtomicLong requests = new AtomicLong();

        Origin() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
            server.createContext("/object/", exchange -> {
                requests.incrementAndGet();
                byte[] body = body(exchange.getRequestURI().getPath());
                exchange.getResponseHeaders().add("Cache-Control", "public, max-age=3600");
                exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            server.setExecutor(Executors.newFixedThreadPool(4));
            server.start();
        }

        static byte[] body(String path) {
            byte[] b = new byte[16 * 1024];
            new Random(Arrays.hashCode(path.getBytes(StandardCharsets.UTF_8))).nextBytes(b);
            return b;
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        long requests() {
            return requests.get();
        }

        @Override
        public void close() {
            server.stop(0);
            ((ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
