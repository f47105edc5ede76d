package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Finds the chunks a new chunk's content came from when that content was gathered from several places —
 * the members of a tar archive in another order, rows of a dump moved around — where a resemblance sketch
 * fails: sketch features are taken over fixed fractions of a chunk, so a chunk whose pieces sat in other
 * chunks before shares none. Anchors are content-defined instead: wherever the Gear rolling hash (a function
 * of the last 64 bytes) has its top {@link #ANCHOR_BITS} bits zero, about once per KiB, its value is an
 * anchor; a piece of content has the same anchors wherever it lies. The index maps anchors to the chunk they
 * were last seen in, and {@link #sources} ranks the chunks a new chunk's anchors point to.
 *
 * <p>Bounded and lossy, like a cache: a direct-mapped table of {@code 2^tableBits} anchors (an anchor
 * whose slot is taken replaces the older one) and a ring of the last {@code 2^ringBits} chunks added
 * (an anchor pointing to a chunk older than that is ignored). 16 bytes per table slot plus a
 * fingerprint per ring entry; nothing grows. Thread-safe (a peer's streams run on several event loops).
 */
public final class AnchorIndex {

    /** Top bits of the rolling hash that must be zero at an anchor: one anchor per 2^10 bytes on average. */
    static final int ANCHOR_BITS = 10;
    /** Most anchors taken from one chunk (the first ones; a 1 MiB chunk still costs a bounded scan). */
    static final int MAX_ANCHORS = 256;
    /** The rolling hash covers the last 64 bytes: positions before that depend on the chunk's start. */
    static final int WINDOW = 64;

    private final long[] anchors;
    private final long[] sequences;
    private final ChunkFingerprint[] ring;
    private final int tableShift;
    private final int ringMask;
    private long next = 1;

    private AnchorIndex(int tableBits, int ringBits) {
        this.anchors = new long[1 << tableBits];
        this.sequences = new long[1 << tableBits];
        this.ring = new ChunkFingerprint[1 << ringBits];
        this.tableShift = 64 - tableBits;
        this.ringMask = (1 << ringBits) - 1;
    }

    /**
     * An index of {@code 2^tableBits} anchors over the last {@code 2^ringBits} chunks added.
     *
     * @throws IllegalArgumentException when {@code tableBits} is outside 4..26 or {@code ringBits} outside 4..24
     */
    public static AnchorIndex withSize(int tableBits, int ringBits) {
        if (tableBits < 4 || tableBits > 26) {
            throw new IllegalArgumentException("tableBits: " + tableBits + " (expected: 4..26)");
        }
        if (ringBits < 4 || ringBits > 24) {
            throw new IllegalArgumentException("ringBits: " + ringBits + " (expected: 4..24)");
        }
        return new AnchorIndex(tableBits, ringBits);
    }

    /** The anchors of the remaining bytes of {@code chunk} (its position is not changed), in order. */
    public static long[] anchors(ByteBuffer chunk) {
        return ChunkFeatures.of(chunk).anchors();
    }

    /** Records that the peer now holds {@code fingerprint}, whose anchors are {@code chunkAnchors}. */
    public synchronized void add(ChunkFingerprint fingerprint, long[] chunkAnchors) {
        long sequence = next++;
        ring[(int) (sequence & ringMask)] = fingerprint;
        for (long a : chunkAnchors) {
            int slot = slot(a);
            anchors[slot] = a;
            sequences[slot] = sequence;
        }
    }

    /**
     * Up to {@code max} distinct chunks that {@code chunkAnchors} point to, the most pointed-to first (on a tie,
     * the one pointed to first); chunks pointed to by a single anchor only when nothing better was found.
     */
    public synchronized List<ChunkFingerprint> sources(long[] chunkAnchors, int max) {
        LinkedHashMap<ChunkFingerprint, Integer> votes = new LinkedHashMap<>();
        long oldest = next - ring.length;
        for (long a : chunkAnchors) {
            int slot = slot(a);
            if (anchors[slot] != a || sequences[slot] <= 0 || sequences[slot] < oldest) {
                continue;
            }
            ChunkFingerprint f = ring[(int) (sequences[slot] & ringMask)];
            if (f != null) {
                votes.merge(f, 1, Integer::sum);
            }
        }
        List<ChunkFingerprint> ranked = new ArrayList<>(votes.keySet());
        ranked.sort((a, b) -> Integer.compare(votes.get(b), votes.get(a)));
        if (ranked.size() > 1 && votes.get(ranked.get(0)) > 1) {
            ranked.removeIf(f -> votes.get(f) < 2);
        }
        return ranked.size() > max ? new ArrayList<>(ranked.subList(0, max)) : ranked;
    }

    /** Forgets every anchor (the peer's store was lost). */
    public synchronized void clear() {
        Arrays.fill(anchors, 0);
        Arrays.fill(sequences, 0);
        Arrays.fill(ring, null);
    }

    private int slot(long anchor) {
        return (int) ((anchor * 0x9e3779b97f4a7c15L) >>> tableShift);
    }
}
