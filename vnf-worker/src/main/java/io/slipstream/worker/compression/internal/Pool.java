package io.slipstream.worker.compression.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A small pool of non-thread-safe native contexts (zstd contexts, Deflaters, QAT sessions) so that a
 * thread-safe engine does not create one per block. Idle contexts are kept up to {@code maxIdle}.
 */
public final class Pool<T> implements AutoCloseable {

    private final ConcurrentLinkedQueue<T> idle = new ConcurrentLinkedQueue<>();
    private final Supplier<T> factory;
    private final Consumer<T> closer;
    private final int maxIdle;
    private volatile boolean closed;

    public Pool(Supplier<T> factory, Consumer<T> closer, int maxIdle) {
        this.factory = factory;
        this.closer = closer;
        this.maxIdle = maxIdle;
    }

    public T borrow() {
        T t = idle.poll();
        return t != null ? t : factory.get();
    }

    /** Returns a context after use; pass {@code broken = true} when it must not be reused. */
    public void release(T t, boolean broken) {
        if (broken || closed || idle.size() >= maxIdle) {
            closer.accept(t);
            return;
        }
        idle.offer(t);
        if (closed && idle.remove(t)) {
            closer.accept(t);
        }
    }

    @Override
    public void close() {
        closed = true;
        T t;
        while ((t = idle.poll()) != null) {
            closer.accept(t);
        }
    }
}
