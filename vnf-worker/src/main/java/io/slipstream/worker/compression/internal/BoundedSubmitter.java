package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.QueueFullException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The queue of a card: at most {@code capacity} submissions waiting or running on {@code threads}
 * workers. A full queue fails the submission at once with {@link QueueFullException}; nothing is
 * buffered beyond the capacity.
 */
public final class BoundedSubmitter implements AutoCloseable {

    private final String name;
    private final int capacity;
    private final Semaphore permits;
    private final AtomicInteger depth = new AtomicInteger();
    private final ExecutorService workers;

    public BoundedSubmitter(String name, int threads, int capacity) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: > 0)");
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.name = name;
        this.capacity = capacity;
        this.permits = new Semaphore(capacity);
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} on a worker; the future fails with QueueFullException when the queue is full. */
    public <T> CompletableFuture<T> submit(Supplier<T> task) {
        if (!permits.tryAcquire()) {
            return CompletableFuture.failedFuture(
                    new QueueFullException(name + ": queue full (" + capacity + " submissions in flight)"));
        }
        depth.incrementAndGet();
        CompletableFuture<T> future = new CompletableFuture<>();
        try {
            workers.execute(() -> {
                T result = null;
                Throwable failure = null;
                try {
                    result = task.get();
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    depth.decrementAndGet();
                    permits.release();
                }
                // Complete after releasing the slot so that a callback can submit the next block.
                if (failure == null) {
                    future.complete(result);
                } else {
                    future.completeExceptionally(failure);
                }
            });
        } catch (RejectedExecutionException e) {
            depth.decrementAndGet();
            permits.release();
            future.completeExceptionally(new QueueFullException(name + ": closed"));
        }
        return future;
    }

    public int depth() {
        return depth.get();
    }

    public int capacity() {
        return capacity;
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
