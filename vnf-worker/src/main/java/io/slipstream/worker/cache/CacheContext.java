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
    final RequestTargets targets;
    final Flights flights = new Flights();
    private final Map<EventLoop, OriginPool> pools = new ConcurrentHashMap<>();
    /** How origins are reached (the cache+wanopt chain), replaced by each configuration. */
    volatile ChainRoutes chainRoutes = ChainRoutes.NONE;
    final ChainCounters chain = new ChainCounters();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder originRequests = new LongAdder();
    /** Body bytes received from origins. */
    final LongAdder originBytes = new LongAdder();
    final LongAdder revalidations = new LongAdder();
    /**
     * Keys of objects known (from a Content-Length) to be larger than the range pass-through size: their
     * Range requests go to the origin as they are. Bounded; an entry is dropped when a full fetch shows the
     * object has become small enough.
     */
    final com.github.benmanes.caffeine.cache.Cache<CacheKey, Boolean> largeObjects =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000).build();
    /** Range requests passed through to the origin because the object is large. */
    final LongAdder rangePassthroughs = new LongAdder();
    /** Ranges served before the whole object had arrived (from an accumulating or streamed fetch). */
    final LongAdder earlyRanges = new LongAdder();
    /** Informational (1xx) responses forwarded to clients. */
    final LongAdder informational = new LongAdder();
    /** Stored responses updated by a HEAD response from the origin (RFC 9111 §4.3.5). */
    final LongAdder headRefreshes = new LongAdder();
    /** Hits answered with 206 (a range or several of a stored complete response). */
    final LongAdder rangeHits = new LongAdder();
    /** Partial responses (206 of a passed-through range, or a range cut from a 200) kept as parts. */
    final LongAdder partsStored = new LongAdder();
    /** Parts not kept: too large, lying framing, another total under the same validator, already complete. */
    final LongAdder partsRefused = new LongAdder();
    /** Range requests answered from held parts (also counted in hits and rangeHits). */
    final LongAdder partialHits = new LongAdder();
    /** Partial objects whose parts came to cover the whole representation, stored as complete responses. */
    final LongAdder partialPromotions = new LongAdder();
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
        this.targets = new RequestTargets(settings);
        if (settings.diskDir != null) {
            // Bytes waiting for the disk are bounded by one memory object (or 64 MiB): a slow disk holds no more.
            long pending = Math.max(64L << 20, settings.maxObjectBytes);
            store.attach(new DiskTier(settings.diskDir, settings.diskBytes, pending, settings.diskOpener).start());
        }
    }

    /** The size above which ranges are passed through to the origin. */
    long rangePassthroughBytes() {
        return settings.rangePassthroughBytes > 0 ? settings.rangePassthroughBytes : store.maxObjectBytes();
    }

    /** The origin pool of {@code loop}. */
    OriginPool pool(EventLoop loop) {
        return pools.computeIfAbsent(loop,
                l -> new OriginPool(l, settings.maxIdlePerOrigin, settings.originTimeoutMillis, () -> chainRoutes,
                        chain));
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
