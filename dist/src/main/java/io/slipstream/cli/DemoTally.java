package io.slipstream.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the demo's clients did over the whole run, from the client side: bulk bytes sent and what the
 * sink at site B said it received (length and digest), and every HTTP request's latency and outcome.
 * Thread-safe: the bulk and web loops add to it while the progress display reads it.
 */
final class DemoTally {

    final AtomicLong bulkSent = new AtomicLong();
    final AtomicLong bulkReceived = new AtomicLong();
    final AtomicLong corrupted = new AtomicLong();
    final AtomicLong lost = new AtomicLong();
    final AtomicLong transfers = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong httpRequests = new AtomicLong();
    final AtomicLong httpFailures = new AtomicLong();
    final AtomicLong httpBytes = new AtomicLong();
    private final List<long[]> latencies = new ArrayList<>();
    private final List<Long> httpFailedAt = new ArrayList<>();

    /**
     * One bulk transfer's outcome: {@code received} is the length the sink digested (-1: no answer).
     * Bytes that did not arrive are lost; bytes that arrived under a wrong digest are corrupted.
     *
     * @return whether it arrived whole and intact
     */
    boolean transfer(long sent, long received, boolean digestMatches) {
        transfers.incrementAndGet();
        bulkSent.addAndGet(sent);
        long got = Math.max(0, received);
        bulkReceived.addAndGet(got);
        lost.addAndGet(Math.max(0, sent - got));
        if (!digestMatches) {
            corrupted.addAndGet(Math.min(sent, got));
        }
        return digestMatches && got == sent;
    }

    void http(ZipfWorkload.Result r) {
        httpRequests.addAndGet(r.requests);
        httpFailures.addAndGet(r.failures);
        httpBytes.addAndGet(r.bytes);
        synchronized (latencies) {
            latencies.add(r.latencyNanos);
            for (long t : r.failedAtNanos) {
                httpFailedAt.add(t);
            }
        }
    }

    /** HTTP failures at {@code fromNanos <= t <= toNanos} ({@link System#nanoTime()}). */
    long httpFailuresBetween(long fromNanos, long toNanos) {
        synchronized (latencies) {
            return httpFailedAt.stream().filter(t -> t - fromNanos >= 0 && toNanos - t >= 0).count();
        }
    }

    /** The {@code q} quantile (0..1) of every request's latency so far, in milliseconds; 0 with none. */
    double latencyMillis(double q) {
        long[] all;
        synchronized (latencies) {
            all = latencies.stream().flatMapToLong(Arrays::stream).toArray();
        }
        if (all.length == 0) {
            return 0;
        }
        Arrays.sort(all);
        return all[Math.min(all.length - 1, (int) (all.length * q))] / 1e6;
    }
}
