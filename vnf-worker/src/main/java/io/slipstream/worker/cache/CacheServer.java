package io.slipstream.worker.cache;

import io.slipstream.worker.net.Transport;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.slipstream.proto.v1.CacheSettings;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache role of a worker: the HTTP caching proxy's listener (its data endpoint), event loops, store
 * and origin pools; bootstrap and lifecycle only. The pipeline is {@link CacheServerInitializer}'s, the
 * per-request logic {@link CacheFrontendHandler}'s and {@link OriginFetch}'s.
 */
public final class CacheServer implements Closeable {

    private static final Transport TRANSPORT = Transport.best();

    private static final Logger log = LoggerFactory.getLogger(CacheServer.class);

    private final CacheProxySettings settings;
    private final CacheContext cache;
    private EventLoopGroup group;
    private Channel listener;

    public CacheServer(CacheProxySettings settings) {
        this.settings = settings;
        this.cache = new CacheContext(settings);
    }

    /** Binds the listener and, with an origin configured, pre-opens keep-alive connections on every loop. */
    public CacheServer start() throws InterruptedException {
        group = TRANSPORT.newGroup(settings.threads);
        listener = new ServerBootstrap().group(group).channel(TRANSPORT.serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new CacheServerInitializer(cache))
                .bind(settings.bindHost, settings.port).sync().channel();
        if (settings.originAddress != null && settings.preopen > 0) {
            for (EventExecutor e : group) {
                cache.pool((EventLoop) e).preopen(settings.originAddress, settings.preopen);
            }
        }
        log.info("cache {}: proxy on {} ({}), origin {}, store {} bytes (objects up to {})", settings.workerId, address(),
                TRANSPORT.describe(),
                settings.origin == null ? "none (forward proxy)" : settings.origin, settings.maxBytes,
                settings.maxObjectBytes);
        return this;
    }

    /** The proxy's bound address (the worker's data endpoint). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /**
     * Applies the controller's configuration: store limits (0 keeps the defaults) and the shard members
     * (this worker among them) over which cache keys are spread by rendezvous hashing.
     */
    public void apply(CacheSettings config) {
        long maxBytes = config.getMaxBytes() == 0 ? CacheProxySettings.DEFAULT_MAX_BYTES : config.getMaxBytes();
        long maxObject = config.getMaxObjectBytes() == 0
                ? Math.min(CacheProxySettings.DEFAULT_MAX_OBJECT_BYTES, maxBytes) : config.getMaxObjectBytes();
        try {
            cache.store.resize(maxBytes, maxObject);
        } catch (IllegalArgumentException e) {
            log.warn("cache {}: store limits not applied: {}", settings.workerId, e.getMessage());
        }
        cache.shardMembers(config.getShardMembersList());
    }

    /**
     * Applies the controller's {@code cache+wanopt} routes: origins at other sites that such a policy covers are
     * fetched through a wanopt worker of this site from now on; connections in flight finish on their route, idle
     * ones through a wanopt worker no longer in the chain are closed (its drain need not wait for them).
     */
    public void chain(ChainRoutes routes) {
        cache.chainRoutes = routes;
        for (OriginPool pool : cache.pools()) {
            pool.retireHops(routes);
        }
    }

    /** Origin fetches sent through a wanopt worker (cache+wanopt chain). */
    public long chainFetches() {
        return cache.chain.tunneled.sum();
    }

    /** Body bytes received from origins through the chain's tunnel. */
    public long chainOriginBytes() {
        return cache.chain.originBytes.sum();
    }

