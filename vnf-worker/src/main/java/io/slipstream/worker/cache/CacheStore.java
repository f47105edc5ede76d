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
    /** Told of every entry this store drops (not carried over to a new value); the disk tier deletes its file. */
    private final java.util.function.Consumer<CachedResponse> onDrop;
    /** Where entries evicted for size go (the disk tier), or null. */
    private volatile DiskTier disk;

    CacheStore(long maxBytes, long maxObjectBytes) {
        this(maxBytes, maxObjectBytes, e -> { });
    }

    CacheStore(long maxBytes, long maxObjectBytes, java.util.function.Consumer<CachedResponse> onDrop) {
        checkSizes(maxBytes, maxObjectBytes);
        this.onDrop = onDrop;
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

    /** Entries evicted for size are written to {@code tier}; lookups that miss here look there. */
    void attach(DiskTier tier) {
        this.disk = tier;
    }

    DiskTier disk() {
        return disk;
    }

    /**
     * The entries stored under {@code key} (a snapshot; retain one before touching its buffers): those in
     * memory, or when there are none, those in the disk tier.
     */
    List<CachedResponse> variants(CacheKey key) {
        Variants v = cache.getIfPresent(key);
        if (v != null) {
            return v.entries;
        }
        DiskTier d = disk;
        return d == null ? List.of() : d.variants(key, this);
    }

    /** Stores {@code entry} unless a variant with its secondary key is stored already; true if stored. */
    boolean putIfAbsent(CacheKey key, CachedResponse entry) {
        boolean[] stored = {false};
        cache.asMap().compute(key, (k, old) -> {
            // Always a new value (retaining what it carries over): the replaced one is released by the listener.
            List<CachedResponse> list = new ArrayList<>();
            boolean present = false;
            if (old != null) {
                for (CachedResponse e : old.entries) {
                    present |= e.secondaryKey().equals(entry.secondaryKey());
                    if (e.tryRetain()) {
                        list.add(e);
                    }
                }
            }
            if (!present) {
                entry.tryRetain();
                list.add(entry);
                stored[0] = true;
            }
            return list.isEmpty() ? null : new Variants(list);
        });
        if (stored[0]) {
            for (String tag : entry.tags()) {
                tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
            }
        }
        return stored[0];
    }

    /**
     * Stores {@code entry} under {@code key}, replacing the variant with the same secondary key. The store
     * takes its own reference; the caller keeps its one.
     */
    void put(CacheKey key, CachedResponse entry) {
        List<CachedResponse> gone = new ArrayList<>();
        cache.asMap().compute(key, (k, old) -> {
            List<CachedResponse> list = new ArrayList<>();
            if (old != null) {
                for (CachedResponse e : old.entries) {
                    if (!e.secondaryKey().equals(entry.secondaryKey()) && e.tryRetain()) {
                        list.add(e);
                    } else {
                        gone.add(e);
                    }
                }
            }
            entry.tryRetain();
            list.add(entry);
            return new Variants(list);
        });
        dropped(gone, entry);
        for (String tag : entry.tags()) {
            tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
        }
    }

    /** Replaces {@code old} by {@code fresh} if {@code old} is still stored (after a 304); else stores fresh. */
    void replace(CacheKey key, CachedResponse old, CachedResponse fresh) {
        DiskTier d = disk;
        if (fresh.file() != null && d != null) {
            d.index().replace(key, old, fresh); // a freshened disk entry stays on disk, not in the memory budget
            return;
        }
        List<CachedResponse> gone = new ArrayList<>();
        cache.asMap().compute(key, (k, current) -> {
            List<CachedResponse> list = new ArrayList<>();
            if (current != null) {
                for (CachedResponse e : current.entries) {
                    if (e != old && !e.secondaryKey().equals(fresh.secondaryKey()) && e.tryRetain()) {
                        list.add(e);
                    } else {
                        gone.add(e);
                    }
                }
            }
            fresh.tryRetain();
            list.add(fresh);
            return new Variants(list);
        });
        dropped(gone, fresh);
    }

    private void dropped(List<CachedResponse> gone, CachedResponse survivor) {
        for (CachedResponse e : gone) {
            if (e.file() == null || !e.file().equals(survivor.file())) {
                onDrop.accept(e);
            }
        }
    }

    /** Removes (or, {@code soft}, marks stale) every entry whose key starts with {@code prefix}; how many. */
    int purgePrefix(String prefix, boolean soft) {
        DiskTier d = disk;
        // On disk a soft purge removes: the file would forget the mark at a restart (docs/cache.md).
        if (d != null) {
            d.cancelPending((k, t) -> k.value().startsWith(prefix));
        }
        int n = d == null ? 0 : d.index().purgePrefix(prefix, false);
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

    /** Removes the variant {@code entry} from under {@code key} if it is stored there. */
    void removeVariant(CacheKey key, CachedResponse entry) {
        Variants v = cache.getIfPresent(key);
        if (v == null || !v.entries.contains(entry)) {
            return;
        }
        cache.asMap().computeIfPresent(key, (k, current) -> {
            List<CachedResponse> list = new ArrayList<>();
            for (CachedResponse e : current.entries) {
                if (e != entry && e.tryRetain()) {
                    list.add(e);
                }
            }
            return list.isEmpty() ? null : new Variants(list);
        });
    }

    /** Removes everything stored under {@code key}; true if something was. */
    boolean remove(CacheKey key) {
        DiskTier d = disk;
        if (d != null) {
            d.cancelPending((k, t) -> k.equals(key));
        }
        boolean onDisk = d != null && d.index().remove(key);
        return cache.asMap().remove(key) != null || onDisk;
    }

    /** Marks every variant under {@code key} as to be revalidated; the number of entries marked. */
    int softPurge(CacheKey key) {
        DiskTier d = disk;
        int n = 0;
        if (d != null) {
            d.cancelPending((k, t) -> k.equals(key));
            n = d.index().variants(key).size();
            d.index().remove(key);
        }
        Variants v = cache.getIfPresent(key);
        for (CachedResponse e : v == null ? List.<CachedResponse>of() : v.entries) {
            e.markSoftPurged();
            n++;
        }
        return n;
    }

    /** Purges every entry tagged {@code tag} ({@code Surrogate-Key}); soft marks them stale instead. */
    int purgeTag(String tag, boolean soft) {
        DiskTier d = disk;
        if (d != null) {
            d.cancelPending((k, t) -> t.contains(tag));
        }
        int n = d == null ? 0 : d.index().purgeTag(tag, false);
        Set<CacheKey> keys = tags.get(tag);
        if (keys == null) {
            return n;
        }
        for (CacheKey key : List.copyOf(keys)) {
            Variants held = cache.getIfPresent(key);
            for (CachedResponse e : held == null ? List.<CachedResponse>of() : held.entries) {
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
                        } else {
                            onDrop.accept(e);
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
            DiskTier d = disk;
            for (CachedResponse e : value.entries) {
                if (cause == RemovalCause.SIZE && d != null && !e.persisted() && e.file() == null
                        && e.tryRetain()) {
                    d.spill(key, e); // the library larger than memory goes on to disk
                }
                onDrop.accept(e);
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
        disk = null;
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
