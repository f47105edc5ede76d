package io.slipstream.worker.cache;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The reference count of a stored object shared by readers and the store: it starts at one (the store's),
 * and once it reached zero it never comes back, so a reader that finds the object just as it is evicted
 * cannot resurrect released buffers. Thread-safe.
 */
final class RefCount {

    private final AtomicInteger refs = new AtomicInteger(1);

    /** Takes a reference unless the object has already been released; never resurrects it. */
    boolean tryRetain() {
        for (;;) {
            int n = refs.get();
            if (n == 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /**
     * Gives up one reference of {@code owner}; true when it was the last one (the owner releases its buffers).
     *
     * @throws IllegalStateException when released more often than retained
     */
    boolean release(Object owner) {
        int n = refs.decrementAndGet();
        if (n < 0) {
            throw new IllegalStateException("released more often than retained: " + owner);
        }
        return n == 0;
    }

    int get() {
        return refs.get();
    }
}
