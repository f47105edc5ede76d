package io.slipstream.worker.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.io.Closeable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cache's memory: a Caffeine (W-TinyLFU) cache of primary key to the variants stored under it
 * (secondary keys, RFC 9111 §4.1), weighted by bytes, plus an index of {@code Surrogate-Key} tags. A key
 * with no complete variant may hold a {@link PartialObject} instead: the ranges received so far of its
 * representation, weighed and evicted with the rest (RFC 9111 §3.3, §3.4); evicted for size, both go on to
 * the disk tier when there is one.
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
        if (v != null && !v.entries.isEmpty()) {
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
        DiskTier d = disk;
        if (d != null) {
            // A complete response makes parts unnecessary, in either tier (as putting one here drops ours).
            d.cancelPartialSpills(key, null);
            d.index().dropPartialIf(key, p -> true);
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
                    n += variants(key).size() + (partial(key) != null ? 1 : 0);
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
            n = d.index().variants(key).size() + (d.index().partial(key) != null ? 1 : 0);
            d.index().remove(key);
        }
        Variants v = cache.getIfPresent(key);
        for (CachedResponse e : v == null ? List.<CachedResponse>of() : v.entries) {
            e.markSoftPurged();
            n++;
        }
        if (v != null && v.partial != null) {
            n += dropPartial(key, p -> true); // parts cannot be revalidated: a soft purge removes them
        }
        return n;
    }

    /** Removes the partial object under {@code key} if {@code which} says so (keeping the complete variants); 1 if it did. */
    int dropPartialIf(CacheKey key, java.util.function.Predicate<PartialObject> which) {
        return dropPartial(key, which);
    }

    private int dropPartial(CacheKey key, java.util.function.Predicate<PartialObject> which) {
        int[] n = {0};
        cache.asMap().computeIfPresent(key, (k, current) -> {
            if (current.partial == null || !which.test(current.partial)) {
                return carry(current, current.partial);
            }
            n[0] = 1;
            return carry(current, null);
        });
        return n[0];
    }

    /** A new value with {@code current}'s complete variants (retained) and {@code partial} (retained), or null. */
    private static Variants carry(Variants current, PartialObject partial) {
        List<CachedResponse> list = new ArrayList<>();
        for (CachedResponse e : current.entries) {
            if (e.tryRetain()) {
                list.add(e);
            }
        }
        PartialObject p = partial != null && partial.tryRetain() ? partial : null;
        return list.isEmpty() && p == null ? null : new Variants(list, p);
    }

    /**
     * Drops the partial object under {@code key} unless it is of the representation named by the strong
     * {@code validator} ({@link PartialContent#strongValidator}; null: none, so any held parts go): a response
     * of another representation was seen and its parts, if any, could not be kept, so the old ones must not be
     * served beside it. 1 if it dropped one.
     */
    int dropPartialUnless(CacheKey key, String validator) {
        int n = 0;
        DiskTier d = disk;
        if (d != null) {
            d.cancelPartialSpills(key, validator);
            n += d.index().dropPartialUnless(key, validator);
        }
        Variants v = cache.getIfPresent(key);
        if (v == null || v.partial == null || v.partial.held().validator().equals(validator)) {
            return n;
        }
        return n + dropPartial(key, p -> !p.held().validator().equals(validator));
    }

    /**
     * The partial object held under {@code key}, or null (retain it before touching its segments): the memory
     * tier's, or when memory holds nothing under the key, the disk tier's.
     */
    PartialObject partial(CacheKey key) {
        Variants v = cache.getIfPresent(key);
        if (v != null) {
            return v.partial;
        }
        DiskTier d = disk;
        return d == null ? null : d.index().partial(key);
    }

    /**
     * Adds the ranges of {@code incoming} (the disk tier's partial object of one file) to the partial object held
     * under {@code key}, as the disk tier's index: of the same representation (strong validator) they are
     * combined, bytes already held not taken again, as long as at most {@code maxHeld} bytes are held (else
     * nothing of it is taken); of another representation the newer by response time is kept alone; the same
     * validator with another complete length (a lying origin) drops everything; nothing is held beside a
     * complete variant. The store takes its own references; true if any of {@code incoming}'s bytes are held.
     */
    boolean mergePartial(CacheKey key, PartialObject incoming, long maxHeld) {
        boolean[] kept = {false};
        PartialContent.Held in = incoming.held();
        cache.asMap().compute(key, (k, old) -> {
            kept[0] = false;
            if (old != null && !old.entries.isEmpty()) {
                return carry(old, old.partial);
            }
            PartialObject held = old == null ? null : old.partial;
            if (held == null || !held.held().validator().equals(in.validator())) {
                if (held != null && held.stored().responseTime().isAfter(incoming.stored().responseTime())
                        || in.bytes() > maxHeld || !incoming.tryRetain()) {
                    return old == null ? null : carry(old, held);
                }
                kept[0] = true;
                return new Variants(List.of(), incoming);
            }
            if (held.completeLength() != incoming.completeLength()) {
                return null;
            }
            List<Range> ranges = held.held().ranges();
            List<PartialObject.Segment> added = new ArrayList<>();
            long bytes = held.held().bytes();
            for (PartialObject.Segment seg : incoming.segments()) {
                Range r = new Range(seg.first(), seg.last());
                for (Range a : PartialContent.missing(ranges, r)) {
                    ByteBuf b = seg.bytes();
                    added.add(new PartialObject.Segment(a.first(),
                            b.retainedSlice(b.readerIndex() + (int) (a.first() - seg.first()), (int) a.length())));
                    bytes += a.length();
                }
                ranges = PartialContent.union(ranges, r);
            }
            if (added.isEmpty() || bytes > maxHeld) {
                added.forEach(a -> a.bytes().release());
                return carry(old, held);
            }
            kept[0] = true;
            boolean newer = !held.stored().responseTime().isAfter(incoming.stored().responseTime());
            return new Variants(List.of(), held.with(newer ? incoming.stored() : held.stored(),
                    new PartialContent.Held(in.validator(), in.completeLength(), ranges), added,
                    newer ? incoming.tags() : held.tags()));
        });
        if (kept[0]) {
            for (String tag : incoming.tags()) {
                tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
            }
        }
        return kept[0];
    }

    /** Takes the partial object under {@code key} out of the store; the caller owns the returned reference. */
    private PartialObject takePartial(CacheKey key) {
        PartialObject[] taken = {null};
        cache.asMap().computeIfPresent(key, (k, current) -> {
            if (current.partial != null && current.partial.tryRetain()) {
                taken[0] = current.partial;
            }
            return carry(current, null);
        });
        return taken[0];
    }

    /** What {@link #addPart} did with a part. */
    enum PartOutcome {
        /** Held alone (nothing was held, or the parts held were of another representation and are gone). */
        STORED,
        /** Combined with the parts held. */
        COMBINED,
        /** Combined, and the parts now make up the whole representation: stored as a complete response. */
        PROMOTED,
        /**
         * Everything held was dropped: the same validator with another complete length, or another validator
         * on a part too large to hold.
         */
        DROPPED,
        /** Holding it would exceed {@code max_object_bytes} for the object: not stored. */
        TOO_LARGE,
        /**
         * Holding it would exceed {@code max_object_bytes}, so the object's parts belong in the disk tier (as a
         * complete object this large is spooled there): the part, and those held here, were handed to it.
         */
        ON_DISK,
        /** A complete response is stored under the key: the part is not needed. */
        COMPLETE_HELD
    }

    /**
     * Adds a part of the representation under {@code key} ({@link PartialContent#combine}, at most
     * {@code max_object_bytes} held per object). {@code part} must be storable, {@code partHead} is its
     * response head as stored ({@code forStorage}), {@code content} exactly its bytes (ownership passes).
     * When the parts then cover the whole representation they become a complete stored 200 response.
     */
    PartOutcome addPart(CacheKey key, PartialContent.Part part, ResponseHead partHead, RequestHead request,
                        Instant requestTime, Instant responseTime, ByteBuf content) {
        PartOutcome[] outcome = {null};
        PartialObject[] created = {null};
        PartialContent.ContentRange cr = part.contentRange();
        // Parts the disk tier holds of the object (evicted from here) are combined with the new one and come
        // back to memory; the disk tier's copy is dropped then.
        DiskTier d = disk;
        PartialObject onDisk = null;
        if (d != null && cache.getIfPresent(key) == null) {
            onDisk = d.index().partial(key);
            if (onDisk != null && !onDisk.tryRetain()) {
                onDisk = null;
            }
        }
        PartialObject fromDisk = onDisk;
        boolean[] usedDisk = {false};
        try {
            cache.asMap().compute(key, (k, old) -> {
                usedDisk[0] = false;
                if (old != null && !old.entries.isEmpty()) {
                    outcome[0] = PartOutcome.COMPLETE_HELD;
                    return carry(old, null);
                }
                PartialObject held = old == null ? null : old.partial;
                if (held == null && fromDisk != null) {
                    held = fromDisk;
                    usedDisk[0] = true;
                }
                PartialContent.Combination c = PartialContent.combine(held == null ? null : held.held(), part,
                        maxObjectBytes);
                if (c.action() == PartialContent.Action.DROP_ALL) {
                    outcome[0] = PartOutcome.DROPPED;
                    return null;
                }
                if (c.action() == PartialContent.Action.TOO_LARGE) {
                    outcome[0] = PartOutcome.TOO_LARGE;
                    usedDisk[0] = false; // what the disk tier holds stays there
                    return old == null ? null : carry(old, old.partial);
                }
                List<PartialObject.Segment> added = new ArrayList<>();
                for (Range a : c.added()) {
                    int offset = content.readerIndex() + (int) (a.first() - cr.first());
                    ByteBuf b = a.length() == cr.length() ? content.retainedSlice(offset, (int) a.length())
                            : PooledByteBufAllocator.DEFAULT.directBuffer((int) a.length())
                                    .writeBytes(content, offset, (int) a.length());
                    added.add(new PartialObject.Segment(a.first(), b));
                }
                boolean combine = c.action() == PartialContent.Action.COMBINE;
                ResponseHead head = PartialContent.combinedHead(combine ? held.stored().response() : null, partHead);
                StoredResponse stored = StoredResponse.of(request, head, requestTime, responseTime);
                PartialContent.Held newHeld = new PartialContent.Held(part.validator(), cr.completeLength(),
                        c.ranges());
                java.util.Set<String> tags = HttpMessages.tags(head.headers());
                PartialObject p = combine ? held.with(stored, newHeld, added, tags)
                        : new PartialObject(stored, newHeld, added, tags);
                outcome[0] = combine ? PartOutcome.COMBINED : PartOutcome.STORED;
                p.tryRetain();
                created[0] = p;
                return new Variants(List.of(), p);
            });
            if (outcome[0] == PartOutcome.TOO_LARGE && d != null && d.takesWrites()) {
                PartialObject inMemory = takePartial(key);
                if (inMemory != null) {
                    d.spillPartial(key, inMemory);
                }
                ResponseHead head = PartialContent.combinedHead(null, partHead);
                Range r = cr.range();
                PartialObject alone = new PartialObject(StoredResponse.of(request, head, requestTime, responseTime),
                        new PartialContent.Held(part.validator(), cr.completeLength(), List.of(r)),
                        List.of(new PartialObject.Segment(r.first(), content.retainedSlice(content.readerIndex(),
                                (int) r.length()))), HttpMessages.tags(head.headers()));
                d.spillPartial(key, alone); // written after the ones held here, and combined with them
                outcome[0] = PartOutcome.ON_DISK;
            }
        } finally {
            content.release();
            if (fromDisk != null) {
                if (usedDisk[0]) {
                    d.index().dropPartialIf(key, x -> x == fromDisk); // combined here, or of an older representation
                }
                fromDisk.release();
            }
        }
        PartialObject p = created[0];
        if (p == null) {
            return outcome[0];
        }
        try {
            for (String tag : p.tags()) {
                tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
            }
            Variants now = cache.getIfPresent(key);
            if (PartialContent.complete(p.held().ranges(), p.completeLength()) && now != null && now.partial == p) {
                ByteBuf body = p.copyWhole(PooledByteBufAllocator.DEFAULT);
                CachedResponse entry = CachedResponse.encode(PooledByteBufAllocator.DEFAULT, p.stored(), Map.of(),
                        p.tags(), body);
                put(key, entry);
                entry.release();
                return PartOutcome.PROMOTED;
            }
            return outcome[0];
        } finally {
            p.release();
        }
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
            if (held != null && held.partial != null) {
                n += dropPartial(key, p -> p.tags().contains(tag));
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
                    // A partial object tagged so was dropped above; one that is not stays.
                    PartialObject p = current.partial != null && !current.partial.tags().contains(tag)
                            && current.partial.tryRetain() ? current.partial : null;
                    return list.isEmpty() && p == null ? null : new Variants(list, p);
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
                untag(key, e.tags());
            }
            if (value.partial != null) {
                if (cause == RemovalCause.SIZE && d != null && value.partial.tryRetain()) {
                    d.spillPartial(key, value.partial); // parts evicted for size go on to disk too
                }
                untag(key, value.partial.tags());
            }
        }
        value.release();
    }

    private void untag(CacheKey key, Set<String> entryTags) {
        for (String tag : entryTags) {
            tags.computeIfPresent(tag, (t, set) -> {
                set.remove(key);
                return set.isEmpty() ? null : set;
            });
        }
    }

    /** Releases every stored entry. */
    @Override
    public void close() {
        disk = null;
        cache.invalidateAll();
        cache.cleanUp();
    }

    /**
     * The variants under one primary key, and the partial object of a key without complete variants; holds one
     * reference to each entry and to the partial object.
     */
    static final class Variants {
        final List<CachedResponse> entries;
        final PartialObject partial;
        private final int weight;

        Variants(List<CachedResponse> entries) {
            this(entries, null);
        }

        Variants(List<CachedResponse> entries, PartialObject partial) {
            this.entries = List.copyOf(entries);
            this.partial = partial;
            long w = partial == null ? 0 : partial.bytes() + ENTRY_OVERHEAD;
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
            if (partial != null) {
                partial.release();
            }
        }
    }
}
