package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Content-defined chunking: FastCDC with normalized chunking over a Gear rolling hash. Immutable and
 * thread-safe; it only computes cut points (chunk ends) and never holds or copies chunk bytes.
 *
 * <p>The algorithm, for each chunk starting at stream offset {@code s} (chunk-relative index {@code i}):
 * <ul>
 *   <li>the hash {@code h} starts at 0; bytes with {@code i < minSize - 64} are skipped unhashed;</li>
 *   <li>every later byte updates {@code h = (h << 1) + GEAR[b & 0xff]} (64-bit, wrapping), so from
 *       {@code i = minSize - 1} on, {@code h} depends on exactly the last 64 bytes and cut decisions are a
 *       function of content, not of where the chunk started;</li>
 *   <li>for {@code minSize - 1 <= i < averageSize - 1} the chunk ends after byte {@code i} when
 *       {@code (h & maskS) == 0}; for {@code averageSize - 1 <= i < maxSize - 1} when {@code (h & maskL) == 0};
 *       at {@code i = maxSize - 1} it ends unconditionally;</li>
 *   <li>{@code maskS} has {@code log2(averageSize) + normalization} bits set and {@code maskL}
 *       {@code log2(averageSize) - normalization}, both ending at bit 62: {@code mask(n) = ((1L << n) - 1) << (63 - n)}
 *       (bit 63 is left out so that a two-bytes-at-a-time loop can test {@code mask << 1});</li>
 *   <li>the end of the stream ends the last chunk, which may be shorter than {@code minSize}.</li>
 * </ul>
 * {@code GEAR} is the fixed table of {@link GearTable}. Changing the table, the masks or the rules above
 * changes cut points, breaks deduplication against stores built by older versions, and fails
 * {@code GearChunkerTest}'s pinned offsets.
 *
 * <p>Use {@link #cutPoints(byte[])} for a whole buffer or {@link #incremental()} for a stream that arrives in
 * pieces; both give identical cut points for the same bytes.
 */
public final class GearChunker {

    /** Default minimum chunk size: 2 KiB. */
    public static final int DEFAULT_MIN_SIZE = 2 * 1024;
    /** Default average (normal) chunk size: 8 KiB. */
    public static final int DEFAULT_AVERAGE_SIZE = 8 * 1024;
    /** Default maximum chunk size: 64 KiB. */
    public static final int DEFAULT_MAX_SIZE = 64 * 1024;
    /** Default normalization level (FastCDC "NC2"). */
    public static final int DEFAULT_NORMALIZATION = 2;

    /** Smallest allowed minimum: the hash window, so that every cut decision sees 64 bytes of content. */
    public static final int MIN_MIN_SIZE = 64;
    /** Smallest allowed average size. */
    public static final int MIN_AVERAGE_SIZE = 256;
    /** Largest allowed average size: 16 MiB. */
    public static final int MAX_AVERAGE_SIZE = 1 << 24;
    /** Largest allowed maximum size: 256 MiB. */
    public static final int MAX_MAX_SIZE = 1 << 28;

    private static final GearChunker DEFAULTS = builder().build();

    private final int minSize;
    private final int averageSize;
    private final int maxSize;
    private final int normalization;
    private final long maskS;
    private final long maskL;

    private GearChunker(Builder b) {
        this.minSize = b.minSize;
        this.averageSize = b.averageSize;
        this.maxSize = b.maxSize;
        this.normalization = b.normalization;
        int bits = Integer.numberOfTrailingZeros(averageSize);
        this.maskS = mask(bits + normalization);
        this.maskL = mask(bits - normalization);
    }

    static long mask(int bits) {
        return ((1L << bits) - 1) << (63 - bits);
    }

    /** 2 KiB / 8 KiB / 64 KiB, normalization 2. */
    public static GearChunker defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().minSize(minSize).averageSize(averageSize).maxSize(maxSize).normalization(normalization);
    }

    public int minSize() {
        return minSize;
    }

    public int averageSize() {
        return averageSize;
    }

    public int maxSize() {
        return maxSize;
    }

    public int normalization() {
        return normalization;
    }

    long maskS() {
        return maskS;
    }

    long maskL() {
        return maskL;
    }

    /** A new incremental chunker for one stream (not thread-safe; one per stream). */
    public IncrementalChunker incremental() {
        return new IncrementalChunker(this);
    }

    /**
     * The cut points of a whole buffer: the end offset (exclusive) of every chunk, ascending, the last one
     * equal to {@code data.length}. Empty input has no chunks (an empty array).
     */
    public int[] cutPoints(byte[] data) {
        return cutPoints(data, 0, data.length);
    }

    /** As {@link #cutPoints(byte[])} over {@code data[off, off + len)}; offsets are relative to {@code off}. */
    public int[] cutPoints(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        Collector c = new Collector(len / averageSize + 4);
        IncrementalChunker chunker = incremental();
        chunker.update(data, off, len, c);
        chunker.finish(c);
        return c.toArray();
    }

    /**
     * As {@link #cutPoints(byte[])} over the remaining bytes of {@code data} (heap or direct); offsets are
     * relative to its position, which is not changed.
     */
    public int[] cutPoints(ByteBuffer data) {
        Collector c = new Collector(data.remaining() / averageSize + 4);
        IncrementalChunker chunker = incremental();
        chunker.update(data, c);
        chunker.finish(c);
        return c.toArray();
    }

    @Override
    public String toString() {
        return "GearChunker{minSize=" + minSize + ", averageSize=" + averageSize + ", maxSize=" + maxSize
                + ", normalization=" + normalization + "}";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GearChunker g && g.minSize == minSize && g.averageSize == averageSize
                && g.maxSize == maxSize && g.normalization == normalization;
    }

    @Override
    public int hashCode() {
        return ((minSize * 31 + averageSize) * 31 + maxSize) * 31 + normalization;
    }

    private static final class Collector implements java.util.function.LongConsumer {
        private int[] cuts;
        private int n;

        Collector(int capacity) {
            cuts = new int[capacity];
        }

        @Override
        public void accept(long end) {
            if (n == cuts.length) {
                cuts = Arrays.copyOf(cuts, n * 2);
            }
            cuts[n++] = (int) end;
        }

        int[] toArray() {
            return Arrays.copyOf(cuts, n);
        }
    }

    /** Builder; sizes are validated together by {@link #build()}. */
    public static final class Builder {
        private int minSize = DEFAULT_MIN_SIZE;
        private int averageSize = DEFAULT_AVERAGE_SIZE;
        private int maxSize = DEFAULT_MAX_SIZE;
        private int normalization = DEFAULT_NORMALIZATION;

        private Builder() {
        }

        /** Smallest chunk (except the last of a stream); at least 64 and less than the average. */
        public Builder minSize(int bytes) {
            if (bytes < MIN_MIN_SIZE) {
                throw new IllegalArgumentException("minSize: " + bytes + " (expected: >= " + MIN_MIN_SIZE + ")");
            }
            this.minSize = bytes;
            return this;
        }

        /** The normal chunk size the masks aim at: a power of two in 256..16 MiB. */
        public Builder averageSize(int bytes) {
            if (bytes < MIN_AVERAGE_SIZE || bytes > MAX_AVERAGE_SIZE || Integer.bitCount(bytes) != 1) {
                throw new IllegalArgumentException("averageSize: " + bytes + " (expected: a power of two in "
                        + MIN_AVERAGE_SIZE + ".." + MAX_AVERAGE_SIZE + ")");
            }
            this.averageSize = bytes;
            return this;
        }

        /** Largest chunk: more than the average, at most 256 MiB. */
        public Builder maxSize(int bytes) {
            if (bytes < 1 || bytes > MAX_MAX_SIZE) {
                throw new IllegalArgumentException("maxSize: " + bytes + " (expected: 1.." + MAX_MAX_SIZE + ")");
            }
            this.maxSize = bytes;
            return this;
        }

        /** How many bits the masks move away from log2(average): 0 (plain Gear CDC) to 3. */
        public Builder normalization(int level) {
            if (level < 0 || level > 3) {
                throw new IllegalArgumentException("normalization: " + level + " (expected: 0..3)");
            }
            this.normalization = level;
            return this;
        }

        /** @throws IllegalArgumentException unless minSize &lt; averageSize &lt; maxSize */
        public GearChunker build() {
            if (minSize >= averageSize) {
                throw new IllegalArgumentException("minSize: " + minSize + " (expected: < averageSize " + averageSize
                        + ")");
            }
            if (maxSize <= averageSize) {
                throw new IllegalArgumentException("maxSize: " + maxSize + " (expected: > averageSize " + averageSize
                        + ")");
            }
            return new GearChunker(this);
        }
    }
}
