package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.CacheKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Request collapsing: at most one origin fetch (a miss, a revalidation or a background revalidation) per
 * primary cache key at a time. The first request for a key leads the flight; the others wait, and when the
 * flight lands each looks the key up again: the stored result serves them all, and when the response was
 * not storable (or did not match their Vary) each then makes its own request, uncollapsed, so that a
 * non-cacheable URL never serialises its clients behind each other.
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
        Flight f = flights.get(key);
        return f != null && f.await(onLanded);
    }

    int inFlight() {
        return flights.size();
    }

    /** One fetch under way. */
    final class Flight {
        private final CacheKey key;
        private List<Runnable> waiters = new ArrayList<>();

        private Flight(CacheKey key) {
            this.key = key;
        }

        private synchronized boolean await(Runnable onLanded) {
            if (waiters == null) {
                return false;
            }
            waiters.add(onLanded);
            return true;
        }

        /** Lands the flight: later requests start their own, the waiters look up again. Idempotent. */
        void land() {
            List<Runnable> toRun;
            synchronized (this) {
                if (waiters == null) {
                    return;
                }
                toRun = waiters;
                waiters = null;
            }
            flights.remove(key, this);
            for (Runnable r : toRun) {
                r.run();
            }
        }
    }
}
