package io.slipstream.worker.cache;

import io.netty.channel.EventLoop;
import io.slipstream.worker.cache.policy.CacheStrategy;
import java.time.Clock;
import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.cache.policy.CacheKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** What every connection of one cache proxy shares: settings, decisions, store, flights, origin pools, counters. */
final class CacheContext {

    final CacheProxySettings settings;
    final CacheStrategy strategy;
    final Clock clock;
    final CacheStore store;
    final Flights flights = new Flights();
    private final Map<EventLoop, OriginPool> pools = new ConcurrentHashMap<>();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder originRequests = new LongAdder();
    /** Body bytes received from origins. */
    final LongAdder originBytes = new LongAdder();
    final LongAdder revalidations = new LongAdder();
    /** Informational (1xx) responses forwarded to clients. */
    final LongAdder informational = new LongAdder();
    /** Stored responses updated by a HEAD response from the origin (RFC 9111 §4.3.5). */
    final LongAdder headRefreshes = new LongAdder();
    /** Hits answered with 206 (a range or several of a stored complete response). */
    final LongAdder rangeHits = new LongAdder();
    final Rejections rejected = new Rejections();
    /** Requests that waited for another's origin fetch instead of making their own. */
    final LongAdder collapsed = new LongAdder();

    /** Requests fetched from the shard member that owns their key. */
    final LongAdder peerFetches = new LongAdder();
    private volatile List<Peer> shardMembers = List.of();

    CacheContext(CacheProxySettings settings) {
        this.settings = settings;
        this.clock = settings.clock;
        this.strategy = settings.cacheTargets.isEmpty() ? CacheStrategy.shared()
                : CacheStrategy.builder().targets(settings.cacheTargets).build();
        this.store = new CacheStore(settings.maxBytes, settings.maxObjectBytes);
    }

    /** The origin pool of {@code loop}. */
    OriginPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop,
                l -> new OriginPool(l, settings.maxIdlePerOrigin, settings.originTimeoutMillis));
    }

    void shardMembers(List<Peer> members) {
        this.shardMembers = List.copyOf(members);
    }

    /**
     * The data endpoint of the shard member that owns {@code key} (rendezvous hashing over the configured
     * members), or {@code null} when this worker owns it or there is no sharding.
     */
    HostPort owner(CacheKey key) {
        List<Peer> members = shardMembers;
        if (members.size() < 2) {
            return null;
        }
        Peer owner = CacheShards.owner(key.value(), members);
        return owner.getWorkerId().equals(settings.workerId) ? null : HostPort.parse(owner.getDataEndpoint());
    }

    Iterable<OriginPool> pools() {
        return pools.values();
    }
}
