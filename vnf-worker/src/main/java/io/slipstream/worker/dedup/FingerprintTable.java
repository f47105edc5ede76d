package io.slipstream.worker.dedup;

/**
 * A compact index from a 128-bit fingerprint to one {@code long} of location data: open addressing with linear
 * probing over three parallel {@code long[]} arrays (fingerprint high and low halves, value), no object per
 * entry. 24 bytes per slot, at most 3/4 full, so 32 to 64 bytes of heap per entry. Value 0 marks a free slot,
 * so stored values must not be 0. Deletion shifts the following run back (no tombstones). Not thread-safe.
 */
final class FingerprintTable {

    private static final int MIN_CAPACITY = 64;

    private long[] msb;
    private long[] lsb;
    private long[] values;
    private int mask;
    private int size;

    FingerprintTable() {
        allocate(MIN_CAPACITY);
    }

    private void allocate(int capacity) {
        msb = new long[capacity];
        lsb = new long[capacity];
        values = new long[capacity];
        mask = capacity - 1;
        size = 0;
    }

    int size() {
        return size;
    }

    /** Receives one entry of {@link #forEach}. */
    interface EntryVisitor {
        void visit(long msb, long lsb, long value);
    }

    /** Visits every entry, in no particular order. */
    void forEach(EntryVisitor visitor) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != 0) {
                visitor.visit(msb[i], lsb[i], values[i]);
            }
        }
    }

    /** Heap bytes of the arrays. */
    long heapBytes() {
        return 24L * values.length;
    }

    private static int hash(long m, long l) {
        long h = (m ^ Long.rotateLeft(l, 32)) * 0x9E3779B97F4A7C15L; // fingerprints are uniform; other keys too
        return (int) (h >>> 32);
    }

    private int slot(long m, long l) {
        int i = hash(m, l) & mask;
        while (values[i] != 0 && (msb[i] != m || lsb[i] != l)) {
            i = (i + 1) & mask;
        }
        return i;
    }

    /** The value for the fingerprint, or 0 when absent. */
    long get(ChunkFingerprint fp) {
        return values[slot(fp.msb(), fp.lsb())];
    }

    /** Sets the value (not 0) and returns the previous one, or 0. */
    long put(ChunkFingerprint fp, long value) {
        if (value == 0) {
            throw new IllegalArgumentException("value: 0 (expected: not 0, it marks a free slot)");
        }
        int i = slot(fp.msb(), fp.lsb());
        long previous = values[i];
        if (previous == 0) {
            msb[i] = fp.msb();
            lsb[i] = fp.lsb();
            size++;
        }
        values[i] = value;
        if (previous == 0 && size > (values.length >> 2) * 3) {
            grow();
        }
        return previous;
    }

    /** Removes the fingerprint; returns its value, or 0 when absent. */
    long remove(ChunkFingerprint fp) {
        int i = slot(fp.msb(), fp.lsb());
        long previous = values[i];
        if (previous != 0) {
            deleteAt(i);
        }
        return previous;
    }

    private void deleteAt(int free) {
        values[free] = 0;
        size--;
        int i = free;
        while (true) {
            i = (i + 1) & mask;
            if (values[i] == 0) {
                return;
            }
            int home = hash(msb[i], lsb[i]) & mask;
            // The entry at i may move to the free slot if its home is not in (free, i] (cyclically).
            boolean stays = free <= i ? free < home && home <= i : free < home || home <= i;
            if (!stays) {
                msb[free] = msb[i];
                lsb[free] = lsb[i];
                values[free] = values[i];
                values[i] = 0;
                free = i;
            }
        }
    }

    private void grow() {
        long[] m = msb;
        long[] l = lsb;
        long[] v = values;
        allocate(v.length << 1);
        for (int i = 0; i < v.length; i++) {
            if (v[i] != 0) {
                int j = slot(m[i], l[i]);
                msb[j] = m[i];
                lsb[j] = l[i];
                values[j] = v[i];
                size++;
            }
        }
    }

    void clear() {
        allocate(MIN_CAPACITY);
    }

    /** Visits every entry; the visitor returns the new value, 0 to remove the entry. */
    void replaceAll(ValueUpdate update) {
        for (int i = 0; i < values.length; i++) {
            while (values[i] != 0) {
                long v = update.apply(msb[i], lsb[i], values[i]);
                if (v == values[i]) {
                    break;
                }
                if (v != 0) {
                    values[i] = v;
                    break;
                }
                deleteAt(i); // an entry from further on may have moved into slot i: visit it too
            }
        }
    }

    interface ValueUpdate {
        long apply(long msb, long lsb, long value);
    }
}
