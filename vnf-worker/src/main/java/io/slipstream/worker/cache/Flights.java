package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.slipstream.worker.cache.policy.ByteRanges;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Request collapsing: at most one origin fetch (a miss, a revalidation or a background revalidation) per
 * primary cache key at a time. The first request for a key leads the flight; the others wait, and when the
 * flight lands each looks the key up again: the stored result serves them all, and when the response was
 * not storable (or did not match their Vary) each then makes its own request, uncollapsed, so that a
 * non-cacheable URL never serialises its clients behind each other.
 *
 * <p>A waiter asking for a range ({@link RangeWaiter}) need not wait for the landing: while the fetch
 * accumulates a complete response of known length ({@link Flight#accumulating}), each such waiter is
 * answered as soon as the bytes of its range have arrived ({@link Flight#arrived}), with a retained slice
 * of the accumulating buffer. The flight holds its own reference to that buffer until it lands, so a slice
 * is never taken of a released buffer, whatever the fetch does meanwhile.
 */
final class Flights {

    private final ConcurrentMap<CacheKey, Flight> flights = new ConcurrentHashMap<>();

    /** A new flight for {@code key} led by the caller, or {@code null} if one is already under way. */
    Flight lead(CacheKey key) {
        Flight fresh = new Flight(key);
        return flights.putIfAbsent(key, fresh) == null ? fresh : null;
    }

    /**
     * Waits for the flight under way for {@code key}: {@code onLanded} runs (on the thread that lands it)
     * when it lands. False if there is none (then the caller may lead one).
     */
    boolean await(CacheKey key, Runnable onLanded) {
        return await(key, onLanded, null, null);
    }

    /**
     * As {@link #await(CacheKey, Runnable)}, for a request that may be answered from the flight's bytes
     * before it lands: {@code early} is asked for its range once the response is known (at {@code now} when
     * it is known already) and served when the range has arrived; then {@code onLanded} never runs.
     */
    boolean await(CacheKey key, Runnable onLanded, RangeWaiter early, Instant now) {
        Flight f = flights.get(key);
        return f != null && f.await(onLanded, early, now);
    }

    int inFlight() {
        return flights.size();
    }

    /** A collapsed request for a range, which may be answered as soon as the range's bytes have arrived. */
    interface RangeWaiter {

        /**
         * The one range to serve from {@code response} ({@code length} bytes) before the flight lands, or
         * {@code null} to wait for the landing (the request does not fit the response, has several ranges,
         * a conditional, ...). Called on any thread; must not touch the waiter's connection.
         */
        ByteRanges.Range range(StoredResponse response, long length, Instant now);

        /**
         * Answers with {@code range} of {@code response}; {@code content} is exactly the range's bytes and
         * passes to the waiter. Called on any thread (the fetch's): the waiter hands it to its own.
         */
        void serve(StoredResponse response, ByteRanges.Range range, long length, ByteBuf content);
    }

    private static final class Waiter {
        final Runnable onLanded;
        RangeWaiter early;
        ByteRanges.Range range;

        Waiter(Runnable onLanded, RangeWaiter early) {
            this.onLanded = onLanded;
            this.early = early;
        }
    }

    /** A waiter answered early: what it is served, taken under the flight's lock. */
    private record Ready(RangeWaiter waiter, StoredResponse response, ByteRanges.Range range, long length,
                         ByteBuf content) {
    }

    /** One fetch under way. */
    final class Flight {
        private final CacheKey key;
        private List<Waiter> waiters = new ArrayList<>();
        /** While accumulating: the response, its length, the buffer (the flight's reference) and bytes in it. */
        private StoredResponse response;
        private long length;
        private ByteBuf body;
        private long received;

        private Flight(CacheKey key) {
            this.key = key;
        }

        private boolean await(Runnable onLanded, RangeWaiter early, Instant now) {
            Ready ready = null;
            synchronized (this) {
                if (waiters == null) {
                    return false;
                }
                Waiter w = new Waiter(onLanded, early);
                if (early != null && body != null) {
                    decide(w, now);
                    if (w.range != null && w.range.last() < received) {
                        ready = take(w);
                    }
                }
                if (ready == null) {
                    waiters.add(w);
                }
            }
            if (ready != null) {
                serve(ready);
            }
            return true;
        }

        /**
         * The fetch accumulates {@code response}, a complete representation of {@code length} bytes arriving
         * in {@code body} from index 0 (its capacity fixed, so slices stay valid): range waiters learn their
         * ranges now. The flight retains {@code body} until it lands. Nothing happens once it has landed.
         */
        void accumulating(StoredResponse response, long length, ByteBuf body, Instant now) {
            synchronized (this) {
                if (waiters == null || this.body != null) {
                    return;
                }
                this.response = response;
                this.length = length;
                this.body = body.retain();
                this.received = 0;
                for (Waiter w : waiters) {
                    decide(w, now);
                }
            }
        }

        /** The first {@code count} bytes of the accumulating body have arrived: serves the waiters they cover. */
        void arrived(long count) {
            List<Ready> ready = null;
            synchronized (this) {
                if (waiters == null || body == null) {
                    return;
                }
                received = count;
                for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
                    Waiter w = it.next();
                    if (w.range != null && w.range.last() < count) {
                        it.remove();
                        if (ready == null) {
                            ready = new ArrayList<>();
                        }
                        ready.add(take(w));
                    }
                }
            }
            if (ready != null) {
                ready.forEach(this::serve);
            }
        }

        private void decide(Waiter w, Instant now) {
            if (w.early != null) {
                w.range = w.early.range(response, length, now);
                if (w.range == null) {
                    w.early = null; // waits for the landing
                }
            }
        }

        /** Under the lock, while {@link #body} is held: the waiter's slice. */
        private Ready take(Waiter w) {
            ByteRanges.Range r = w.range;
            return new Ready(w.early, response, r, length, body.retainedSlice((int) r.first(), (int) r.length()));
        }

        private void serve(Ready r) {
            r.waiter().serve(r.response(), r.range(), r.length(), r.content());
        }

        /** Lands the flight: later requests start their own, the waiters look up again. Idempotent. */
        void land() {
            List<Waiter> toRun;
            ByteBuf held;
            synchronized (this) {
                if (waiters == null) {
                    return;
                }
                toRun = waiters;
                waiters = null;
                held = body;
                body = null;
            }
            if (held != null) {
                held.release();
            }
            flights.remove(key, this);
            for (Waiter w : toRun) {
                w.onLanded.run();
            }
        }
    }
}
