package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The byte ranges held of one representation that is not stored complete (RFC 9111 §3.3, §3.4): its
 * strong validator, complete length and held ranges ({@link PartialContent.Held}), the combined head (as the
 * 200 it will become) with the times of the newest part, and the bytes as disjoint segments sorted by
 * offset. Immutable: combining a new part builds a new object that shares the segments it carries over.
 *
 * <p>Buffer ownership: the object owns one reference to each segment; its own reference count (as
 * {@link CachedResponse}'s) releases them all when it drops to zero. The store's value holds one
 * reference; a reader {@link #tryRetain()}s before touching the segments.
 */
final class PartialObject {

    /** One held piece: the bytes of {@code first .. first + bytes.readableBytes() - 1}. */
    record Segment(long first, ByteBuf bytes) {
        long last() {
            return first + bytes.readableBytes() - 1;
        }
    }

    private final StoredResponse stored;
    private final PartialContent.Held held;
    private final List<Segment> segments;
    private final Set<String> tags;
    private final RefCount refs = new RefCount();

    /** Takes ownership of the segments' buffers; the new object has one reference, the caller's. */
    PartialObject(StoredResponse stored, PartialContent.Held held, List<Segment> segments, Set<String> tags) {
        this.stored = stored;
        this.held = held;
        List<Segment> sorted = new ArrayList<>(segments);
        sorted.sort(Comparator.comparingLong(Segment::first));
        this.segments = List.copyOf(sorted);
        this.tags = Set.copyOf(tags);
    }

    /**
     * A new object for {@code stored} and {@code held} holding this object's segments (retained) and
     * {@code added} (ownership passes). The caller must hold a reference to this object.
     */
    PartialObject with(StoredResponse newStored, PartialContent.Held newHeld, List<Segment> added,
                       Set<String> newTags) {
        List<Segment> all = new ArrayList<>(added);
        for (Segment s : segments) {
            all.add(new Segment(s.first(), s.bytes().retain()));
        }
        return new PartialObject(newStored, newHeld, all, newTags);
    }

    StoredResponse stored() {
        return stored;
    }

    PartialContent.Held held() {
        return held;
    }

    Set<String> tags() {
        return tags;
    }

    long completeLength() {
        return held.completeLength();
    }

    /** Bytes held (for the store's weigher). */
    long bytes() {
        long n = 0;
        for (Segment s : segments) {
            n += s.bytes().readableBytes();
        }
        return n;
    }

    /**
     * Retained slices of the segments making up {@code r}, in order; {@code r} must be covered
     * ({@link PartialContent#covers}). Valid while the caller holds a reference.
     */
    List<ByteBuf> slices(Range r) {
        List<ByteBuf> out = new ArrayList<>(2);
        for (Segment s : segments) {
            if (s.last() < r.first() || s.first() > r.last()) {
                continue;
            }
            long from = Math.max(r.first(), s.first());
            long to = Math.min(r.last(), s.last());
            ByteBuf b = s.bytes();
            out.add(b.retainedSlice(b.readerIndex() + (int) (from - s.first()), (int) (to - from + 1)));
        }
        return out;
    }

    /** The whole representation in one new buffer (the parts must cover it); the caller owns the result. */
    ByteBuf copyWhole(ByteBufAllocator alloc) {
        ByteBuf out = alloc.directBuffer((int) held.completeLength());
        for (Segment s : segments) {
            out.writeBytes(s.bytes(), s.bytes().readerIndex(), s.bytes().readableBytes());
        }
        return out;
    }

    /** The segments, sorted by offset (valid while the caller holds a reference). */
    List<Segment> segments() {
        return segments;
    }

    /** Takes a reference unless the object has already been released; never resurrects it. */
    boolean tryRetain() {
        return refs.tryRetain();
    }

    /** Gives up one reference; the last one releases every segment. */
    void release() {
        if (refs.release(this)) {
            for (Segment s : segments) {
                s.bytes().release();
            }
        }
    }

    @Override
    public String toString() {
        return "PartialObject{" + held + ", refs " + refs.get() + '}';
    }
}
