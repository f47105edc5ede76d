package io.slipstream.worker.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.slipstream.worker.cache.policy.CacheKey;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cache's memory: a Caffeine (W-TinyLFU) cache of primary key to the variants stored under it
 * (secondary keys, RFC 9111 §4.1), weighted by bytes, plus an index of {@code Surrogate-Key} tags.
 *
 * <p>Ownership: each {@link Variants} value holds one reference to each of its entries. Every change
 * builds a new {@code Variants} (retaining the entries it carries over) and the removal listener, which
 * Caffeine calls for every replaced, evicted or invalidated value, releases the old one's references. A
 * reader gets the entries of a snapshot and must {@link CachedResponse#tryRetain()} one before using
 * its buffers.
 */
final class CacheStore implements Closeable {

    /** Per-entry bookkeeping charged on top of the bytes. */
    static final int ENTRY_OVERHEAD = 512;

    private final Cache<CacheKey, Variants> cache;
    private final Map<String, Set<CacheKey>> tags = new ConcurrentHashMap<>();
    private volatile long maxObjectBytes;

    CacheStore(long maxBytes, long maxObjectBytes) {
        checkSizes(maxBytes, maxObjectBytes);
        this.maxObjectBytes = maxObjectBytes;
        this.cache = Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((CacheKey k, Variants v) -> v.weight())
                .executor(Runnable::run)
                .removalListener((CacheKey key, Variants value, RemovalCause cause) -> onRemoval(key, value, cause))
                .build();
    }

    private static void checkSizes(long maxBytes, long maxObjectBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("max_bytes: " + maxBytes + " (expected: > 0)");
        }
        if (maxObjectBytes < 1 || maxObjectBytes > maxBytes || maxObjectBytes > Integer.MAX_VALUE - 1024) {
            throw new IllegalArgumentException("max_object_bytes: " + maxObjectBytes
                    + " (expected: 1..min(max_bytes, 2 GiB - 1 KiB))");
        }
    }

    /** Applies new limits (from the controller's configuration); evicts down to the new budget. */
    void resize(long maxBytes, long maxObjectBytes) {
        checkSizes(maxBytes, maxObjectBytes);
        this.maxObjectBytes = maxObjectBytes;
        cache.policy().eviction().ifPresent(e -> e.setMaximum(maxBytes));
    }

    long maxObjectBytes() {
        return maxObjectBytes;
    }

    /** The entries stored under {@code key} (a snapshot; retain one before touching its buffers). */
    List<CachedResponse> variants(CacheKey key) {
        Variants v = cache.getIfPresent(key);
        return v == null ? List.of() : v.entries;
    }

    /**
     * Stores {@code entry} under {@code key}, replacing the variant with the same secondary key. The store
     * takes its own reference; the caller keeps its one.
     */
    void put(CacheKey key, CachedResponse entry) {
        cache.asMap().compute(key, (k, old) -> {
            List<CachedResponse> list = new ArrayList<>();
            if (old != null) {
                for (CachedResponse e : old.entries) {
                    if (!e.secondaryKey().equals(entry.secondaryKey()) && e.tryRetain()) {
                        list.add(e);
                    }
                }
            }
            entry.tryRetain();
            list.add(entry);
            return new Variants(list);
        });
        for (String tag : entry.tags()) {
            tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
        }
    }

    /** Replaces {@code old} by {@code fresh} if {@code old} is still stored (after a 304); else stores fresh. */
    void replace(CacheKey key, CachedResponse old, CachedResponse fresh) {
        cache.asMap().compute(key, (k, current) -> {
            List<CachedResponse> list = new ArrayList<>();
            if (current != null) {
                for (CachedResponse e : current.entries) {
                    if (e != old && !e.secondaryKey().equals(fresh.secondaryKey()) && e.tryRetain()) {
                        list.add(e);
                    }
                }
            }
            fresh.tryRetain();
            list.add(fresh);
            return new Variants(list);
        });
    }

    /** Removes (or, {@code soft}, marks stale) every entry whose key starts with {@code prefix}; how many. */
    int purgePrefix(String prefix, boolean soft) {
        int n = 0;
        for (CacheKey key : List.copyOf(cache.asMap().keySet())) {
            if (key.value().startsWith(prefix)) {
                if (soft) {
                    n += softPurge(key);
                } else {
                    n += variants(key).size();
                    remove(key);
                }
            }
        }
        return n;
    }

    /** Removes everything stored under {@code key}; true if something was. */
    boolean remove(CacheKey key) {
        return cache.asMap().remove(key) != null;
    }

    /** Marks every variant under {@code key} as to be revalidated; the number of entries marked. */
    int softPurge(CacheKey key) {
        int n = 0;
        for (CachedResponse e : variants(key)) {
            e.markSoftPurged();
            n++;
        }
        return n;
    }

    /** Purges every entry tagged {@code tag} ({@code Surrogate-Key}); soft marks them stale instead. */
    int purgeTag(String tag, boolean soft) {
        Set<CacheKey> keys = tags.get(tag);
        if (keys == null) {
            return 0;
        }
        int n = 0;
        for (CacheKey key : List.copyOf(keys)) {
            for (CachedResponse e : variants(key)) {
                if (e.tags().contains(tag)) {
                    n++;
                    if (soft) {
                        e.markSoftPurged();
                    }
                }
            }
            if (!soft) {
                cache.asMap().computeIfPresent(key, (k, current) -> {
                    List<CachedResponse> list = new ArrayList<>();
                    for (CachedResponse e : current.entries) {
                        if (!e.tags().contains(tag) && e.tryRetain()) {
                            list.add(e);
                        }
                    }
                    return list.isEmpty() ? null : new Variants(list);
                });
            }
        }
        return n;
    }

    long weightedSize() {
        cache.cleanUp();
        return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    long entryCount() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    private void onRemoval(CacheKey key, Variants value, RemovalCause cause) {
        if (value == null) {
            return;
        }
        if (cause != RemovalCause.REPLACED) {
            for (CachedResponse e : value.entries) {
                for (String tag : e.tags()) {
                    tags.computeIfPresent(tag, (t, set) -> {
                        set.remove(key);
                        return set.isEmpty() ? null : set;
                    });
                }
            }
        }
        value.release();
    }

    /** Releases every stored entry. */
    @Override
    public void close() {
        cache.invalidateAll();
        cache.cleanUp();
    }

    /** The variants under one primary key; holds one reference to each entry. */
    static final class Variants {
        final List<CachedResponse> entries;
        private final int weight;

        Variants(List<CachedResponse> entries) {
            this.entries = List.copyOf(entries);
            long w = 0;
            for (CachedResponse e : entries) {
                w += e.bytes() + ENTRY_OVERHEAD;
            }
            this.weight = (int) Math.min(Integer.MAX_VALUE, w);
        }

        int weight() {
            return weight;
        }

        void release() {
            for (CachedResponse e : entries) {
                e.release();
            }
        }
    }
}
