package io.slipstream.worker.dedup;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ChunkStore} on disk, off the Java heap, kept across restarts: a ring of fixed-size segment files
 * written append-only, and an index in memory ({@link FingerprintTable}, 24 bytes a slot: 32 to 64 bytes of
 * heap per chunk) from fingerprint to (segment, offset, length, reference bit, peer-holds bit). Thread-safe
 * (one lock; a get is one positional read).
 *
 * <h2>Files</h2>
 * {@code seg-NNNN} in the store's directory, each {@code segmentBytes} at most: a 64-byte header (magic,
 * version, generation, segment size, CRC32C) and records of a 32-byte header (magic, length, fingerprint,
 * CRC32C of the data, CRC32C of the header) and the chunk's bytes, 8-byte aligned, the last followed by four
 * zero bytes (end mark). The segment with the highest generation is the one being written.
 *
 * <h2>Integrity</h2>
 * Opening scans every segment and checks every record (header CRC, data CRC); a record whose data does not
 * match is dropped, a damaged header or a truncated record ends the segment's scan there (what follows cannot
 * be framed). A get reads the record again and checks its header, fingerprint and data CRC before it returns
 * a copy; a mismatch is dropped from the index and answered as a miss (the tunnel then asks for the literal
 * again). Drops are counted in {@link ChunkStoreStats#corruptDropped()}; nothing unverified is delivered.
 *
 * <h2>Eviction: CLOCK over segments</h2>
 * When the head segment is full, the next segment of the ring (the oldest) is recycled in place: its records
 * that were read (get, or a reference decided with {@link SentIndex}) since they were written or last kept are
 * compacted to the front of the segment with their reference bit cleared (a second chance); the others are
 * evicted. A segment still full of such chunks is passed over for the next one. Chunks that repeat stay; a one-off burst passes through. The policy is deterministic, so
 * a sender's mirror that sees the same puts and gets under the same geometry evicts the same chunks.
 *
 * <h2>Failures</h2>
 * Writes go through {@link FileChannel} positional I/O (not a writable mapping: a full disk is an
 * {@code IOException} here, where a mapped write would be a {@code SIGBUS}). A failed write is counted in
 * {@link ChunkStoreStats#writeFailures()} and logged (first failure, then once a minute); the chunk is not
 * held and the caller goes on (the sender sends literals). Reads through the page cache keep the data off the
 * Java heap; {@link #close} forces the segments to disk.
 */
public final class DiskChunkStore implements ChunkStore, Closeable {

    private static final Logger log = LoggerFactory.getLogger(DiskChunkStore.class);

    static final int SEGMENT_MAGIC = 0x53534731; // "SSG1"
    static final int RECORD_MAGIC = 0x53535231; // "SSR1"
    static final int VERSION = 1;
    static final int SEGMENT_HEADER = 64;
    static final int RECORD_HEADER = 32;
    static final int END_MARK = 4;
    /** The largest chunk a store holds (a larger one is not stored). */
    public static final int MAX_CHUNK = 16 << 20;
    static final long MIN_SEGMENT = 64 << 10;
    static final long MAX_SEGMENT = 256 << 20;
    static final int MAX_SEGMENTS = 4095;
    /** The largest store: 4095 segments of 256 MiB. */
    public static final long MAX_BYTES = (long) MAX_SEGMENTS * MAX_SEGMENT;
    private static final long WARN_INTERVAL_NANOS = 60_000_000_000L;
    /** Opening reads segments in blocks of this size. */
    private static final int SCAN_BLOCK = 4 << 20;

    // Index value: offset/8 (25 bits) | segment+1 (12) | length (25) | referenced (1) | peer holds (1).
    private static final long OFFSET_MASK = (1L << 25) - 1;
    private static final int SEGMENT_SHIFT = 25;
    private static final long SEGMENT_MASK = (1L << 12) - 1;
    private static final int LENGTH_SHIFT = 37;
    private static final long LENGTH_MASK = (1L << 25) - 1;
    private static final long REFERENCED = 1L << 62;
    private static final long PEER_HOLDS = 1L << 63;

    /** Opens segment files; tests inject failing channels. */
    interface SegmentFiles {
        FileChannel open(Path file) throws IOException;

        SegmentFiles DEFAULT = file -> FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
    }

    private final Path dir;
    private final long maxBytes;
    private final int segmentBytes;
    private final FileChannel[] segments;
    private final long[] generations;
    private final long[] fileBytes;
    private final int[] ends;
    private final FingerprintTable index = new FingerprintTable();
    private final CRC32C crc = new CRC32C();
    private long maxGeneration;
    private int head;
    private int writePos;
    private long bytesHeld;
    private long hits;
    private long misses;
    private long evictions;
    private long evictedBytes;
    private long corruptDropped;
    private long writeFailures;
    private long lastWarnNanos;
    private boolean warned;
    private boolean closed;

    private DiskChunkStore(Path dir, long maxBytes, int segmentBytes, int count) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.segmentBytes = segmentBytes;
        this.segments = new FileChannel[count];
        this.generations = new long[count];
        this.fileBytes = new long[count];
        this.ends = new int[count];
    }

    /**
     * Opens (or creates) the store in {@code dir} holding at most {@code maxBytes} of chunks, and rebuilds its
     * index from the segments found there (records of another geometry are dropped).
     *
     * @throws IOException the directory or a segment cannot be created, opened or read
     */
    public static DiskChunkStore open(Path dir, long maxBytes) throws IOException {
        return open(dir, maxBytes, segmentBytesFor(maxBytes), SegmentFiles.DEFAULT);
    }

    static DiskChunkStore open(Path dir, long maxBytes, int segmentBytes, SegmentFiles files) throws IOException {
        Objects.requireNonNull(dir, "dir");
        if (maxBytes < 4 * MIN_SEGMENT || maxBytes > MAX_BYTES) {
            throw new IllegalArgumentException("chunk store: " + maxBytes + " bytes (expected: " + 4 * MIN_SEGMENT
                    + ".." + MAX_BYTES + ")");
        }
        if (segmentBytes < MIN_SEGMENT || segmentBytes > MAX_SEGMENT || segmentBytes % 8 != 0) {
            throw new IllegalArgumentException("segment: " + segmentBytes + " bytes (expected: a multiple of 8 in "
                    + MIN_SEGMENT + ".." + MAX_SEGMENT + ")");
        }
        int count = (int) Math.min(MAX_SEGMENTS, Math.max(4, maxBytes / segmentBytes));
        Files.createDirectories(dir);
        DiskChunkStore store = new DiskChunkStore(dir, maxBytes, segmentBytes, count);
        try {
            store.load(files);
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    /** About 32 segments per store (eviction in steps of ~3%), 256 KiB..256 MiB each. */
    static int segmentBytesFor(long maxBytes) {
        long s = Math.max(maxBytes / 32, 4 * MIN_SEGMENT);
        s = Math.max(s, (maxBytes + MAX_SEGMENTS - 1) / MAX_SEGMENTS);
        s = Math.min(MAX_SEGMENT, (s + 4095) & ~4095L);
        return (int) s;
    }

    private static Path segmentFile(Path dir, int i) {
        return dir.resolve(String.format("seg-%04d", i));
    }

    private void load(SegmentFiles files) throws IOException {
        for (int i = 0; i < segments.length; i++) {
            segments[i] = files.open(segmentFile(dir, i));
            fileBytes[i] = segments[i].size();
        }
        // Segments of an earlier, larger geometry are of no use.
        for (int i = segments.length; Files.exists(segmentFile(dir, i)); i++) {
            Files.delete(segmentFile(dir, i));
        }
        Integer[] order = new Integer[segments.length];
        for (int i = 0; i < segments.length; i++) {
            order[i] = i;
            generations[i] = readSegmentHeader(i);
            maxGeneration = Math.max(maxGeneration, generations[i]);
        }
        Arrays.sort(order, (a, b) -> Long.compare(generations[a], generations[b]));
        for (int i : order) {
            ends[i] = generations[i] == 0 ? SEGMENT_HEADER : scan(i);
        }
        head = order[order.length - 1];
        if (generations[head] == 0) {
            head = 0;
            startSegment(0, true);
        }
        writePos = ends[head];
    }

    /** The segment's generation, or 0 when it has no valid header (new, foreign or damaged). */
    private long readSegmentHeader(int i) throws IOException {
        if (fileBytes[i] == 0) {
            return 0;
        }
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER);
        if (fileBytes[i] < SEGMENT_HEADER || readFully(segments[i], b, 0) < SEGMENT_HEADER) {
            dropSegment(i, "shorter than its header");
            return 0;
        }
        long generation = b.getLong(8);
        if (b.getInt(0) != SEGMENT_MAGIC || b.getInt(4) != VERSION || crc(b.array(), 0, 20) != b.getInt(20)
                || generation <= 0) {
            dropSegment(i, "bad header");
            return 0;
        }
        if (b.getInt(16) != segmentBytes) {
            log.info("chunk store {}: segment {} was written for segments of {} bytes (now {}): dropping its chunks",
                    dir, i, b.getInt(16), segmentBytes);
            return 0;
        }
        return generation;
    }

    private void dropSegment(int i, String why) {
        corruptDropped++;
        log.warn("chunk store {}: segment {} {}: dropping it (counted in corruptDropped)", dir, segmentFile(dir, i),
                why);
    }

    /** Indexes the valid records of segment {@code i}; returns where its records end. Reads in large blocks. */
    private int scan(int i) throws IOException {
        long limit = Math.min(segmentBytes, fileBytes[i]);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(RECORD_HEADER, Math.min(SCAN_BLOCK, limit)));
        long base = 0;
        int avail = 0;
        int off = SEGMENT_HEADER;
        while (true) {
            if (off + END_MARK > limit) {
                return off;
            }
            if (off < base || off + RECORD_HEADER > base + avail) {
                base = off;
                buf.clear();
                avail = readFully(segments[i], buf, off);
            }
            int p = (int) (off - base);
            int n = Math.min(RECORD_HEADER, avail - p);
            if (n >= 4 && buf.getInt(p) == 0) {
                return off;
            }
            String bad = checkHeader(buf, p, n, null);
            int length = bad == null ? buf.getInt(p + 4) : 0;
            if (bad == null && off + RECORD_HEADER + length > fileBytes[i]) {
                bad = "truncated";
            }
            if (bad == null && off + recordSize(length) > segmentBytes) {
                bad = "runs past the segment";
            }
            if (bad != null) {
                corruptDropped++;
                log.warn("chunk store {}: segment {} at {}: record {}: dropping the rest of the segment", dir, i, off,
                        bad);
                return off;
            }
            if (off + RECORD_HEADER + length > base + avail) { // the record runs past the block: read from it
                if (RECORD_HEADER + length > buf.capacity()) {
                    buf = ByteBuffer.allocate(RECORD_HEADER + length);
                }
                base = off;
                buf.clear();
                avail = readFully(segments[i], buf, off);
                p = 0;
            }
            if (crc(buf.array(), p + RECORD_HEADER, length) != buf.getInt(p + 24)) {
                corruptDropped++;
                log.warn("chunk store {}: segment {} at {}: chunk data does not match its checksum: dropped", dir, i,
                        off);
            } else {
                ChunkFingerprint fp = ChunkFingerprint.of(buf.getLong(p + 8), buf.getLong(p + 16));
                long previous = index.put(fp, value(i, off, length, false, true));
                if (previous != 0) {
                    bytesHeld -= length(previous); // an older copy (e.g. compacted before a crash): keep the newer
                }
                bytesHeld += length;
            }
            off += recordSize(length);
        }
    }

    /**
     * Null when the record header at {@code at} of {@code b} is sound ({@code read} bytes of it present), else
     * what is wrong; {@code expected} also checks the fingerprint.
     */
    private String checkHeader(ByteBuffer b, int at, int read, ChunkFingerprint expected) {
        if (read < RECORD_HEADER) {
            return "truncated";
        }
        if (b.getInt(at) != RECORD_MAGIC) {
            return "bad magic";
        }
        if (crc(b.array(), at, 28) != b.getInt(at + 28)) {
            return "header checksum mismatch";
        }
        int length = b.getInt(at + 4);
        if (length < 1 || length > MAX_CHUNK) {
            return "length " + length;
        }
        if (expected != null && (b.getLong(at + 8) != expected.msb() || b.getLong(at + 16) != expected.lsb())) {
            return "another fingerprint";
        }
        return null;
    }

    private int crc(byte[] b, int off, int len) {
        crc.reset();
        crc.update(b, off, len);
        return (int) crc.getValue();
    }

    private static int readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private void writeFully(int segment, ByteBuffer b, long pos) throws IOException {
        long end = pos + b.remaining();
        while (b.hasRemaining()) {
            segments[segment].write(b, pos + (end - pos - b.remaining()));
        }
        fileBytes[segment] = Math.max(fileBytes[segment], end);
    }

    static int recordSize(int length) {
        return (RECORD_HEADER + length + 7) & ~7;
    }

    private static long value(int segment, int offset, int length, boolean referenced, boolean peerHolds) {
        return (offset >>> 3) | ((long) (segment + 1) << SEGMENT_SHIFT) | ((long) length << LENGTH_SHIFT)
                | (referenced ? REFERENCED : 0) | (peerHolds ? PEER_HOLDS : 0);
    }

    private static int segment(long v) {
        return (int) ((v >>> SEGMENT_SHIFT) & SEGMENT_MASK) - 1;
    }

    private static int offset(long v) {
        return (int) ((v & OFFSET_MASK) << 3);
    }

    private static int length(long v) {
        return (int) ((v >>> LENGTH_SHIFT) & LENGTH_MASK);
    }

    /**
     * Makes segment {@code i} the newest: a header with the next generation, and with {@code empty} an end mark
     * right after it (a recycled segment gets its end mark once compacted).
     */
    private void startSegment(int i, boolean empty) throws IOException {
        generations[i] = ++maxGeneration;
        ByteBuffer b = ByteBuffer.allocate(SEGMENT_HEADER + (empty ? END_MARK : 0));
        b.putInt(0, SEGMENT_MAGIC).putInt(4, VERSION).putLong(8, generations[i]).putInt(16, segmentBytes);
        b.putInt(20, crc(b.array(), 0, 20));
        writeFully(i, b, 0);
        ends[i] = SEGMENT_HEADER;
    }

    @Override
    public long maxBytes() {
        return maxBytes;
    }

    /** The directory of the segment files. */
    public Path directory() {
        return dir;
    }

    @Override
    public void put(ChunkFingerprint fingerprint, byte[] chunk, int off, int len) {
        Objects.checkFromIndexSize(off, len, chunk.length);
        putCopy(fingerprint, len, chunk, off, null);
    }

    @Override
    public void put(ChunkFingerprint fingerprint, ByteBuffer chunk) {
        putCopy(fingerprint, chunk.remaining(), null, 0, chunk);
    }

    private synchronized void putCopy(ChunkFingerprint fp, int len, byte[] array, int off, ByteBuffer buffer) {
        Objects.requireNonNull(fp, "fingerprint");
        if (len < 1) {
            throw new IllegalArgumentException("chunk: " + len + " bytes (expected: > 0)");
        }
        int size = recordSize(len);
        if (closed || index.get(fp) != 0 || len > MAX_CHUNK || size + END_MARK > segmentBytes - SEGMENT_HEADER) {
            return; // held already, or too large to hold: the sender keeps sending it as a literal
        }
        byte[] record = new byte[size + END_MARK];
        ByteBuffer b = ByteBuffer.wrap(record);
        if (array != null) {
            System.arraycopy(array, off, record, RECORD_HEADER, len);
        } else {
            buffer.get(buffer.position(), record, RECORD_HEADER, len);
        }
        b.putInt(0, RECORD_MAGIC).putInt(4, len).putLong(8, fp.msb()).putLong(16, fp.lsb());
        b.putInt(24, crc(record, RECORD_HEADER, len));
        b.putInt(28, crc(record, 0, 28));
        try {
            // A segment whose chunks are all still in use is kept whole (their bits cleared) and the next one
            // recycled: after one turn of the ring every bit is clear, so this ends.
            for (int turns = 0; writePos + size > segmentBytes && turns <= segments.length; turns++) {
                advance();
            }
            if (writePos + size > segmentBytes) {
                return; // not reached: a whole turn clears every reference bit
            }
            int limit = Math.min(record.length, segmentBytes - writePos);
            writeFully(head, ByteBuffer.wrap(record, 0, limit), writePos);
            index.put(fp, value(head, writePos, len, false, true));
            bytesHeld += len;
            writePos += size;
            ends[head] = writePos;
            if (warned) {
                warned = false;
                log.info("chunk store {}: writing again ({} write failures so far)", dir, writeFailures);
            }
        } catch (IOException e) {
            writeFailed(e);
        }
    }

    private void writeFailed(IOException e) {
        writeFailures++;
        long now = System.nanoTime();
        if (writeFailures == 1 || now - lastWarnNanos > WARN_INTERVAL_NANOS) { // at most once a minute
            log.warn("chunk store {}: cannot write a chunk ({}: {}); chunks not stored go as literals "
                            + "({} write failures so far)", dir, e.getClass().getSimpleName(), e.getMessage(),
                    writeFailures);
            lastWarnNanos = now;
            warned = true;
        }
    }

    /** The head is full: recycle the next segment of the ring (the oldest) and write there. */
    private void advance() throws IOException {
        int next = (head + 1) % segments.length;
        int oldEnd = ends[next];
        try {
            startSegment(next, false);
            head = next;
            writePos = compact(next, oldEnd);
        } catch (IOException e) {
            dropIndexed(next, 0);
            head = next;
            writePos = SEGMENT_HEADER;
            ends[next] = SEGMENT_HEADER;
            throw e;
        }
        ends[next] = writePos;
    }

    /**
     * Keeps the referenced live records of segment {@code i}, moved to its front with the bit cleared; evicts
     * the rest. Returns where the kept records end.
     */
    private int compact(int i, int oldEnd) throws IOException {
        int keep = SEGMENT_HEADER;
        ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER);
        int off = SEGMENT_HEADER;
        boolean damaged = false;
        while (off + RECORD_HEADER <= oldEnd) {
            header.clear();
            int n = readFully(segments[i], header, off);
            if (checkHeader(header, 0, n, null) != null) {
                damaged = true; // since it was written: what follows cannot be framed, and is dropped below
                corruptDropped++;
                break;
            }
            int length = header.getInt(4);
            int size = recordSize(length);
            ChunkFingerprint fp = ChunkFingerprint.of(header.getLong(8), header.getLong(16));
            long v = index.get(fp);
            if (v != 0 && segment(v) == i && offset(v) == off) {
                if ((v & REFERENCED) != 0) {
                    ByteBuffer record = ByteBuffer.allocate(size);
                    readFully(segments[i], record, off);
                    if (crc(record.array(), RECORD_HEADER, length) == header.getInt(24)) {
                        if (keep != off) {
                            record.clear();
                            writeFully(i, record, keep);
                        }
                        index.put(fp, value(i, keep, length, false, (v & PEER_HOLDS) != 0));
                        keep += size;
                    } else {
                        corruptDropped++;
                        index.remove(fp);
                        bytesHeld -= length;
                    }
                } else {
                    index.remove(fp);
                    bytesHeld -= length;
                    evictions++;
                    evictedBytes += length;
                }
            }
            off += size;
        }
        if (damaged) {
            dropIndexed(i, keep); // a scan of the whole index: only when records could not be visited
        }
        if (keep + END_MARK <= segmentBytes) {
            writeFully(i, ByteBuffer.allocate(END_MARK), keep);
        }
        return keep;
    }

    /** Evicts every index entry that still points into segment {@code i} at or after {@code from}. */
    private void dropIndexed(int i, int from) {
        long[] dropped = new long[2];
        index.replaceAll((m, l, v) -> {
            if (segment(v) == i && offset(v) >= from) {
                dropped[0]++;
                dropped[1] += length(v);
                return 0;
            }
            return v;
        });
        evictions += dropped[0];
        evictedBytes += dropped[1];
        bytesHeld -= dropped[1];
    }

    @Override
    public synchronized ByteBuffer get(ChunkFingerprint fingerprint) {
        long v = closed ? 0 : index.get(fingerprint);
        if (v == 0) {
            misses++;
            return null;
        }
        int length = length(v);
        int seg = segment(v);
        ByteBuffer record = ByteBuffer.allocate(RECORD_HEADER + length);
        String bad;
        try {
            int n = readFully(segments[seg], record, offset(v));
            bad = checkHeader(record, 0, Math.min(n, RECORD_HEADER), fingerprint);
            if (bad == null && (record.getInt(4) != length || n < RECORD_HEADER + length)) {
                bad = "truncated";
            }
            if (bad == null && crc(record.array(), RECORD_HEADER, length) != record.getInt(24)) {
                bad = "data checksum mismatch";
            }
        } catch (IOException e) {
            bad = "unreadable: " + e.getMessage();
        }
        if (bad != null) {
            corruptDropped++;
            index.remove(fingerprint);
            bytesHeld -= length;
            misses++;
            log.warn("chunk store {}: record of {} in segment {} at {}: {}: dropped, answered as a miss", dir,
                    fingerprint, seg, offset(v), bad);
            return null;
        }
        hits++;
        index.put(fingerprint, v | REFERENCED);
        return ByteBuffer.wrap(record.array(), RECORD_HEADER, length).slice().asReadOnlyBuffer();
    }

    /**
     * The fingerprints of the newest {@code limit} chunks held, oldest first, in the order they were written
     * (segments by generation, records by offset): what a sender rebuilds its delta-base index from after a
     * restart, stream locality included.
     */
    public synchronized java.util.List<ChunkFingerprint> newestInWriteOrder(int limit) {
        java.util.List<long[]> entries = new java.util.ArrayList<>(index.size());
        index.forEach((m, l, v) -> entries.add(new long[] {generations[segment(v)], offset(v), m, l}));
        entries.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        java.util.List<ChunkFingerprint> newest = new java.util.ArrayList<>(Math.min(limit, entries.size()));
        for (long[] e : entries.subList(Math.max(0, entries.size() - limit), entries.size())) {
            newest.add(ChunkFingerprint.of(e[2], e[3]));
        }
        return newest;
    }

    @Override
    public synchronized boolean contains(ChunkFingerprint fingerprint) {
        return index.get(fingerprint) != 0;
    }

    @Override
    public synchronized void remove(ChunkFingerprint fingerprint) {
        long v = index.remove(fingerprint);
        if (v != 0) {
            bytesHeld -= length(v);
        }
    }

    /** Drops every chunk, on disk too (a reopen finds none); counters are kept. */
    @Override
    public synchronized void clear() {
        index.clear();
        bytesHeld = 0;
        if (closed) {
            return;
        }
        try {
            for (int i = segments.length - 1; i >= 0; i--) {
                segments[i].truncate(SEGMENT_HEADER);
                fileBytes[i] = Math.min(fileBytes[i], SEGMENT_HEADER);
                startSegment(i, true); // segment 0 last: the newest, written next
            }
            head = 0;
            writePos = SEGMENT_HEADER;
        } catch (IOException e) {
            writeFailed(e);
        }
    }

    // The sender's mirror (SentIndex backed by this store): which chunks the peer holds.

    /** Whether the chunk is held here and the peer is believed to hold it; makes it hotter. */
    synchronized boolean peerHolds(ChunkFingerprint fp) {
        long v = index.get(fp);
        if (v == 0 || (v & PEER_HOLDS) == 0) {
            misses++;
            return false;
        }
        hits++;
        index.put(fp, v | REFERENCED);
        return true;
    }

    synchronized void markPeerHolds(ChunkFingerprint fp, boolean holds) {
        long v = index.get(fp);
        if (v != 0) {
            index.put(fp, holds ? v | PEER_HOLDS : v & ~PEER_HOLDS);
        }
    }

    synchronized void forgetAllPeerHolds() {
        index.replaceAll((m, l, v) -> v & ~PEER_HOLDS);
    }

    /** Chunks and bytes the peer is believed to hold. */
    synchronized long[] peerHeld() {
        long[] held = new long[2];
        index.replaceAll((m, l, v) -> {
            if ((v & PEER_HOLDS) != 0) {
                held[0]++;
                held[1] += length(v);
            }
            return v;
        });
        return held;
    }

    @Override
    public synchronized ChunkStoreStats stats() {
        long onDisk = 0;
        for (long b : fileBytes) {
            onDisk += b;
        }
        return new ChunkStoreStats(hits, misses, evictions, evictedBytes, index.size(), bytesHeld, maxBytes, onDisk,
                corruptDropped, writeFailures);
    }

    /** Heap bytes of the index. */
    public synchronized long indexHeapBytes() {
        return index.heapBytes();
    }

    /** Forces what was written to disk and closes the files; later calls hold nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (FileChannel ch : segments) {
            if (ch == null) {
                continue;
            }
            try {
                ch.force(false);
            } catch (IOException e) {
                log.warn("chunk store {}: sync on close failed: {}", dir, e.getMessage());
            }
            try {
                ch.close();
            } catch (IOException e) {
                log.warn("chunk store {}: close failed: {}", dir, e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return "DiskChunkStore{" + dir + ", " + stats() + "}";
    }
}
