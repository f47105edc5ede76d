package io.slipstream.cli;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's chained web traffic: a few clients at site A asking the origin behind site B
 * ({@link DemoChainOrigin}) for Zipf-distributed objects through the gateway (their HTTP proxy), at a modest
 * pace, until told to stop. Every answer is checked: 200, the whole body, and exactly the bytes of the version
 * its ETag names, no newer than the origin's; anything else is a failure, counted with its time and its cause
 * printed (at most {@link ZipfWorkload#FAILURES_SAID}).
 */
final class ChainWorkload {

    /** Concurrent clients; each opens a new HttpClient (new connections, steered afresh) every batch. */
    static final int CLIENTS = 2;
    static final int BATCH = 100;
    /** Pause after each request: about 15-20 requests a second per client on hits. */
    static final long PAUSE_MILLIS = 50;

    final AtomicLong requests = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    private final Queue<Long> failedAt = new ConcurrentLinkedQueue<>();
    private final AtomicLong failuresSaid = new AtomicLong();
    private final ZipfWorkload popularity = new ZipfWorkload(DemoChainOrigin.OBJECTS, 1.0);
    private final DemoChainOrigin origin;
    private final InetSocketAddress proxy;

    /** @param proxy the gateway's listener for the origin (the clients' HTTP proxy) */
    ChainWorkload(DemoChainOrigin origin, InetSocketAddress proxy) {
        this.origin = origin;
        this.proxy = proxy;
    }

    /** Runs {@link #CLIENTS} clients until {@code stop}; returns when each has finished its request in flight. */
    void run(AtomicBoolean stop) throws InterruptedException {
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            long seed = 1_000 + c;
            Thread t = new Thread(() -> client(stop, seed), "demo-chain-client-" + c);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            t.join();
        }
    }

    private void client(AtomicBoolean stop, long seed) {
        Random random = new Random(seed);
        while (!stop.get()) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(ProxySelector.of(proxy)).connectTimeout(Duration.ofSeconds(5)).build();
            for (int i = 0; i < BATCH && !stop.get(); i++) {
                get(http, popularity.sample(random));
                try {
                    DemoRun.pause(Duration.ofMillis(PAUSE_MILLIS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void get(HttpClient http, int n) {
        HttpRequest get = HttpRequest.newBuilder(URI.create(origin.url() + "/obj/" + n))
                .timeout(Duration.ofSeconds(10)).build();
        requests.incrementAndGet();
        try {
            HttpResponse<byte[]> response = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
            String problem = check(n, response.statusCode(), response.headers().firstValue("ETag").orElse(null),
                    response.body(), origin.version(n));
            if (problem == null) {
                bytes.addAndGet(response.body().length);
            } else {
                failed(get, problem);
            }
        } catch (Exception e) {
            failed(get, e.toString());
        }
    }

    /**
     * What is wrong with an answer for object {@code n}, or null: it must be a 200 with an ETag naming a
     * version of {@code n} no newer than {@code current}, and the body must be exactly that version's.
     */
    static String check(int n, int status, String etag, byte[] body, int current) {
        if (status != 200) {
            return "status " + status + ", " + body.length + " bytes (expected: 200, "
                    + DemoChainOrigin.OBJECT_BYTES + " bytes)";
        }
        int version = versionOf(n, etag);
        if (version < 0 || version > current) {
            return "ETag " + etag + " (expected: \"" + n + "-v\", v <= " + current + ")";
        }
        if (!Arrays.equals(body, DemoChainOrigin.body(n, version))) {
            return body.length + " bytes that are not version " + version + " of object " + n + " ("
                    + DemoChainOrigin.OBJECT_BYTES + " bytes)";
        }
        return null;
    }

    /** The version an ETag {@code "n-v"} names for object {@code n}, or -1. */
    static int versionOf(int n, String etag) {
        String prefix = "\"" + n + "-";
        if (etag == null || !etag.startsWith(prefix) || !etag.endsWith("\"") || etag.length() <= prefix.length() + 1) {
            return -1;
        }
        try {
            return Integer.parseInt(etag.substring(prefix.length(), etag.length() - 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void failed(HttpRequest get, String cause) {
        failedAt.add(System.nanoTime());
        if (failuresSaid.incrementAndGet() <= ZipfWorkload.FAILURES_SAID) {
            System.out.printf("%s chained HTTP GET %s failed: %s%n", java.time.LocalTime.now(), get.uri(), cause);
        }
    }

    long failures() {
        return failedAt.size();
    }

    /** Failures at {@code fromNanos <= t <= toNanos} ({@link System#nanoTime()}). */
    long failuresBetween(long fromNanos, long toNanos) {
        return failedAt.stream().filter(t -> t - fromNanos >= 0 && toNanos - t >= 0).count();
    }
}
