package io.slipstream.worker.dedup;

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
 * were last seen in (and where in it), and {@link #sources} ranks the chunks a new chunk's anchors point to,
 * each with the region of it that the new chunk's content likely came from: a delta needs that region as
 * its dictionary, not the whole chunk, and a dictionary costs its size to index.
 *
 * <p>Bounded and lossy, like a cache: a direct-mapped table of {@code 2^tableBits} anchors (an anchor
 * whose slot is taken replaces the older one) and a ring of the last {@code 2^ringBits} chunks added
 * (an anchor pointing to a chunk older than that is ignored). 20 bytes per table slot plus a
 * fingerprint and a length per ring entry; nothing grows. Thread-safe (a peer's streams run on several event loops).
 */
public final class AnchorIndex {

    /** Top bits of the rolling hash that must be zero at an anchor: one anchor per 2^10 bytes on average. */
    static final int ANCHOR_BITS = 10;
    /** Most anchors taken from one chunk (the first ones; a 1 MiB chunk still costs a bounded scan). */
    static final int MAX_ANCHORS = 256;
    /** The rolling hash covers the last 64 bytes: positions before that depend on the chunk's start. */
    static final int WINDOW = 64;
    /**
     * Bytes a source's region is widened by on each side: content near a moved piece often came along (the
     * tar header before a file, the lines around an edit). Measured on the Debian corpus of
     * {@code bench wanopt} (encoder and decoder back to back): none costs 1.37 % of the second versions on the
     * WAN, 4 KiB 1.11 %, 8 KiB 1.04 % at 0.9x the speed.
     */
    static final int MARGIN = 4096;

    private final long[] anchors;
    private final long[] sequences;
    private final int[] offsets;
    private final ChunkFingerprint[] ring;
    private final int[] lengths;
    private final int tableShift;
    private final int ringMask;
    private long next = 1;

    private AnchorIndex(int tableBits, int ringBits) {
        this.anchors = new long[1 << tableBits];
        this.sequences = new long[1 << tableBits];
        this.offsets = new int[1 << tableBits];
        this.ring = new ChunkFingerprint[1 << ringBits];
        this.lengths = new int[1 << ringBits];
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

    /**
     * A chunk that a new chunk's content likely came from, how many of the new chunk's anchors point to it,
     * and the region {@code [from, to)} of it that they point into: each anchor's position there, widened by
     * the new chunk's bytes back to the last anchor found in another source (or its start) and on to the
     * next one (or its end), and by {@link #MARGIN}.
     */
    public record Source(ChunkFingerprint chunk, int votes, int from, int to) {

        /** Bytes of the region. */
        public int length() {
            return to - from;
        }
    }

    /** Records that the peer now holds {@code fingerprint}, whose features are {@code features}. */
    public synchronized void add(ChunkFingerprint fingerprint, ChunkFeatures features) {
        long sequence = next++;
        int at = (int) (sequence & ringMask);
        ring[at] = fingerprint;
        lengths[at] = features.length();
        long[] chunkAnchors = features.anchors();
        int[] chunkOffsets = features.anchorOffsets();
        for (int i = 0; i < chunkAnchors.length; i++) {
            int slot = slot(chunkAnchors[i]);
            anchors[slot] = chunkAnchors[i];
            sequences[slot] = sequence;
            offsets[slot] = chunkOffsets[i];
        }
    }

    /**
     * Up to {@code max} distinct chunks that the anchors of {@code features} point to, the most pointed-to
     * first (on a tie, the one pointed to first). A chunk pointed to by a single anchor counts too: a small
     * file of a re-ordered tar holds one or two anchors (on the Debian corpus, dropping them when a better
     * source exists cost 12 % more bytes on the WAN).
     */
    public synchronized List<Source> sources(ChunkFeatures features, int max) {
        long[] chunkAnchors = features.anchors();
        int[] chunkOffsets = features.anchorOffsets();
        // The anchors found, in the chunk's order: where each lies here, its source, where it lies there.
        int n = 0;
        int[] here = new int[chunkAnchors.length];
        int[] there = new int[chunkAnchors.length];
        int[] ringAt = new int[chunkAnchors.length];
        ChunkFingerprint[] source = new ChunkFingerprint[chunkAnchors.length];
        long oldest = next - ring.length;
        for (int i = 0; i < chunkAnchors.length; i++) {
            int slot = slot(chunkAnchors[i]);
            if (anchors[slot] != chunkAnchors[i] || sequences[slot] <= 0 || sequences[slot] < oldest) {
                continue;
            }
            int at = (int) (sequences[slot] & ringMask);
            if (ring[at] == null) {
                continue;
            }
            here[n] = chunkOffsets[i];
            there[n] = offsets[slot];
            ringAt[n] = at;
            source[n++] = ring[at];
        }
        // Each anchor's content reaches back to the last anchor found in another source (or the chunk's start)
        // and on to the next one (or the chunk's end): bytes between anchors of one source, even changed ones
        // whose anchors were lost, most likely came from that source.
        int[] back = new int[n];
        for (int k = 0, runStart = 0; k < n; k++) {
            if (k > 0 && !source[k].equals(source[k - 1])) {
                runStart = here[k - 1];
            }
            back[k] = here[k] - runStart;
        }
        int[] ahead = new int[n];
        for (int k = n - 1, runEnd = features.length(); k >= 0; k--) {
            if (k < n - 1 && !source[k].equals(source[k + 1])) {
                runEnd = here[k + 1] - WINDOW;
            }
            ahead[k] = Math.max(0, runEnd - here[k]);
        }
        LinkedHashMap<ChunkFingerprint, int[]> found = new LinkedHashMap<>(); // votes, from, to
        for (int k = 0; k < n; k++) {
            int from = Math.max(0, there[k] - back[k] - MARGIN);
            int to = (int) Math.min(lengths[ringAt[k]], (long) there[k] + ahead[k] + MARGIN);
            int[] v = found.get(source[k]);
            if (v == null) {
                found.put(source[k], new int[] {1, from, to});
            } else {
                v[0]++;
                v[1] = Math.min(v[1], from);
                v[2] = Math.max(v[2], to);
            }
        }
        List<ChunkFingerprint> ranked = new ArrayList<>(found.keySet());
        ranked.sort((a, b) -> Integer.compare(found.get(b)[0], found.get(a)[0]));
        List<Source> sources = new ArrayList<>(Math.min(max, ranked.size()));
        for (ChunkFingerprint f : ranked.subList(0, Math.min(max, ranked.size()))) {
            int[] v = found.get(f);
            sources.add(new Source(f, v[0], v[1], v[2]));
        }
        return sources;
    }

    /** Forgets every anchor (the peer's store was lost). */
    public synchronized void clear() {
        Arrays.fill(anchors, 0);
        Arrays.fill(sequences, 0);
        Arrays.fill(offsets, 0);
        Arrays.fill(ring, null);
        Arrays.fill(lengths, 0);
    }

    private int slot(long anchor) {
        return (int) ((anchor * 0x9e3779b97f4a7c15L) >>> tableShift);
    }
}
