package io.slipstream.worker.dedup;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Chunks one byte stream that arrives in pieces of any size: feed each piece with {@code update}, which
 * reports the end offset (exclusive, counted from the start of the stream) of every chunk completed in it,
 * then call {@link #finish} at the end of the stream for the last, possibly short, chunk. The cut points are
 * identical to {@link GearChunker#cutPoints(byte[])} over the concatenated stream, however it was split.
 *
 * <p>Only the boundaries are computed: the chunker keeps no bytes (its state is the length of the open chunk
 * and the rolling hash), so the caller keeps the bytes of the open chunk until its end is reported.
 * Not thread-safe: one instance per stream. Created by {@link GearChunker#incremental()}.
 */
public final class IncrementalChunker {

    /** Bytes copied at a time from a direct buffer into the scan buffer. */
    private static final int SCRATCH_BYTES = 16 * 1024;

    private final GearChunker chunker;
    private final long[] gear = GearTable.shared();
    private final int warmStart;
    private final int minSize;
    private final int averageSize;
    private final int maxSize;
    private final long maskS;
    private final long maskL;

    private long consumed;
    private int pending;
    private long hash;
    private byte[] scratch;

    IncrementalChunker(GearChunker chunker) {
        this.chunker = chunker;
        this.minSize = chunker.minSize();
        this.warmStart = minSize - 64;
        this.averageSize = chunker.averageSize();
        this.maxSize = chunker.maxSize();
        this.maskS = chunker.maskS();
        this.maskL = chunker.maskL();
    }

    public GearChunker chunker() {
        return chunker;
    }

    /** Bytes fed since the start of the stream (or the last {@link #finish}/{@link #reset}). */
    public long position() {
        return consumed;
    }

    /** Stream offset where the open (not yet ended) chunk starts. */
    public long chunkStart() {
        return consumed - pending;
    }

    /** Bytes of the open chunk fed so far (0 right after a cut). */
    public int pendingBytes() {
        return pending;
    }

    /** {@link #update(byte[], int, int, LongConsumer)} over the whole array. */
    public int update(byte[] src, LongConsumer boundaries) {
        return update(src, 0, src.length, boundaries);
    }

    /**
     * Feeds {@code src[off, off + len)}. For every chunk that ends inside it, calls {@code boundaries} with the
     * chunk's end offset in the stream. Returns how many chunks ended.
     */
    public int update(byte[] src, int off, int len, LongConsumer boundaries) {
        Objects.checkFromIndexSize(off, len, src.length);
        Objects.requireNonNull(boundaries, "boundaries");
        long base = consumed - off;
        int end = off + len;
        int p = off;
        int count = 0;
        while (p < end) {
            int cut = scan(src, p, end);
            if (cut < 0) {
                break;
            }
            count++;
            consumed = base + cut;
            boundaries.accept(consumed);
            p = cut;
        }
        consumed = base + end;
        return count;
    }

    /**
     * Feeds the remaining bytes of {@code src} (heap or direct); its position is not changed, so the caller
     * still holds the bytes. Otherwise as {@link #update(byte[], int, int, LongConsumer)}.
     */
    public int update(ByteBuffer src, LongConsumer boundaries) {
        if (src.hasArray()) {
            return update(src.array(), src.arrayOffset() + src.position(), src.remaining(), boundaries);
        }
        Objects.requireNonNull(boundaries, "boundaries");
        byte[] buf = scratch;
        if (buf == null) {
            buf = scratch = new byte[SCRATCH_BYTES];
        }
        int count = 0;
        int limit = src.limit();
        for (int i = src.position(); i < limit; ) {
            int n = Math.min(buf.length, limit - i);
            src.get(i, buf, 0, n);
            count += update(buf, 0, n, boundaries);
            i += n;
        }
        return count;
    }

    /**
     * Ends the stream: reports the end of the last chunk if any bytes are pending (it may be shorter than the
     * minimum), then resets this chunker for a new stream. Returns whether a chunk ended.
     */
    public boolean finish(LongConsumer boundaries) {
        boolean last = pending > 0;
        if (last) {
            boundaries.accept(consumed);
        }
        reset();
        return last;
    }

    /** Forgets the current stream; the next byte fed is offset 0 of a new one. */
    public void reset() {
        consumed = 0;
        pending = 0;
        hash = 0;
    }

    /**
     * The hot loop: the index in {@code b} just past the next cut in {@code [p, end)}, or -1 when the open
     * chunk does not end there. Updates {@link #pending} and {@link #hash}. Plain loops on purpose: manual 4x
     * unrolling and a four-bytes-per-step variant (intermediate hashes computed from {@code h} directly) were
     * both measured slower than what C2 makes of these on the development machine (AMD EPYC, JDK 17).
     */
    private int scan(byte[] b, int p, int end) {
        final long[] g = gear;
        long h = hash;
        // Array index of chunk-relative index 0; long so that base + maxSize cannot overflow.
        final long base = (long) p - pending;

        // Phase 0: skip bytes that cannot influence a cut decision.
        int lim = (int) Math.min(end, base + warmStart);
        if (p < lim) {
            p = lim;
        }
        // Phase 1: warm the hash over the 63 bytes before the first possible cut.
        lim = (int) Math.min(end, base + minSize - 1);
        for (; p < lim; p++) {
            h = (h << 1) + g[b[p] & 0xff];
        }
        // Phase 2: up to the normal size, the harder mask.
        lim = (int) Math.min(end, base + averageSize - 1);
        long m = maskS;
        for (; p < lim; p++) {
            h = (h << 1) + g[b[p] & 0xff];
            if ((h & m) == 0) {
                return cut(p + 1);
            }
        }
        // Phase 3: up to the maximum, the easier mask.
        lim = (int) Math.min(end, base + maxSize - 1);
        m = maskL;
        for (; p < lim; p++) {
            h = (h << 1) + g[b[p] & 0xff];
            if ((h & m) == 0) {
                return cut(p + 1);
            }
        }
        // Phase 4: the byte at index maxSize - 1 ends the chunk whatever the hash says.
        if (p < end) {
            return cut(p + 1);
        }
        hash = h;
        pending = (int) (end - base);
        return -1;
    }

    private int cut(int next) {
        hash = 0;
        pending = 0;
        return next;
    }
}
