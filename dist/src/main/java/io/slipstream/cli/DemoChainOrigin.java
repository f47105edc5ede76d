package io.slipstream.cli;

import com.sun.net.httpserver.HttpServer;
import io.slipstream.tools.workload.Workloads;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The web server behind site B for the demo's chained traffic ({@code cache+wanopt}): {@code /obj/<n>}
 * ({@code n < OBJECTS}) answers object n's current version, {@link #OBJECT_BYTES} bytes of file-like text with
 * {@link #EDIT_BYTES} bytes rewritten per version ({@link #body}). Every {@link #CHANGE_MILLIS} ms
 * {@link #CHANGED_PER_ROUND} objects get a new version. Each answer carries the version as its validator
 * ({@code ETag: "n-v"}) and is fresh for {@link #MAX_AGE_SECONDS} s; a conditional GET naming the current
 * version gets 304. So the caches revalidate often, and an object that changed is fetched again: a near-duplicate
 * of what already crossed the WAN. Counts what it serves.
 */
final class DemoChainOrigin implements AutoCloseable {

    static final int OBJECTS = 32;
    static final int OBJECT_BYTES = 64 * 1024;
    static final int EDIT_BYTES = 16;
    static final int CHANGED_PER_ROUND = 3;
    static final long CHANGE_MILLIS = 3000;
    static final int MAX_AGE_SECONDS = 2;

    private static final byte[][] BASE = new byte[OBJECTS][];

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "demo-chain-origin");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService changer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo-chain-origin-changes");
        t.setDaemon(true);
        return t;
    });
    private final AtomicIntegerArray versions = new AtomicIntegerArray(OBJECTS);
    private final AtomicLong rounds = new AtomicLong();
    /** Every request, 304s included. */
    final AtomicLong requests = new AtomicLong();
    final AtomicLong notModified = new AtomicLong();
    /** Body bytes served (200s). */
    final AtomicLong bytes = new AtomicLong();

    /** An origin listening on {@code host} (an address in site B's prefixes); objects change from now on. */
    DemoChainOrigin(String host) throws IOException {
        server = HttpServer.create(new InetSocketAddress(host, 0), 128);
        server.setExecutor(executor);
        server.createContext("/obj/", exchange -> {
            try (exchange) {
                requests.incrementAndGet();
                int n = objectOf(exchange.getRequestURI().getPath());
                if (n < 0) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                int v = versions.get(n);
                String etag = etag(n, v);
                exchange.getResponseHeaders().set("Cache-Control", "public, max-age=" + MAX_AGE_SECONDS);
                exchange.getResponseHeaders().set("ETag", etag);
                if (etag.equals(exchange.getRequestHeaders().getFirst("If-None-Match"))) {
                    notModified.incrementAndGet();
                    exchange.sendResponseHeaders(304, -1);
                    return;
                }
                byte[] body = body(n, v);
                exchange.getResponseHeaders().set("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
                bytes.addAndGet(body.length);
            }
        });
        server.start();
        changer.scheduleAtFixedRate(this::change, CHANGE_MILLIS, CHANGE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** One round of changes: {@link #CHANGED_PER_ROUND} objects, mostly popular ones, get a new version. */
    private void change() {
        Random random = new Random(rounds.incrementAndGet());
        for (int i = 0; i < CHANGED_PER_ROUND; i++) {
            versions.incrementAndGet(random.nextInt(i == 0 ? OBJECTS : OBJECTS / 4));
        }
    }

    /** The object a path names, or -1. */
    static int objectOf(String path) {
        if (!path.startsWith("/obj/")) {
            return -1;
        }
        try {
            int n = Integer.parseInt(path.substring("/obj/".length()));
            return n >= 0 && n < OBJECTS ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String etag(int n, int version) {
        return "\"" + n + "-" + version + "\"";
    }

    /** Object {@code n}'s current version. */
    int version(int n) {
        return versions.get(n);
    }

    /** Rounds of changes so far. */
    long changes() {
        return rounds.get();
    }

    /**
     * Object {@code n} at {@code version}: file-like text ({@link Workloads#fileLike}) with {@link #EDIT_BYTES}
     * bytes rewritten at a place of its own for each version 1..{@code version}. Deterministic, so a client can
     * check a body against the version its ETag names.
     */
    static byte[] body(int n, int version) {
        byte[] base;
        synchronized (BASE) {
            if (BASE[n] == null) {
                BASE[n] = Workloads.fileLike(OBJECT_BYTES, 7_000 + n);
            }
            base = BASE[n];
        }
        byte[] b = base.clone();
        for (int k = 1; k <= version; k++) {
            Random r = new Random(n * 1_000_003L + k);
            int at = r.nextInt(OBJECT_BYTES - EDIT_BYTES);
            for (int i = 0; i < EDIT_BYTES; i++) {
                b[at + i] = (byte) ('a' + r.nextInt(26));
            }
        }
        return b;
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        changer.shutdownNow();
        server.stop(0);
        executor.shutdownNow();
    }
}
