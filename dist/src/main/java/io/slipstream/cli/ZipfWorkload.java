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
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP GETs of {@code /obj/<n>} with Zipf-distributed popularity (a few objects hot, a long tail),
 * from a few concurrent clients with keep-alive; records latency and failures.
 */
final class ZipfWorkload {

    /** What a run measured. */
    static final class Result {
        final long requests;
        final long failures;
        final long bytes;
        final double p50Millis;
        final double p99Millis;
        /** Every request's latency, sorted. */
        final long[] latencyNanos;
        /** When each failed request failed ({@link System#nanoTime()}). */
        final long[] failedAtNanos;

        Result(long requests, long[] failedAtNanos, long bytes, long[] latencyNanos) {
            this.requests = requests;
            this.failures = failedAtNanos.length;
            this.failedAtNanos = failedAtNanos;
            this.bytes = bytes;
            long[] sorted = latencyNanos.clone();
            Arrays.sort(sorted);
            this.latencyNanos = sorted;
            this.p50Millis = sorted.length == 0 ? 0 : sorted[(int) (sorted.length * 0.50)] / 1e6;
            this.p99Millis = sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6;
        }
    }

    /** Failures printed with their cause, at most {@link #FAILURES_SAID} per workload (a failure storm stays short). */
    static final int FAILURES_SAID = 20;

    private final double[] cdf;
    private final AtomicLong failuresSaid = new AtomicLong();

    /** @param objects how many distinct objects; @param exponent Zipf exponent, 1.0 is typical of web traffic */
    ZipfWorkload(int objects, double exponent) {
        cdf = new double[objects];
        double sum = 0;
        for (int i = 0; i < objects; i++) {
            sum += 1 / Math.pow(i + 1, exponent);
            cdf[i] = sum;
        }
        for (int i = 0; i < objects; i++) {
            cdf[i] /= sum;
        }
    }

    int sample(Random random) {
        int i = Arrays.binarySearch(cdf, random.nextDouble());
        return i >= 0 ? i : -i - 1;
    }

    /** Sends {@code requests} GETs to {@code base}, split over {@code clients} concurrent clients. */
    Result run(String base, int requests, int clients, long seed) throws Exception {
        return run(base, null, requests, clients, seed);
    }

    /**
     * As {@link #run(String, int, int, long)}, through the HTTP proxy {@code proxy} when it is not null (the
     * requests then name the origin {@code base} in absolute form).
     */
    Result run(String base, InetSocketAddress proxy, int requests, int clients, long seed) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        java.util.Queue<Long> failedAt = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicLong bytes = new AtomicLong();
        List<Future<long[]>> parts = new ArrayList<>();
        try {
            for (int c = 0; c < clients; c++) {
                int share = requests / clients + (c < requests % clients ? 1 : 0);
                long clientSeed = seed * 31 + c;
                parts.add(pool.submit(() -> {
                    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(Duration.ofSeconds(5));
                    if (proxy != null) {
                        builder.proxy(ProxySelector.of(proxy));
                    }
                    HttpClient http = builder.build();
                    Random random = new Random(clientSeed);
                    long[] latencies = new long[share];
                    for (int i = 0; i < share; i++) {
                        HttpRequest get = HttpRequest.newBuilder(URI.create(base + "/obj/" + sample(random)))
                                .timeout(Duration.ofSeconds(10)).build();
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<byte[]> response = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
                            if (response.statusCode() == 200 && response.body().length == DemoOrigin.OBJECT_BYTES) {
                                bytes.addAndGet(response.body().length);
                            } else {
                                failedAt.add(System.nanoTime());
                                sayFailure(get, "status " + response.statusCode() + ", " + response.body().length
                                        + " bytes (expected: 200, " + DemoOrigin.OBJECT_BYTES + " bytes)");
                            }
                        } catch (Exception e) {
                            failedAt.add(System.nanoTime());
                            sayFailure(get, e.toString());
                        }
                        latencies[i] = System.nanoTime() - t0;
                    }
                    return latencies;
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<long[]> part : parts) {
                for (long l : part.get()) {
                    all.add(l);
                }
            }
            return new Result(requests, failedAt.stream().mapToLong(Long::longValue).toArray(), bytes.get(),
                    all.stream().mapToLong(Long::longValue).toArray());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Prints what a failed request got and when (wall clock, as the logs), so an unexpected one can be traced. */
    private void sayFailure(HttpRequest get, String cause) {
        if (failuresSaid.incrementAndGet() <= FAILURES_SAID) {
            System.out.printf("%s HTTP GET %s failed: %s%n", java.time.LocalTime.now(), get.uri(), cause);
        }
    }
}
