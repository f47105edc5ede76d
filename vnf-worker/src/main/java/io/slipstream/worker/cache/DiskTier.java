package io.slipstream.worker.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.PlatformDependent;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache's disk tier (docs/cache.md, "Disk tier"): stored responses in files of a directory, one per
 * variant ({@link DiskObjects} format), indexed by a second byte-weighted Caffeine (W-TinyLFU) store whose
 * entries serve the memory-mapped body: hits, HEADs and ranges are slices of the mapping, so serving from disk
 * costs no heap or direct memory. Objects come here when the memory tier evicts them (spills) and, streamed
 * from the origin, when they are larger than the memory tier takes (spools). A disk hit of an object the
 * memory tier could hold offers a copy to the memory tier, whose W-TinyLFU admission decides whether it
 * stays: the hot set is kept in memory. Parts of a representation come here by the same rules: those the
 * memory tier evicts, and those of an object that would hold more than the memory tier takes ({@link
 * #spillPartial}, {@link #spoolPart}); each write is a {@code .prt} file, combined in the index into the key's
 * partial object ({@link CacheStore#mergePartial}).
 *
 * <p>All file work runs on one thread. At start the directory is scanned and every file checked (header
 * checksum, exact length, body checksum); a corrupt or truncated file is counted, logged and deleted, never
 * served. A directory that cannot be created or written, or a full disk, leaves the memory tier serving as
 * before: the failure is logged once and counted.
 */
final class DiskTier implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(DiskTier.class);
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    /** The file name suffix of a partial object (the ranges held of a representation). */
    static final String PARTS = ".prt";

    /** Opens a new object file for writing (injectable, to test a failing disk). */
    interface Opener {
        FileChannel open(Path file) throws IOException;
    }

    static final Opener FILES = f -> FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

    final Path dir;
    private final long maxBytes;
    private final Opener opener;
    private final CacheStore index;
    private final ExecutorService io;
    /** Bytes handed to the file thread and not yet written: bounded, so a slow disk cannot hold memory. */
    private final AtomicLong pending = new AtomicLong();
    private final long maxPending;
    private final Set<CacheKey> promoting = ConcurrentHashMap.newKeySet();
    private final Set<CacheKey> spooling = ConcurrentHashMap.newKeySet();
    /** Writes queued or in progress; a purge of their key cancels them, so a purged object is never published. */
    private final Set<Pending> inFlight = ConcurrentHashMap.newKeySet();

    /**
     * A write not yet published: its key and tags, the strong validator of a partial object's parts (null for a
     * complete object), and whether a purge has cancelled it.
     */
    private static final class Pending {
        final CacheKey key;
        final Set<String> tags;
        final String partsValidator;
        volatile boolean cancelled;

        Pending(CacheKey key, Set<String> tags) {
            this(key, tags, null);
        }

        Pending(CacheKey key, Set<String> tags, String partsValidator) {
            this.key = key;
            this.tags = tags;
            this.partsValidator = partsValidator;
        }
    }
    private final AtomicBoolean warned = new AtomicBoolean();
    private final CompletableFuture<Void> loaded = new CompletableFuture<>();
    private volatile boolean usable;
    private volatile boolean closing;

    final LongAdder writes = new LongAdder();
    final LongAdder writeFailures = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder corrupt = new LongAdder();
    final LongAdder recovered = new LongAdder();
    /** Sound files found at start that are larger than this start's limit (deleted). */
    final LongAdder tooLarge = new LongAdder();
    final LongAdder promotions = new LongAdder();

    /**
     * @param maxBytes the bound on the files' bytes
     * @param maxPending the bound on bytes waiting to be written
     */
    DiskTier(Path dir, long maxBytes, long maxPending, Opener opener) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("cache disk bytes: " + maxBytes + " (expected: > 0)");
        }
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.maxPending = maxPending;
        this.opener = opener;
        this.index = new CacheStore(maxBytes, Math.min(maxBytes, Integer.MAX_VALUE - 1024), this::deleteFile);
        this.io = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cache-disk");
            t.setDaemon(true);
            return t;
        });
    }

    /** Creates the directory and, in the background, rebuilds the index from its files. */
    DiskTier start() {
        io.execute(this::load);
        return this;
    }

    /** Completes once the index has been rebuilt (or the directory found unusable). */
    CompletableFuture<Void> loaded() {
        return loaded;
    }

    boolean usable() {
        return usable;
    }

    /** The largest object the disk tier takes. */
    long maxObjectBytes() {
        return index.maxObjectBytes();
    }

    long bytes() {
        return index.weightedSize();
    }

    long entries() {
        return index.entryCount();
    }

    CacheStore index() {
        return index;
    }

    private void load() {
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) {
                throw new IOException("not writable");
            }
            usable = true;
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(".part")) {
                        Files.deleteIfExists(f); // a write interrupted by a crash
                    } else if (name.endsWith(".obj")) {
                        recover(f);
                    } else if (name.endsWith(PARTS)) {
                        recoverParts(f);
                    }
                }
            }
            log.info("cache disk tier {}: {} objects, {} bytes (of {}), {} corrupt files dropped", dir,
                    index.entryCount(), index.weightedSize(), maxBytes, corrupt.sum());
        } catch (IOException | RuntimeException e) {
            usable = false;
            failed("directory " + dir + " unusable", e);
        } finally {
            loaded.complete(null);
        }
    }

    /** The preamble and header of a file whose magic must be {@code magic}, ready to decode. */
    private static ByteBuffer readHead(FileChannel ch, byte[] magic) throws IOException {
        ByteBuffer preamble = ByteBuffer.allocate(DiskObjects.PREAMBLE);
        readFully(ch, preamble, 0);
        int headerLength = DiskObjects.headerLength(preamble.flip(), magic);
        ByteBuffer head = ByteBuffer.allocate(DiskObjects.PREAMBLE + headerLength);
        readFully(ch, head, 0);
        return head.flip();
    }

    /**
     * The body of a sound file, mapped from {@code offset} and checked against {@code crc}; {@code null} when the
     * body is larger than this start's object limit (evicted, not corrupt: the file is deleted).
     *
     * @throws IOException when the body does not match its checksum
     */
    private MappedByteBuffer mapChecked(Path f, FileChannel ch, long offset, long bodyLength, int crc)
            throws IOException {
        if (bodyLength > index.maxObjectBytes()) {
            log.info("cache disk tier: {} ({} bytes) exceeds the limit of {} bytes: deleted", f.getFileName(),
                    bodyLength, index.maxObjectBytes());
            tooLarge.increment();
            deletePath(f);
            return null;
        }
        MappedByteBuffer body = ch.map(FileChannel.MapMode.PRIVATE, offset, bodyLength);
        if (!DiskObjects.bodyMatches(body, crc)) {
            PlatformDependent.freeDirectBuffer(body);
            throw new IOException("body checksum mismatch");
        }
        return body;
    }

    private void recover(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer head = readHead(ch, DiskObjects.MAGIC);
            int headBytes = head.limit();
            DiskObjects.Header h = DiskObjects.decode(head, ch.size());
            MappedByteBuffer body = mapChecked(f, ch, headBytes, h.bodyLength(), h.bodyCrc());
            if (body == null) {
                return;
            }
            CachedResponse entry = CachedResponse.onDisk(ALLOC, h.stored(), h.secondaryKey(), h.tags(), mapped(body), f);
            if (h.softPurged()) {
                entry.markSoftPurged();
            }
            index.put(CacheKey.of(URI.create(h.key())), entry);
            entry.release();
            recovered.increment();
        } catch (IOException | RuntimeException e) {
            corrupt.increment();
            log.warn("cache disk tier: dropping {}: {}", f.getFileName(), e.getMessage());
            deletePath(f);
        }
    }

    /**
     * Indexes the partial object of file {@code f} after checking it ({@link DiskObjects#decodeParts}, the body
     * checksum over the mapping); a corrupt or truncated file is counted and deleted, one larger than this
     * start's limit deleted. Its ranges are combined with those of the key's other files
     * ({@link CacheStore#mergePartial}); a file nothing is taken from is deleted.
     */
    private void recoverParts(Path f) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer head = readHead(ch, DiskObjects.PARTS_MAGIC);
            int headBytes = head.limit();
            DiskObjects.PartsHeader h = DiskObjects.decodeParts(head, ch.size());
            MappedByteBuffer body = mapChecked(f, ch, headBytes, h.bodyLength(), h.bodyCrc());
            if (body == null) {
                return;
            }
            PartialObject parts = partsOnDisk(h, body, f);
            if (index.mergePartial(CacheKey.of(URI.create(h.key())), parts, index.maxObjectBytes())) {
                recovered.increment();
            }
            parts.release(); // nothing of it held: its file is deleted now
        } catch (IOException | RuntimeException e) {
            corrupt.increment();
            log.warn("cache disk tier: dropping {}: {}", f.getFileName(), e.getMessage());
            deletePath(f);
        }
    }

    /**
     * A partial object over {@code body}, the mapped bytes of the held ranges in order. The file lives as long
     * as its mapping: once no segment of any partial object (on disk or brought back to memory) refers to it,
     * it is deleted (not when the tier closes).
     */
    private PartialObject partsOnDisk(DiskObjects.PartsHeader h, MappedByteBuffer body, Path file) {
        ByteBuf mappedBody = mapped(body, () -> {
            if (!closing) {
                deletePath(file);
            }
        });
        List<PartialObject.Segment> segments = new java.util.ArrayList<>();
        int offset = 0;
        for (io.slipstream.worker.cache.policy.ByteRanges.Range r : h.held().ranges()) {
            segments.add(new PartialObject.Segment(r.first(), mappedBody.retainedSlice(offset, (int) r.length())));
            offset += (int) r.length();
        }
        mappedBody.release();
        return new PartialObject(h.stored(), h.held(), segments, h.tags());
    }

    /**
     * Writes {@code parts} (a partial object the memory tier evicted) to a file, indexed as the key's partial
     * object once written. The caller passes one reference, which this releases; as {@link #spill}, nothing is
     * written (and it is counted) when the directory is unusable or too much is waiting.
     */
    void spillPartial(CacheKey key, PartialObject parts) {
        Pending p = new Pending(key, parts.tags(), parts.held().validator());
        queue(parts.bytes(), p, () -> writeParts(p, parts), parts::release);
    }

    /**
     * Cancels the partial objects of {@code key} waiting to be written unless they are of the representation
     * named by {@code keep} (null: all of them): a response of another representation was seen.
     */
    void cancelPartialSpills(CacheKey key, String keep) {
        for (Pending p : inFlight) {
            if (p.partsValidator != null && p.key.equals(key) && !p.partsValidator.equals(keep)) {
                p.cancelled = true;
            }
        }
    }

    private void writeParts(Pending p, PartialObject parts) {
        if (!usable) {
            writeFailures.increment();
            return;
        }
        CRC32C crc = new CRC32C();
        long total = 0;
        for (PartialObject.Segment seg : parts.segments()) {
            crc.update(seg.bytes().nioBuffer());
            total += seg.bytes().readableBytes();
        }
        DiskObjects.PartsHeader h = new DiskObjects.PartsHeader(p.key.value(), parts.stored(), parts.tags(),
                parts.held(), total, (int) crc.getValue());
        Path file = newFile(p.key, Map.of(), PARTS);
        Path part = part(file);
        try {
            byte[] header = DiskObjects.encodeParts(h);
            try (FileChannel ch = opener.open(part)) {
                writeFully(ch, ByteBuffer.wrap(header));
                for (PartialObject.Segment seg : parts.segments()) {
                    writeFully(ch, seg.bytes().nioBuffer());
                }
            }
            publishParts(p, part, file, h, header.length);
        } catch (IOException | RuntimeException e) {
            deletePath(part);
            failed("writing " + file.getFileName(), e);
        }
    }

    /** Renames a written file into place and maps its body (after {@code headerBytes}) for reading. */
    private static MappedByteBuffer moveAndMap(Path part, Path file, int headerBytes, long bodyLength)
            throws IOException {
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return ch.map(FileChannel.MapMode.PRIVATE, headerBytes, bodyLength);
        }
    }

    /** Renames a written parts file into place and combines its ranges into the key's partial object. */
    private void publishParts(Pending p, Path part, Path file, DiskObjects.PartsHeader h, int headerBytes)
            throws IOException {
        if (p.cancelled || closing) {
            deletePath(part);
            return;
        }
        MappedByteBuffer mappedBody = moveAndMap(part, file, headerBytes, h.bodyLength());
        PartialObject onDisk = partsOnDisk(h, mappedBody, file);
        if (index.mergePartial(p.key, onDisk, index.maxObjectBytes())) {
            if (p.cancelled) {
                index.dropPartialIf(p.key, x -> true); // a purge or a new representation raced with it
            } else {
                writes.increment();
            }
        }
        onDisk.release(); // nothing of it held (or dropped again): its file is deleted now
    }

    /**
     * Writes {@code entry} (evicted from memory) to a file. The caller passes one reference, which this
     * releases; when the directory is unusable or too much is waiting, nothing is written and it is counted.
     */
    void spill(CacheKey key, CachedResponse entry) {
        Pending p = new Pending(key, entry.tags());
        queue(entry.bytes(), p, () -> write(p, entry), entry::release);
    }

    /** Queues {@code write} of {@code n} bytes on the file thread unless refused (counted); {@code release} always runs. */
    private void queue(long n, Pending p, Runnable write, Runnable release) {
        if (closing || n > index.maxObjectBytes()) {
            release.run();
            return;
        }
        if (unusable()) {
            writeFailures.increment();
            release.run();
            return;
        }
        if (pending.addAndGet(n) > maxPending) {
            pending.addAndGet(-n);
            dropped.increment();
            release.run();
            return;
        }
        inFlight.add(p);
        try {
            io.execute(() -> {
                try {
                    write.run();
                } finally {
                    inFlight.remove(p);
                    pending.addAndGet(-n);
                    release.run();
                }
            });
        } catch (RuntimeException e) {
            inFlight.remove(p);
            pending.addAndGet(-n);
            release.run();
        }
    }

    /** Cancels the writes not yet published whose key or tags {@code purged} selects (a purge or invalidation). */
    void cancelPending(java.util.function.BiPredicate<CacheKey, Set<String>> purged) {
        for (Pending p : inFlight) {
            if (purged.test(p.key, p.tags)) {
                p.cancelled = true;
            }
        }
    }

    /** Runs {@code task} on the file thread after what is queued (tests order their steps with it). */
    void onFileThread(Runnable task) {
        io.execute(task);
    }

    /** Writes may be queued: the tier is not closing and its directory not found unusable. */
    boolean takesWrites() {
        return !closing && !unusable();
    }

    /** The directory was found unusable (while it is being scanned, work is queued behind the scan). */
    private boolean unusable() {
        return loaded.isDone() && !usable;
    }

    private void write(Pending p, CachedResponse entry) {
        CacheKey key = p.key;
        if (!usable) {
            writeFailures.increment();
            return;
        }
        ByteBuffer body = entry.body().nioBuffer();
        DiskObjects.Header h = new DiskObjects.Header(key.value(), entry.stored(), entry.secondaryKey(), entry.tags(),
                entry.softPurged(), body.remaining(), DiskObjects.crc(body));
        Path file = newFile(key, entry.secondaryKey(), ".obj");
        Path part = part(file);
        try {
            byte[] header = DiskObjects.encode(h);
            try (FileChannel ch = opener.open(part)) {
                writeFully(ch, ByteBuffer.wrap(header));
                writeFully(ch, body.duplicate());
            }
            publish(p, part, file, h, header.length);
        } catch (IOException | RuntimeException e) {
            deletePath(part);
            failed("writing " + file.getFileName(), e);
        }
    }

    private void publish(Pending p, Path part, Path file, DiskObjects.Header h, int headerBytes)
            throws IOException {
        if (p.cancelled || closing) {
            deletePath(part);
            return;
        }
        MappedByteBuffer mappedBody = moveAndMap(part, file, headerBytes, h.bodyLength());
        CachedResponse onDisk = CachedResponse.onDisk(ALLOC, h.stored(), h.secondaryKey(), h.tags(), mapped(mappedBody),
                file);
        if (h.softPurged()) {
            onDisk.markSoftPurged();
        }
        index.put(p.key, onDisk);
        if (p.cancelled) {
            index.removeVariant(p.key, onDisk); // a purge raced with the publication
            deletePath(file);
        } else {
            writes.increment();
        }
        onDisk.release();
    }

    /** The stored variants of {@code key} on disk; offers them to {@code memory} (its admission decides). */
    List<CachedResponse> variants(CacheKey key, CacheStore memory) {
        List<CachedResponse> found = index.variants(key);
        if (!found.isEmpty() && !closing && promoting.add(key)) {
            try {
                io.execute(() -> {
                    try {
                        promote(key, found, memory);
                    } finally {
                        promoting.remove(key);
                    }
                });
            } catch (RuntimeException e) {
                promoting.remove(key);
            }
        }
        return found;
    }

    private void promote(CacheKey key, List<CachedResponse> found, CacheStore memory) {
        for (CachedResponse e : found) {
            if (e.bytes() > memory.maxObjectBytes() || e.softPurged() || !e.tryRetain()) {
                continue;
            }
            try {
                if (!index.variants(key).contains(e)) {
                    continue; // purged or replaced since the lookup: never brought back
                }
                CachedResponse copy = e.copyToMemory(ALLOC);
                if (memory.putIfAbsent(key, copy)) {
                    if (index.variants(key).contains(e)) {
                        promotions.increment();
                    } else {
                        memory.removeVariant(key, copy); // a purge raced with the copy
                    }
                }
                copy.release();
            } finally {
                e.release();
            }
        }
    }

    /**
     * Starts writing a response streamed from the origin (too large for memory) to a file, or returns null
     * when the disk tier cannot take it (unusable, too large, or this key is being written already).
     */
    Spool spool(CacheKey key, StoredResponse stored, Map<String, String> secondaryKey, Set<String> tags,
                long length) {
        if (unusable() || closing || length < 0 || length > index.maxObjectBytes()) {
            if (unusable() && !closing) {
                writeFailures.increment();
            }
            return null;
        }
        if (!spooling.add(key)) {
            return null;
        }
        DiskObjects.Header h = new DiskObjects.Header(key.value(), stored, secondaryKey, tags, false, length, 0);
        return new Spool(key, tags, null, newFile(key, secondaryKey, ".obj"), length, () -> DiskObjects.encode(h),
                (p, part, file, headerBytes) -> publish(p, part, file, h, headerBytes));
    }

    /**
     * Starts writing one part (a single range, {@code held}) of the representation {@code stored} describes (its
     * combined head, a 200) to a file as its bytes stream by, for a part too large for the memory tier; once
     * complete it is combined with the parts on disk as a spilled one is. Null when the disk tier cannot take it
     * (unusable, too large, or this key is being written already).
     */
    Spool spoolPart(CacheKey key, StoredResponse stored, Set<String> tags, PartialContent.Held held) {
        long length = held.bytes();
        if (unusable() || closing || length > index.maxObjectBytes()) {
            if (unusable() && !closing) {
                writeFailures.increment();
            }
            return null;
        }
        if (!spooling.add(key)) {
            return null;
        }
        DiskObjects.PartsHeader h = new DiskObjects.PartsHeader(key.value(), stored, tags, held, length, 0);
        return new Spool(key, tags, held.validator(), newFile(key, Map.of(), PARTS), length,
                () -> DiskObjects.encodeParts(h), (p, part, file, headerBytes) -> publishParts(p, part, file, h,
                        headerBytes));
    }

    /** Encodes a file's preamble and header (the body checksum patched in at the end). */
    private interface HeaderEncoder {
        byte[] encode() throws IOException;
    }

    /** Renames a complete file into place and indexes it. */
    private interface Publisher {
        void publish(Pending p, Path part, Path file, int headerBytes) throws IOException;
    }

    /**
     * One response (or one part of a representation) being written as it streams by. Chunks are retained and written in order on the file
     * thread; when the disk falls behind by more than the pending bound, the spool gives up (the client's
     * stream is not slowed or harmed).
     */
    final class Spool {
        private final CacheKey key;
        private final Pending pendingWrite;
        private final long bodyLength;
        private final Publisher publisher;
        private final Path file;
        private final Path part;
        private final CRC32C crc = new CRC32C();
        private FileChannel ch;
        private byte[] encoded;
        private long received;
        private volatile boolean failed;
        private boolean over;

        private Spool(CacheKey key, Set<String> tags, String partsValidator, Path file, long bodyLength,
                      HeaderEncoder encoder, Publisher publisher) {
            this.key = key;
            this.pendingWrite = new Pending(key, tags, partsValidator);
            inFlight.add(pendingWrite);
            this.bodyLength = bodyLength;
            this.publisher = publisher;
            this.file = file;
            this.part = part(file);
            io.execute(() -> run(() -> {
                if (!usable) {
                    throw new IOException("directory unusable");
                }
                encoded = encoder.encode();
                ch = opener.open(part);
                writeFully(ch, ByteBuffer.wrap(encoded));
            }));
        }

        /** Appends a copy-free retained slice of {@code data} (the caller keeps its own reference). */
        void append(ByteBuf data) {
            if (over) {
                return;
            }
            int n = data.readableBytes();
            received += n;
            if (failed || received > bodyLength || pending.addAndGet(n) > maxPending) {
                if (!failed && received <= bodyLength) {
                    dropped.increment();
                }
                pending.addAndGet(-n);
                abort();
                return;
            }
            ByteBuf chunk = data.retainedSlice();
            try {
                io.execute(() -> {
                    try {
                        run(() -> {
                            ByteBuffer b = chunk.nioBuffer();
                            crc.update(b.duplicate());
                            writeFully(ch, b);
                        });
                    } finally {
                        pending.addAndGet(-n);
                        chunk.release();
                    }
                });
            } catch (RuntimeException e) {
                pending.addAndGet(-n);
                chunk.release();
                abort();
            }
        }

        /** The whole body has arrived: completes the file and indexes it (if nothing failed on the way). */
        void finish() {
            if (over) {
                return;
            }
            over = true;
            if (received != bodyLength) {
                abortNow();
                return;
            }
            execute(() -> {
                run(() -> {
                    DiskObjects.patchBodyCrc(encoded, (int) crc.getValue());
                    ch.write(ByteBuffer.wrap(encoded), 0);
                    ch.close();
                    publisher.publish(pendingWrite, part, file, encoded.length);
                });
                cleanUp();
            });
        }

        /** The response broke off or was refused: the partial file is deleted. */
        void abort() {
            if (over) {
                return;
            }
            over = true;
            abortNow();
        }

        private void abortNow() {
            failed = true;
            execute(this::cleanUp);
        }

        private void execute(Runnable r) {
            try {
                io.execute(r);
            } catch (RuntimeException e) {
                spooling.remove(key);
                inFlight.remove(pendingWrite);
            }
        }

        private void cleanUp() {
            spooling.remove(key);
            inFlight.remove(pendingWrite);
            if (ch != null && ch.isOpen()) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // deleting it next
                }
            }
            if (failed || !Files.exists(file)) {
                deletePath(part);
            }
        }

        private void run(IoStep step) {
            if (failed) {
                return;
            }
            try {
                step.run();
            } catch (IOException | RuntimeException e) {
                failed = true;
                failed("writing " + file.getFileName(), e);
            }
        }
    }

    private interface IoStep {
        void run() throws IOException;
    }

    private Path newFile(CacheKey key, Map<String, String> secondaryKey, String suffix) {
        String h = Integer.toHexString((key.value() + secondaryKey).hashCode());
        return dir.resolve(h + "-" + UUID.randomUUID() + suffix);
    }

    private static Path part(Path file) {
        return file.resolveSibling(file.getFileName() + ".part");
    }

    private void failed(String what, Throwable e) {
        writeFailures.increment();
        if (warned.compareAndSet(false, true)) {
            log.warn("cache disk tier {}: {}: {}; serving from memory (counted in slipstream.cache.disk.write.failures,"
                    + " further failures not logged)", dir, what, e.toString());
        }
    }

    /** The index dropped {@code e} (evicted, purged, replaced): its file goes at once. */
    private void deleteFile(CachedResponse e) {
        if (e.file() != null && !closing) {
            deletePath(e.file());
        }
    }

    private static void deletePath(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a file that cannot be deleted is found again (and checked) at the next start
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                throw new IOException("truncated: " + b.remaining() + " bytes missing");
            }
            pos += n;
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** A ByteBuf over a mapping that unmaps it when the last reference (of every slice) is released. */
    static ByteBuf mapped(MappedByteBuffer m) {
        return mapped(m, () -> { });
    }

    /** As {@link #mapped(MappedByteBuffer)}, running {@code afterUnmap} once it is unmapped. */
    static ByteBuf mapped(MappedByteBuffer m, Runnable afterUnmap) {
        if (PlatformDependent.hasUnsafe()) {
            return new UnpooledUnsafeDirectByteBuf(UnpooledByteBufAllocator.DEFAULT, m, m.capacity()) {
                @Override
                protected void deallocate() {
                    super.deallocate();
                    PlatformDependent.freeDirectBuffer(m);
                    afterUnmap.run();
                }
            };
        }
        return new UnpooledDirectByteBuf(UnpooledByteBufAllocator.DEFAULT, m, m.capacity()) {
            @Override
            protected void deallocate() {
                super.deallocate();
                PlatformDependent.freeDirectBuffer(m);
                afterUnmap.run();
            }
        };
    }

    /** Stops the file thread; the files stay for the next start. */
    @Override
    public void close() {
        closing = true;
        io.shutdown();
        try {
            io.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        index.close();
    }
}
