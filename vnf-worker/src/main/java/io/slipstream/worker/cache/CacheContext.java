package io.slipstream.worker.cache;

import io.netty.channel.EventLoop;
import io.slipstream.worker.cache.policy.CacheStrategy;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** What every connection of one cache proxy shares: settings, decisions, store, flights, origin pools, counters. */
final class CacheContext {

    final CacheProxySettings settings;
    final CacheStrategy strategy = CacheStrategy.shared();
    final Clock clock;
    final CacheStore store;
    final Flights flights = new Flights();
    private final Map<EventLoop, OriginPool> pools = new ConcurrentHashMap<>();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder originRequests = new LongAdder();
    final LongAdder revalidations = new LongAdder();
    final LongAdder rejected = new LongAdder();
    /** Requests that waited for another's origin fetch instead of making their own. */
    final LongAdder collapsed = new LongAdder();

    CacheContext(CacheProxySettings settings) {
        this.settings = settings;
        this.clock = settings.clock;
        this.store = new CacheStore(settings.maxBytes, settings.maxObjectBytes);
    }

    /** The origin pool of {@code loop}. */
    OriginPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop,
                l -> new OriginPool(l, settings.maxIdlePerOrigin, settings.originTimeoutMillis));
    }

    Iterable<OriginPool> pools() {
        return pools.values();
    }
}
