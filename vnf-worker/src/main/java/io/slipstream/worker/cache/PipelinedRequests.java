package io.slipstream.worker.cache;

import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The requests of one connection read but not yet taken up, oldest first (HTTP/1.1 pipelining answers
 * them strictly in order). Bounded by back-pressure rather than by refusal: {@link #add} says when the
 * connection should stop reading, {@link #readable} when it may read again. Owns the queued messages until
 * {@link #poll} hands one out or {@link #releaseAll} drops them. Not thread-safe (one event loop).
 */
final class PipelinedRequests {

    /** Above this many queued requests the connection stops reading. */
    static final int MAX_QUEUED = 16;

    private final ArrayDeque<Object> queue = new ArrayDeque<>();

    /** Queues {@code msg}; true when more than {@link #MAX_QUEUED} are now waiting (stop reading). */
    boolean add(Object msg) {
        queue.add(msg);
        return queue.size() > MAX_QUEUED;
    }

    /** The oldest queued request (ownership passes to the caller), or null. */
    Object poll() {
        return queue.poll();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    /** Whether few enough are waiting (at most half the limit) for the connection to read again. */
    boolean readable() {
        return queue.size() <= MAX_QUEUED / 2;
    }

    /** Releases and drops every queued request (the connection is closing). */
    void releaseAll() {
        queue.forEach(ReferenceCountUtil::release);
        queue.clear();
    }
}
