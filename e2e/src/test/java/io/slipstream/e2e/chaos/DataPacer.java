package io.slipstream.e2e.chaos;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Paces senders without sleeping: every tick, each registered sender gets one more permit to send a chunk
 * (a token bucket of depth {@code burst}). A sender that cannot keep up (back-pressure) simply falls behind.
 */
final class DataPacer implements AutoCloseable {

    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    private final List<Semaphore> buckets = new CopyOnWriteArrayList<>();
    private final int burst;

    DataPacer(long tickMillis, int burst) {
        this.burst = burst;
        ticker.scheduleAtFixedRate(() -> {
            for (Semaphore s : buckets) {
                if (s.availablePermits() < burst) {
                    s.release();
                }
            }
        }, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
    }

    /** A new sender's "before each chunk" step: waits for its next permit. */
    Runnable sender() {
        Semaphore s = new Semaphore(burst);
        buckets.add(s);
        return s::acquireUninterruptibly;
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        for (Semaphore s : buckets) {
            s.release(1 << 20); // whoever still waits goes on (and finds its socket closed)
        }
    }
}
