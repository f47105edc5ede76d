package io.slipstream.worker.wanopt;

import com.github.luben.zstd.ZstdException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.dedup.AnchorIndex;
import io.slipstream.worker.dedup.ChunkFeatures;
import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.dedup.GearChunker;
import io.slipstream.worker.dedup.IncrementalChunker;
import io.slipstream.worker.dedup.ResemblanceIndex;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one direction of a stream into DATA payloads: content-defined chunks (FastCDC), each sent
 * as a reference when the peer holds it, as a delta against a similar chunk the peer holds (found by
 * stream locality or by resemblance sketch, see docs/dedup.md) when that is much smaller than a
 * literal, and as a compressed literal otherwise. Literals are compressed in the stream's context
 * ({@link LiteralContext}, CLIT records: consecutive literals batched into one record) when the codec
 * is zstd in software; with a hardware primary provider, or another codec, each literal is one LIT
 * record through the compression SPI (the card cannot keep a context) and only deltas are compressed
 * in software. The bytes after the last cut go out with {@link #flushOpen} as soon as the local
 * socket has nothing more to give (the end of a read batch), without waiting, and with
 * {@link #flushTail} at the end of the stream.
 *
 * <p>Sending the open chunk early does not move later cuts: the chunker carries on, and the chunk
 * is fingerprinted whole when its cut arrives. Its pieces travel as {@link Records#PART} (raw when
 * small: {@link Records#PART_RAW}), after any literal batch held (stream order); the cut then sends
 * the rest as {@link Records#END} (the receiver stores the whole chunk, so it is referenced or used
 * as a delta base later) or {@link Records#END_REF} when the peer holds the whole chunk.
 *
 * <p>Data that neither shrinks nor repeats is recognised: after {@link #INCOMPRESSIBLE_STREAK}
 * literals (or literal batches; after one batch that did not shrink, each batch is one chunk) in a row
 * that saved less than {@link #MIN_SAVING}, with no reference or delta among them,
 * {@link #PASSTHROUGH_BYTES} go raw, without chunking, hashing or compressing; then it tries again.
 * Each probe that finds nothing to save doubles the next pass-through, up to
 * {@link #MAX_PASSTHROUGH_BYTES}: a probe (a literal batch and three chunks, about 350 KiB, deduplicated
 * and compressed) costs as much as several MiB passed through, so probing every 4 MiB of a long random
 * stream cost a third of the tunnel's throughput. A reference, a delta or a literal that saves resets
 * the streak and the pass-through length, so incompressible data that repeats (a jar sent again) keeps
 * its deduplication.
 *
 * <p>Not thread-safe: one per stream direction, on its event loop. Input buffers are owned here
 * from {@link #encode} on; returned payloads belong to the caller.
 */
final class StreamEncoder {

    static final int INCOMPRESSIBLE_STREAK = 4;
    static final double MIN_SAVING = 0.03;
    static final long PASSTHROUGH_BYTES = 4L << 20;
    static final long MAX_PASSTHROUGH_BYTES = 64L << 20;

    /**
     * Literals are batched into one CLIT record (one flush of the context) until this many bytes, a
     * record of another kind, {@link #flushOpen} or {@link #flushTail}: fewer, larger zstd blocks.
     */
    static final int BATCH_BYTES = 256 << 10;
    /** Shortest tail sent as a chunk (reference, delta, literal) rather than a BLOCK. */
    static final int MIN_TAIL_CHUNK = 1024;
    /** Zstd level of deltas (small inputs: a higher level costs little and finds more). */
    static final int DELTA_LEVEL = 6;
    /** Estimated literal cost (compressed / original) before the stream's first literals say better. */
    private static final double INITIAL_LITERAL_RATIO = 0.5;
    /** A delta must cost at most this share of the estimated literal cost to be sent. */
    private static final double DELTA_GAIN = 0.7;
    /** Pieces of an open chunk smaller than this go raw: compressing them saves less than it costs. */
    static final int SMALL_RAW_BYTES = 256;
    /**
     * Pieces of an open chunk at least this long are tried as a {@link Records#PART_DELTA} against chunks the
     * peer holds (their sketch and anchors are worth looking up); shorter ones, an interactive stream's
     * messages, go as PART or PART_RAW without that cost.
     */
    static final int MIN_DELTA_PIECE = 1024;
    /**
     * Most bases of one DELTAS record (their regions are one zstd dictionary). A chunk of a tar whose members
     * came in another order draws from many places: on the Debian corpus, 4 bases cost 1.38 % of the second
     * versions on the WAN and 8 bases 1.27 %, for the same dictionary budget.
     */
    static final int MAX_BASES = 8;
    /**
     * Whole chunks (by locality or resemblance) join a delta's dictionary only while it stays within this
     * many times the chunk's size: indexing the dictionary is what a delta costs.
     */
    static final int DICTIONARY_SHARE = 2;
    /**
     * Chunks referenced last (REF, or a base of a DELTA or DELTAS) kept with their bytes, to answer a NEED even
     * if the store evicted them: the bases of the last four DELTAS records at least (with 16 and eight bases
     * a record, WanOptimizerIT's small stores saw a NEED for a base already dropped).
     */
    static final int REFERENCED_KEPT = 4 * MAX_BASES;

    private final ResilientCompressor compressor;
    private final PeerDictionary dictionary;
    private final WanoptCounters counters;
    private final IncrementalChunker chunker;
    private final boolean contextLiterals;
    private LiteralContext.Compressor context;
    private DeltaCodec deltas;
    private byte[] chunkCopy = new byte[0];
    private byte[] deltaOut = new byte[0];
    private ByteBuf batchHeader;
    private ByteBuf batchBody;
    private int batchCount;
    private int batchBytes;
    private int batchCheck;
    private boolean lastBatchPoor;
    private double literalRatio = INITIAL_LITERAL_RATIO;
    private ChunkFingerprint previous;
    private ChunkFingerprint lastMatch;
    private CompositeByteBuf pending;
    private long pendingStart;
    private int streak;
    private long passthroughLeft;
    /** The pass-through the next incompressible streak engages. */
    private long passthroughNext = PASSTHROUGH_BYTES;
    private CompositeByteBuf out;
    private ByteBufAllocator alloc;
    /** Stream offset up to which bytes went out (the open chunk's beginning may be sent already). */
    private long sentUpTo;
    /**
     * The chunks this stream referenced last, with their bytes, so that a NEED for one of them can be
     * answered even if the shared store evicted it since (the NEED comes a round trip later).
     */
    private final LinkedHashMap<ChunkFingerprint, ByteBuffer> referenced =
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ChunkFingerprint, ByteBuffer> eldest) {
                    return size() > REFERENCED_KEPT;
                }
            };
    /** The bytes of the delta bases tried for the current chunk (the store is read once per base). */
    private final Map<ChunkFingerprint, ByteBuffer> tried = new HashMap<>();

    /**
     * @param compressor the switch to compress with, or {@code null} to send everything raw
     * @param dictionary the peer's dictionary, or {@code null} for no deduplication
     */
    StreamEncoder(ResilientCompressor compressor, PeerDictionary dictionary, GearChunker chunker,
                  WanoptCounters counters) {
        this.compressor = compressor;
        this.dictionary = compressor == null ? null : dictionary;
        this.counters = counters;
        this.chunker = chunker.incremental();
        this.contextLiterals = compressor != null && compressor.config().codec() == Codec.ZSTD
                && !compressor.primary().hardware();
    }

    /** Whether literals go in CLIT records (software zstd with a context), not LIT through the SPI. */
    boolean contextLiterals() {
        return contextLiterals;
    }

    /** Bytes waiting for their chunk to end, or in a batch of literals not flushed yet. */
    int tailBytes() {
        return (pending == null ? 0 : pending.readableBytes()) + batchBytes;
    }

    /** Encodes {@code in}; returns a payload, or {@code null} when everything waits in the tail. */
    ByteBuf encode(ByteBufAllocator alloc, ByteBuf in) {
        this.alloc = alloc;
        int n = in.readableBytes();
        counters.bytesIn(n);
        if (compressor == null || passthroughLeft > 0) {
            passthroughLeft = Math.max(0, passthroughLeft - n);
            tailToBlock();
            append(rawRecord(in, n));
        } else if (dictionary == null) {
            append(blockRecord(in));
            in.release();
        } else {
            if (pending == null) {
                pending = alloc.compositeBuffer(Integer.MAX_VALUE);
            }
            ByteBuffer view = in.nioBuffer();
            pending.addComponent(true, in);
            chunker.update(view, this::cut);
        }
        return takeOut();
    }

    /**
     * Sends the bytes of the open chunk not sent yet, without ending the chunk (the local socket has
     * nothing more to give right now), after the literal batch held; {@code null} if nothing waits.
     * The chunker carries on.
     */
    ByteBuf flushOpen(ByteBufAllocator alloc) {
        this.alloc = alloc;
        if (dictionary != null) {
            closeBatch();
            if (pending != null) {
                long position = pendingStart + pending.readableBytes();
                long from = Math.max(sentUpTo, pendingStart);
                if (position > from) {
                    openPiece((int) (from - pendingStart), (int) (position - pendingStart));
                    sentUpTo = position;
                }
            }
        }
        return takeOut();
    }

    /** Sends what waits (the rest of the open chunk, the literal batch) and ends the stream's chunking. */
    ByteBuf flushTail(ByteBufAllocator alloc) {
        this.alloc = alloc;
        tailToBlock();
        return takeOut();
    }

    /**
     * The CHUNK answer to a NEED: the chunk with this fingerprint, compressed, or {@code null} when it
     * is no longer held (the peer's store and our mirror of it drifted past what we keep).
     */
    ByteBuf chunkFor(ByteBufAllocator alloc, ChunkFingerprint fp) {
        ByteBuffer bytes = dictionary == null ? null : dictionary.sent.get(fp);
        if (bytes == null) {
            bytes = referenced.get(fp); // referenced a moment ago, evicted from the store meanwhile
            bytes = bytes == null ? null : bytes.duplicate();
        }
        if (bytes == null) {
            if (dictionary != null) {
                // Our mirror of the peer's store is out of step: start it afresh rather than fail again.
                dictionary.peerHolds.clear();
            }
            return null;
        }
        int length = bytes.remaining();
        ByteBuf chunk = alloc.buffer(ChunkFingerprint.BYTES + compressor.maxEnvelopeLength(length));
        writeFingerprint(chunk, fp);
        compressInto(chunk, bytes);
        dictionary.peerHolds.recordSent(fp, length);
        return chunk;
    }

    /** Releases what is held (the stream ended). */
    void release() {
        referenced.clear();
        discardBatch();
        if (context != null) {
            context.close();
            context = null;
        }
        if (deltas != null) {
            deltas.close();
            deltas = null;
        }
        if (pending != null) {
            pending.release();
            pending = null;
        }
        if (out != null) {
            out.release();
            out = null;
        }
    }

    /** The chunker found the end of a chunk at stream offset {@code end}. */
    private void cut(long end) {
        int length = (int) (end - pendingStart);
        int sentHead = (int) Math.max(0, sentUpTo - pendingStart);
        pendingStart = end;
        sentUpTo = end;
        ByteBuffer bytes = pending.readSlice(length).nioBuffer();
        ChunkFingerprint fp = dictionary.ours.fingerprint(bytes.duplicate());
        if (sentHead > 0) {
            // Its head went out already (PART records): the rest as END or END_REF, never a delta.
            endRecord(fp, bytes, length, sentHead);
        } else if (dictionary.peerHolds.peerHolds(fp) && dictionary.sent.contains(fp)) {
            // A reference only while we could still answer a NEED for it.
            closeBatch();
            ByteBuf record = alloc.buffer(1 + ChunkFingerprint.BYTES + 4);
            record.writeByte(Records.REF);
            writeFingerprint(record, fp);
            record.writeInt(length);
            counters.reference(length, record.readableBytes());
            saved();
            lastMatch = fp;
            keepReferenced(fp);
            append(record);
        } else {
            ChunkFeatures features = ChunkFeatures.of(bytes.duplicate());
            ChunkFingerprint base = delta(fp, bytes, length, features, length * literalRatio);
            if (base != null) {
                lastMatch = base;
                saved();
            } else {
                literal(fp, bytes, length);
                // The chunk that would have matched was replaced: the next one likely follows it.
                lastMatch = dictionary.resemblance.next(lastMatch);
            }
            dictionary.peerHolds.recordSent(fp, length);
            dictionary.sent.put(fp, bytes.duplicate());
            dictionary.resemblance.add(fp, features.sketch());
            dictionary.anchors.add(fp, features);
        }
        if (previous != null) {
            dictionary.resemblance.follow(previous, fp);
        }
        previous = fp;
        pending.discardReadComponents();
    }

    /**
     * The rest of a chunk whose first {@code sentHead} bytes went out before its cut was known: END_REF
     * when the peer holds the whole chunk, else END (the peer stores it whole). The bookkeeping is that
     * of a reference or a literal, so the chunk serves as a reference and a delta base later.
     */
    private void endRecord(ChunkFingerprint fp, ByteBuffer chunk, int length, int sentHead) {
        closeBatch();
        int rest = length - sentHead;
        ByteBuf record;
        if (dictionary.peerHolds.peerHolds(fp) && dictionary.sent.contains(fp)) {
            record = alloc.buffer(1 + ChunkFingerprint.BYTES + 8);
            record.writeByte(Records.END_REF);
            writeFingerprint(record, fp);
            record.writeInt(length).writeInt(sentHead);
            counters.reference(rest, record.readableBytes());
            saved();
            lastMatch = fp;
            keepReferenced(fp);
        } else {
            record = alloc.buffer(1 + ChunkFingerprint.BYTES + compressor.maxEnvelopeLength(rest));
            record.writeByte(Records.END);
            writeFingerprint(record, fp);
            ByteBuffer restBytes = chunk.duplicate();
            restBytes.position(restBytes.position() + sentHead);
            noteSaving(rest, compressInto(record, restBytes));
            counters.literal(rest, record.readableBytes());
            lastMatch = dictionary.resemblance.next(lastMatch);
            dictionary.peerHolds.recordSent(fp, length);
            dictionary.sent.put(fp, chunk.duplicate());
            ChunkFeatures features = ChunkFeatures.of(chunk.duplicate());
            dictionary.resemblance.add(fp, features.sketch());
            dictionary.anchors.add(fp, features);
        }
        append(record);
    }

    /**
     * Sends bytes {@code [from, to)} of the open chunk (offsets from its start) as PART_RAW or PART: raw when
     * under {@link #SMALL_RAW_BYTES}, or when the stream's literals have stopped shrinking (its estimated
     * literal ratio above {@code 1 - MIN_SAVING}): a 20000-byte echo of random bytes, compressed in vain on
     * both sides, took 3.9x the round trip of two plain relays.
     */
    private void openPiece(int from, int to) {
        int at = pending.readerIndex() + from;
        int n = to - from;
        ByteBuf record;
        if (n < SMALL_RAW_BYTES || literalRatio > 1 - MIN_SAVING) {
            // Small, or the stream's literals stopped shrinking: compressing would only add to the message's time.
            record = alloc.buffer(5 + n).writeByte(Records.PART_RAW).writeInt(n);
            record.writeBytes(pending, at, n);
            counters.rawBytes(n, record.readableBytes());
        } else {
            record = alloc.buffer(1 + compressor.maxEnvelopeLength(n));
            record.writeByte(Records.PART);
            int written = compressInto(record, pending.nioBuffer(at, n));
            noteSaving(n, written);
            noteLiteralRatio(n, written);
            // Only a piece that compresses is tried as a delta: the PART is what the delta must beat, and a stream
            // of incompressible pieces (an echo of random bytes, repeated) soon goes raw without trying either.
            if (n >= MIN_DELTA_PIECE && written <= n * (1 - MIN_SAVING)
                    && pieceDelta(pending.nioBuffer(at, n), n, record.readableBytes())) {
                record.release();
                return;
            }
            counters.literal(n, record.readableBytes());
        }
        append(record);
    }

    /**
     * Sends the piece {@code bytes} of the open chunk as a {@link Records#PART_DELTA} if the chunks the peer
     * holds make it small enough (the rule of {@link #delta}); whether it was sent. A refetched object smaller
     * than a chunk travels as pieces only, so without this an object changed slightly cost as much as the first
     * time. {@code partBytes}: what the PART record of the piece costs.
     */
    private boolean pieceDelta(ByteBuffer bytes, int length, int partBytes) {
        ChunkFeatures features = ChunkFeatures.of(bytes.duplicate());
        ChunkFingerprint base = delta(null, bytes, length, features, partBytes);
        if (base == null) {
            return false;
        }
        lastMatch = base;
        saved();
        return true;
    }

    private void keepReferenced(ChunkFingerprint fp) {
        ByteBuffer bytes = dictionary.sent.get(fp);
        if (bytes != null) {
            referenced.put(fp, bytes);
        }
    }

    /**
     * Sends the chunk as a DELTA (one whole base) or DELTAS (regions of up to {@link #MAX_BASES} bases) if
     * what the peer holds makes it small enough; returns the most preferred base used, or {@code null}
     * (nothing sent). With {@code fp} {@code null} the bytes are a piece of the open chunk: a PART_DELTA
     * (the DELTAS layout), its check that of the piece's own fingerprint. {@code literalCost}: what the bytes
     * would cost otherwise (estimated for a chunk, the PART record's size for a piece).
     *
     * <p>One compression per chunk, against one dictionary ({@link #heldBases}). The cost of a delta is the
     * indexing of its dictionary (about 3 ns a byte at any zstd level), so the dictionary holds the regions the
     * chunk's content came from rather than whole bases, and candidates are not tried one by one.
     */
    private ChunkFingerprint delta(ChunkFingerprint fp, ByteBuffer bytes, int length, ChunkFeatures features,
                                   double literalCost) {
        tried.clear();
        ChunkFingerprint expected = dictionary.resemblance.next(lastMatch);
        List<ChunkFingerprint> similar = features.sketch().length == 0 ? List.of()
                : dictionary.resemblance.similar(features.sketch(), MAX_BASES);
        List<AnchorIndex.Source> sources = features.anchors().length == 0 ? List.of()
                : dictionary.anchors.sources(features, MAX_BASES);
        List<Region> bases = heldBases(fp, features, sources, expected, similar);
        if (bases.isEmpty()) {
            counters.deltaCandidate(false);
            return null;
        }
        if (chunkCopy.length < length) {
            chunkCopy = new byte[length];
            deltaOut = new byte[DeltaCodec.maxFrameLength(length)];
        }
        bytes.duplicate().get(chunkCopy, 0, length);
        Region only = bases.get(0);
        boolean piece = fp == null;
        boolean whole = !piece && bases.size() == 1 && only.from == 0 && only.to == tried.get(only.base).remaining();
        // A chunk's records carry one fingerprint anyway (LIT, DELTA); a piece's alternative, PART, carries none.
        int overhead = whole ? 0 : 1 + 10 * bases.size() + (bases.size() - (piece ? 0 : 1)) * ChunkFingerprint.BYTES;
        int budget = (int) (literalCost * DELTA_GAIN) - ChunkFingerprint.BYTES - 10;
        int n = tryDelta(bases, length);
        if (n < 0 || n + overhead > budget) {
            tried.clear();
            counters.deltaCandidate(false);
            return null;
        }
        closeBatch();
        ByteBuf record = alloc.buffer(2 + bases.size() * (ChunkFingerprint.BYTES + 10) + 5 + 4 + 5 + n);
        if (whole) {
            record.writeByte(Records.DELTA);
            writeFingerprint(record, only.base);
        } else {
            record.writeByte(piece ? Records.PART_DELTA : Records.DELTAS).writeByte(bases.size());
            for (Region b : bases) {
                writeFingerprint(record, b.base);
                Records.writeVarint(record, b.from);
                Records.writeVarint(record, b.to - b.from);
            }
        }
        for (Region b : bases) {
            // The peer may ask for a base (NEED) a round trip from now, when the store may have evicted it.
            referenced.put(b.base, tried.get(b.base));
        }
        tried.clear();
        Records.writeVarint(record, length);
        record.writeInt(check(piece ? dictionary.ours.fingerprint(bytes.duplicate()) : fp));
        Records.writeVarint(record, n);
        record.writeBytes(deltaOut, 0, n);
        counters.delta(length, record.readableBytes());
        counters.deltaCandidate(true);
        append(record);
        return bases.get(bases.size() - 1).base;
    }

    /** Bytes {@code [from, to)} of chunk {@code base}, part of a delta's dictionary. */
    private record Region(ChunkFingerprint base, int from, int to) {
    }

    /**
     * A delta's dictionary: up to {@link #MAX_BASES} regions of distinct chunks the peer holds and whose bytes
     * are at hand, returned least preferred first (the dictionary's end is the cheapest to reach).
     * <ol>
     * <li>When the chunk's content mostly came from one place (its top source holds at least half of its
     * anchors, or no anchor was found: an edit in place), the chunk that followed the last match, whole and
     * most preferred. Anchors point to the latest copy of a piece of content; in a package with two builds of
     * one file that may be the other copy, and the delta against the one in stream order was up to 10x
     * smaller (react-dom).
     * <li>The regions the chunk's anchors came from, most votes first.
     * <li>Whole chunks by locality and resemblance while the dictionary stays within
     * {@link #DICTIONARY_SHARE} times the chunk (or nothing else was found).
     * </ol>
     */
    private List<Region> heldBases(ChunkFingerprint fp, ChunkFeatures features, List<AnchorIndex.Source> sources,
                                   ChunkFingerprint expected, List<ChunkFingerprint> similar) {
        List<Region> bases = new ArrayList<>(MAX_BASES);
        long size = 0;
        boolean inPlace = sources.isEmpty() || sources.get(0).votes() * 2 >= features.anchors().length;
        if (inPlace && expected != null) {
            ByteBuffer held = heldBase(fp, expected, bases);
            if (held != null) {
                bases.add(new Region(expected, 0, held.remaining()));
                size += held.remaining();
            }
        }
        for (AnchorIndex.Source s : sources) {
            ByteBuffer held = heldBase(fp, s.chunk(), bases);
            if (held != null && s.to() <= held.remaining() && s.length() > 0) {
                bases.add(new Region(s.chunk(), s.from(), s.to()));
                size += s.length();
            }
        }
        List<ChunkFingerprint> others = new ArrayList<>(1 + similar.size());
        if (expected != null) {
            others.add(expected);
        }
        others.addAll(similar);
        for (ChunkFingerprint b : others) {
            ByteBuffer held = heldBase(fp, b, bases);
            if (held != null && (bases.isEmpty()
                    || size + held.remaining() <= (long) DICTIONARY_SHARE * features.length())) {
                bases.add(new Region(b, 0, held.remaining()));
                size += held.remaining();
            }
        }
        Collections.reverse(bases);
        return bases;
    }

    /** The bytes of {@code base} if it may join the dictionary (another chunk, not in yet, held), else null. */
    private ByteBuffer heldBase(ChunkFingerprint fp, ChunkFingerprint base, List<Region> bases) {
        if (bases.size() >= MAX_BASES || base.equals(fp) || !dictionary.peerHolds.peerHolds(base)) {
            return null;
        }
        for (Region r : bases) {
            if (r.base.equals(base)) {
                return null;
            }
        }
        return baseBytes(base);
    }

    /**
     * The delta of {@code chunkCopy} against {@code bases} (their regions joined in order as one dictionary) in
     * {@code deltaOut}: its length, or -1 when zstd refuses the dictionary.
     */
    private int tryDelta(List<Region> bases, int length) {
        int total = 0;
        for (Region b : bases) {
            total += b.to - b.from;
        }
        byte[] joined = new byte[total];
        int at = 0;
        for (Region b : bases) {
            ByteBuffer held = tried.get(b.base);
            held.duplicate().position(held.position() + b.from).get(joined, at, b.to - b.from);
            at += b.to - b.from;
        }
        if (deltas == null) {
            deltas = new DeltaCodec(DELTA_LEVEL);
        }
        try {
            return deltas.compress(joined, chunkCopy, length, deltaOut);
        } catch (ZstdException e) {
            return -1; // e.g. a base zstd takes for a formatted dictionary and rejects: send a literal
        }
    }

    /** The bytes of a base held in the sent store, read once per chunk; {@code null} when evicted. */
    private ByteBuffer baseBytes(ChunkFingerprint base) {
        ByteBuffer held = tried.get(base);
        if (held == null) {
            held = dictionary.sent.get(base);
            if (held != null) {
                tried.put(base, held);
            }
        }
        return held;
    }

    private void literal(ChunkFingerprint fp, ByteBuffer bytes, int length) {
        if (!contextLiterals) {
            ByteBuf record = alloc.buffer(1 + ChunkFingerprint.BYTES + compressor.maxEnvelopeLength(length));
            record.writeByte(Records.LIT);
            writeFingerprint(record, fp);
            int written = compressInto(record, bytes.duplicate());
            noteSaving(length, written);
            noteLiteralRatio(length, written);
            counters.literal(length, record.readableBytes());
            append(record);
            return;
        }
        if (context == null) {
            context = new LiteralContext.Compressor(compressor.config().level());
        }
        if (batchHeader == null) {
            batchHeader = alloc.buffer(64);
            batchBody = alloc.buffer(length);
            batchCheck = 0;
        }
        Records.writeVarint(batchHeader, length);
        batchCheck ^= check(fp);
        context.add(bytes, batchBody);
        batchCount++;
        batchBytes += length;
        // After a batch that did not shrink, one chunk per batch: passthrough is decided per chunk again.
        if (batchBytes >= BATCH_BYTES || lastBatchPoor) {
            closeBatch();
        }
    }

    /** Ends the batch of literals (if any) with a flush of the context: one CLIT record. */
    private void closeBatch() {
        if (batchHeader == null) {
            return;
        }
        context.flush(batchBody);
        int body = batchBody.readableBytes();
        ByteBuf head = alloc.buffer(1 + 5 + 5);
        head.writeByte(Records.CLIT);
        Records.writeVarint(head, batchCount);
        ByteBuf tail = alloc.buffer(4 + 5);
        tail.writeInt(batchCheck);
        Records.writeVarint(tail, body);
        CompositeByteBuf record = alloc.compositeBuffer(4);
        record.addComponents(true, head, batchHeader, tail, batchBody);
        noteSaving(batchBytes, record.readableBytes());
        lastBatchPoor = record.readableBytes() > batchBytes * (1 - MIN_SAVING);
        noteLiteralRatio(batchBytes, record.readableBytes());
        counters.literal(batchBytes, record.readableBytes());
        batchHeader = null;
        batchBody = null;
        batchCount = 0;
        batchBytes = 0;
        append(record);
    }

    private void discardBatch() {
        if (batchHeader != null) {
            batchHeader.release();
            batchBody.release();
            batchHeader = null;
            batchBody = null;
        }
    }

    private void noteLiteralRatio(int length, int written) {
        literalRatio = 0.8 * literalRatio + 0.2 * Math.min(1.0, (double) written / length);
    }

    /** The check a CLIT or DELTA record carries: the high 32 bits of the keyed fingerprint. */
    static int check(ChunkFingerprint fp) {
        return (int) (fp.msb() >>> 32);
    }

    private void tailToBlock() {
        if (dictionary != null && pending != null && pending.readableBytes() >= MIN_TAIL_CHUNK) {
            // A tail long enough to be worth a chunk: deduplicated like one (a repeated file's last bytes).
            // Even when flushOpen sent all of it: an empty END (or END_REF) has the peer store it whole.
            cut(pendingStart + pending.readableBytes());
        }
        closeBatch();
        if (pending != null && pending.isReadable()) {
            // What flushOpen sent already is not sent again.
            pending.skipBytes((int) Math.min(pending.readableBytes(), Math.max(0, sentUpTo - pendingStart)));
            if (pending.isReadable()) {
                append(blockRecord(pending.readSlice(pending.readableBytes())));
            }
            pending.discardReadComponents();
        }
        chunker.reset();
        pendingStart = 0;
        sentUpTo = 0;
    }

    private ByteBuf blockRecord(ByteBuf in) {
        int n = in.readableBytes();
        ByteBuf record = alloc.buffer(1 + compressor.maxEnvelopeLength(n));
        record.writeByte(Records.BLOCK);
        noteSaving(n, compressInto(record, in.nioBuffer()));
        counters.literal(n, record.readableBytes());
        return record;
    }

    /** A RAW record: a 5-byte header and the input itself, not copied; takes over {@code in}. */
    private ByteBuf rawRecord(ByteBuf in, int n) {
        ByteBuf header = alloc.buffer(5).writeByte(Records.RAW).writeInt(n);
        counters.rawBytes(n, n + header.readableBytes());
        return alloc.compositeBuffer(2).addComponents(true, header, in);
    }

    private void noteSaving(int length, int written) {
        if (written > length * (1 - MIN_SAVING)) {
            if (++streak >= INCOMPRESSIBLE_STREAK) {
                passthroughLeft = passthroughNext;
                passthroughNext = Math.min(MAX_PASSTHROUGH_BYTES, 2 * passthroughNext);
                streak = 0;
                counters.passthroughEngaged();
            }
        } else {
            saved();
        }
    }

    /** Something saved bytes (a reference, a delta, a literal that shrank): probe data fully again. */
    private void saved() {
        streak = 0;
        passthroughNext = PASSTHROUGH_BYTES;
    }

    /** Bytes still to pass through raw (for tests). */
    long passthroughLeft() {
        return passthroughLeft;
    }

    private int compressInto(ByteBuf record, ByteBuffer src) {
        ByteBuffer dst = record.nioBuffer(record.writerIndex(), record.writableBytes());
        int written = compressor.compress(src, dst);
        record.writerIndex(record.writerIndex() + written);
        return written;
    }

    static void writeFingerprint(ByteBuf buf, ChunkFingerprint fp) {
        buf.writeLong(fp.msb()).writeLong(fp.lsb());
    }

    static ChunkFingerprint readFingerprint(ByteBuf buf) {
        return ChunkFingerprint.of(buf.readLong(), buf.readLong());
    }

    private void append(ByteBuf record) {
        if (out == null) {
            out = alloc.compositeBuffer(Integer.MAX_VALUE);
        }
        out.addComponent(true, record);
    }

    /** The payload built so far (counted as WAN bytes), or {@code null}. */
    private ByteBuf takeOut() {
        CompositeByteBuf result = out;
        out = null;
        if (result != null) {
            counters.wireBytes(result.readableBytes());
        }
        return result;
    }
}