    /** Binds hit/miss/origin counters and store gauges as {@code slipstream.cache.*}. */
    public CacheServer bindMetrics(MeterRegistry meters) {
        counter(meters, "slipstream.cache.hits", cache.hits);
        counter(meters, "slipstream.cache.misses", cache.misses);
        counter(meters, "slipstream.cache.origin.requests", cache.originRequests);
        counter(meters, "slipstream.cache.origin.bytes", cache.originBytes);
        counter(meters, "slipstream.cache.revalidations", cache.revalidations);
        counter(meters, "slipstream.cache.peer.fetches", cache.peerFetches);
        counter(meters, "slipstream.cache.partial.parts", cache.partsStored);
        counter(meters, "slipstream.cache.partial.refused", cache.partsRefused);
        counter(meters, "slipstream.cache.partial.hits", cache.partialHits);
        counter(meters, "slipstream.cache.partial.promotions", cache.partialPromotions);
        cache.rejected.bind(meters);
        cache.chain.bind(meters);
        Gauge.builder("slipstream.cache.store.bytes", cache.store, CacheStore::weightedSize).register(meters);
        Gauge.builder("slipstream.cache.store.keys", cache.store, CacheStore::entryCount).register(meters);
        DiskTier disk = cache.store.disk();
        if (disk != null) {
            Gauge.builder("slipstream.cache.disk.bytes", disk, DiskTier::bytes).register(meters);
            Gauge.builder("slipstream.cache.disk.keys", disk, DiskTier::entries).register(meters);
            counter(meters, "slipstream.cache.disk.writes", disk.writes);
            counter(meters, "slipstream.cache.disk.write.failures", disk.writeFailures);
            counter(meters, "slipstream.cache.disk.writes.dropped", disk.dropped);
            counter(meters, "slipstream.cache.disk.corrupt", disk.corrupt);
            counter(meters, "slipstream.cache.disk.recovered", disk.recovered);
            counter(meters, "slipstream.cache.disk.promotions", disk.promotions);
        }
        return this;
    }

    private static void counter(MeterRegistry meters, String name, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum).register(meters);
    }

    /** Requests answered from the store. */
    public long hits() {
        return cache.hits.sum();
    }

    /** Requests not answered from the store. */
    public long misses() {
        return cache.misses.sum();
    }

    /** Requests fetched from the shard member owning their key. */
    public long peerFetches() {
        return cache.peerFetches.sum();
    }

    /** Requests sent to an origin (misses, revalidations, retries). */
    public long originRequests() {
        return cache.originRequests.sum();
    }

    /** Body bytes received from origins. */
    public long originBytes() {
        return cache.originBytes.sum();
    }

    long storedBytes() {
        return cache.store.weightedSize();
    }

    EventLoopGroup group() {
        return group;
    }

    /**
     * Purges what one request of the controller names: exactly one of an absolute {@code url}, a key
     * {@code prefix} or Surrogate-Key {@code tags}. Returns the number of entries removed (or, {@code soft},
     * marked stale).
     *
     * @throws IllegalArgumentException naming what was expected when none or more than one is given
     */
    public int purge(String url, String prefix, java.util.List<String> tags, boolean soft) {
        int given = (url.isEmpty() ? 0 : 1) + (prefix.isEmpty() ? 0 : 1) + (tags.isEmpty() ? 0 : 1);
        if (given != 1) {
            throw new IllegalArgumentException("purge: url '" + url + "', prefix '" + prefix + "', tags " + tags
                    + " (expected: exactly one of url, prefix or tags)");
        }
        if (!url.isEmpty()) {
            io.slipstream.worker.cache.policy.CacheKey key;
            try {
                key = io.slipstream.worker.cache.policy.CacheKey.of(java.net.URI.create(url));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("url: '" + url + "' (expected: an absolute http:// URL)");
            }
            if (soft) {
                return cache.store.softPurge(key);
            }
            int n = cache.store.variants(key).size();
            cache.store.remove(key);
            return n;
        }
        if (!prefix.isEmpty()) {
            if (!prefix.matches("(?i)https?://[^/\\s]+.*")) {
                throw new IllegalArgumentException("prefix: '" + prefix + "' (expected: http://host[:port][/path...])");
            }
            return cache.store.purgePrefix(prefix, soft);
        }
        int n = 0;
        for (String tag : tags) {
            n += cache.store.purgeTag(tag, soft);
        }
        return n;
    }

    CacheContext context() {
        return cache;
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        DiskTier disk = cache.store.disk();
        if (disk != null) {
            disk.close();
        }
        cache.store.close();
    }
}
