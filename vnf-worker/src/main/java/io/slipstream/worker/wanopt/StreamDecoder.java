package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.dedup.ChunkFingerprint;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Rebuilds the bytes of one stream direction from DATA payloads. Every compressed block is checked
 * by its envelope (size, checksum, bounded: no decompression bombs) and every literal or delta chunk
 * by its keyed fingerprint before it is stored or delivered; a reference to a chunk this side does
 * not hold, or a delta against one, becomes a {@link Missing} item (the caller asks for it with
 * NEED) and is never guessed. PART and PART_RAW records deliver the beginning of a chunk whose end is
 * not known yet; the bytes are kept until END (verified against its fingerprint with the rest, then
 * stored whole) or END_REF (the rest comes from the store). A PART_DELTA piece whose bases are not all here
 * is a {@link Missing} item like a DELTAS, and breaks the open chunk: nothing more of it is kept, and its END
 * delivers the rest without storing the chunk (see {@link Records}). CLIT records share one zstd context per stream direction, so payloads
 * must come in order; {@link #release} frees the native contexts. A
 * malformed record throws {@link CorruptedFrameException}: the stream is reset, nothing corrupt is
 * delivered. Not thread-safe.
 */
final class StreamDecoder {

    /** Largest chunk a reference may name, and largest block a record may decode to. */
    static final int MAX_CHUNK = 1 << 20;
    /** Most bytes one DATA payload may decode to (allocated blocks and literals): bounds bombs. */
    static final int MAX_DECODED_PER_PAYLOAD = 32 << 20;

    /**
     * A referenced chunk this side does not hold (yet): the chunk of a REF, or the base of a DELTA (then
     * {@link #delta} holds the frame, decoded once the base is here).
     */
    static final class Missing {
        final ChunkFingerprint fingerprint;
        final int length;
        final byte[] delta;
        final int check;
        /** The part of the chunk to deliver (an END_REF): {@code [offset, length)}. */
        final int offset;
        /** The bytes of the CHUNK that answered our NEED, kept here so eviction cannot take them. */
        ByteBuf answer;

        Missing(ChunkFingerprint fingerprint, int length) {
            this(fingerprint, length, null, 0, 0);
        }

        /** The base {@code fingerprint} of a delta decoding to {@code length} bytes. */
        Missing(ChunkFingerprint fingerprint, int length, byte[] delta, int check) {
            this(fingerprint, length, delta, check, 0);
        }

        private Missing(ChunkFingerprint fingerprint, int length, byte[] delta, int check, int offset) {
            this.fingerprint = fingerprint;
            this.length = length;
            this.delta = delta;
            this.check = check;
            this.offset = offset;
            this.piece = false;
            this.bases = null;
            this.regions = null;
            this.answers = null;
        }

        /**
         * The bases of a DELTAS record (some not held) and the region of each in the dictionary,
         * {@code fingerprint} the first of them not held.
         */
        Missing(ChunkFingerprint[] bases, int[] regions, ChunkFingerprint firstMissing, int length, byte[] delta,
                int check) {
            this(bases, regions, firstMissing, length, delta, check, false);
        }

        /** As DELTAS; {@code piece}: a PART_DELTA, whose bytes are a piece of a chunk, verified but not stored. */
        Missing(ChunkFingerprint[] bases, int[] regions, ChunkFingerprint firstMissing, int length, byte[] delta,
                int check, boolean piece) {
            this.piece = piece;
            this.fingerprint = firstMissing;
            this.length = length;
            this.delta = delta;
            this.check = check;
            this.offset = 0;
            this.bases = bases;
            this.regions = regions;
            this.answers = new ByteBuf[bases.length];
        }

        /** A PART_DELTA piece (bases as DELTAS), not a chunk: its bytes are verified by its check, not stored. */
        final boolean piece;
        /** DELTAS: every base, and the CHUNK answering each one asked for (kept so eviction cannot take it). */
        final ChunkFingerprint[] bases;
        /** DELTAS: offset and length of each base's region, in pairs. */
        final int[] regions;
        final ByteBuf[] answers;

        /** Releases what answered the NEEDs of this item. */
        void release() {
            if (answer != null) {
                answer.release();
                answer = null;
            }
            if (answers != null) {
                for (int i = 0; i < answers.length; i++) {
                    if (answers[i] != null) {
                        answers[i].release();
                        answers[i] = null;
                    }
                }
            }
        }
    }

    private final ResilientCompressor decompressor;
    private final PeerDictionary dictionary;
    private final LiteralContext.Decompressor context = new LiteralContext.Decompressor();
    private final DeltaCodec deltas = new DeltaCodec(StreamEncoder.DELTA_LEVEL);
    private long decodedBudget = MAX_DECODED_PER_PAYLOAD;
    /** The bytes delivered so far of the open chunk (PART and PART_RAW records), kept to store it whole. */
    private final ArrayList<ByteBuf> open = new ArrayList<>();
    private int openLength;
    /**
     * The open chunk lost a piece (a PART_DELTA waiting for its bases): nothing of it is kept, and its END
     * delivers the rest without storing the chunk.
     */
    private boolean openBroken;

    /** @param dictionary the peer's dictionary; {@code null} rejects LIT, REF, CLIT and DELTA records */
    StreamDecoder(ResilientCompressor decompressor, PeerDictionary dictionary) {
        this.decompressor = decompressor;
        this.dictionary = dictionary;
    }

    /**
     * Decodes {@code payload} (released) into {@code out}: {@link ByteBuf}s to deliver (owned by the
     * caller) and {@link Missing} chunks, in stream order.
     */
    void decode(ByteBufAllocator alloc, ByteBuf payload, List<Object> out) {
        int start = out.size();
        decodedBudget = MAX_DECODED_PER_PAYLOAD;
        try {
            while (payload.isReadable()) {
                int tag = payload.readUnsignedByte();
                switch (tag) {
                    case Records.RAW: {
                        closeOpen();
                        need(payload, 4, "raw length");
                        long n = payload.readUnsignedInt();
                        need(payload, n, "raw bytes");
                        out.add(payload.readRetainedSlice((int) n));
                        break;
                    }
                    case Records.BLOCK:
                        closeOpen();
                        out.add(envelope(alloc, payload));
                        break;
                    case Records.LIT:
                        closeOpen();
                        out.add(literal(alloc, payload));
                        break;
                    case Records.REF:
                        closeOpen();
                        out.add(reference(payload));
                        break;
                    case Records.CLIT:
                        closeOpen();
                        contextLiterals(alloc, payload, out);
                        break;
                    case Records.DELTA:
                        closeOpen();
                        out.add(delta(payload));
                        break;
                    case Records.DELTAS:
                        closeOpen();
                        out.add(deltas(payload));
                        break;
                    case Records.PART_RAW: {
                        requireDictionary("PART_RAW");
                        need(payload, 4, "part length");
                        long n = payload.readUnsignedInt();
                        need(payload, n, "part bytes");
                        // A copy: a slice would keep the whole frame alive while the chunk is open.
                        out.add(keep(alloc.buffer((int) n).writeBytes(payload, (int) n)));
                        break;
                    }
                    case Records.PART:
                        requireDictionary("PART");
                        out.add(keep(envelope(alloc, payload)));
                        break;
                    case Records.PART_DELTA:
                        out.add(partDelta(payload));
                        break;
                    case Records.END:
                        out.add(end(alloc, payload));
                        break;
                    case Records.END_REF:
                        out.add(endReference(payload));
                        break;
                    default:
                        throw new CorruptedFrameException("record tag: " + tag + " (expected: 1.." + Records.LAST + ")");
                }
            }
        } catch (RuntimeException e) {
            closeOpen();
            for (int i = out.size() - 1; i >= start; i--) {
                Object o = out.remove(i);
                if (o instanceof ByteBuf) {
                    ((ByteBuf) o).release();
                } else if (o instanceof Missing) {
                    ((Missing) o).release();
                }
            }
            throw e instanceof CorruptedFrameException ? e
                    : new CorruptedFrameException("corrupt record: " + e.getMessage(), e);
        } finally {
            payload.release();
        }
    }

    /**
     * Stores the chunk of a CHUNK frame (the answer to a NEED) after checking its fingerprint, and
     * hands its bytes to every {@link Missing} item of {@code waiting} that names it.
     */
    void storeChunk(ByteBufAllocator alloc, ByteBuf payload, Iterable<Object> waiting) {
        decodedBudget = MAX_DECODED_PER_PAYLOAD;
        try {
            ByteBuf chunk = literal(alloc, payload);
            try {
                if (payload.isReadable()) {
                    throw new CorruptedFrameException("CHUNK payload: " + payload.readableBytes() + " trailing bytes");
                }
                ChunkFingerprint fp = dictionary.theirs().fingerprint(chunk.nioBuffer());
                for (Object item : waiting) {
                    if (!(item instanceof Missing)) {
                        continue;
                    }
                    Missing m = (Missing) item;
                    if (m.bases != null) {
                        for (int i = 0; i < m.bases.length; i++) {
                            if (m.answers[i] == null && m.bases[i].equals(fp)) {
                                m.answers[i] = chunk.retainedDuplicate();
                            }
                        }
                    } else if (m.answer == null && m.fingerprint.equals(fp)) {
                        m.answer = chunk.retainedDuplicate();
                    }
                }
            } finally {
                chunk.release();
            }
        } catch (RuntimeException e) {
            throw e instanceof CorruptedFrameException ? e
                    : new CorruptedFrameException("corrupt chunk: " + e.getMessage(), e);
        }
    }

    /** Whether the bytes of {@code missing} are here (answered, or received since); consumes nothing. */
    boolean holds(Missing missing) {
        if (missing.bases != null) {
            return needed(missing).isEmpty();
        }
        return missing.answer != null || (dictionary != null && dictionary.received.contains(missing.fingerprint));
    }

    /**
     * The chunks to ask the peer for (NEED) so that {@code missing} can be delivered; empty when all are here.
     * Bases of a DELTAS that arrived since are kept with the item (pinned), so that no eviction can take
     * a base that was never asked for.
     */
    List<ChunkFingerprint> needed(Missing missing) {
        if (missing.bases == null) {
            return holds(missing) ? List.of() : List.of(missing.fingerprint);
        }
        List<ChunkFingerprint> wanted = new ArrayList<>();
        for (int i = 0; i < missing.bases.length; i++) {
            if (missing.answers[i] != null) {
                continue;
            }
            ByteBuffer held = dictionary.received.get(missing.bases[i]);
            if (held != null) {
                missing.answers[i] = pin(held);
            } else if (!wanted.contains(missing.bases[i])) {
                wanted.add(missing.bases[i]);
            }
        }
        return wanted;
    }

    /** A copy of a stored chunk's bytes, owned by a waiting item. */
    private static ByteBuf pin(ByteBuffer stored) {
        byte[] copy = new byte[stored.remaining()];
        stored.duplicate().get(copy);
        return Unpooled.wrappedBuffer(copy);
    }

    /** The bytes of a missing chunk if it has arrived since, else {@code null}. */
    ByteBuf resolve(Missing missing) {
        if (missing.bases != null) {
            ByteBuffer[] parts = new ByteBuffer[missing.bases.length];
            for (int i = 0; i < parts.length; i++) {
                parts[i] = missing.answers[i] != null ? missing.answers[i].nioBuffer()
                        : dictionary.received.get(missing.bases[i]);
                if (parts[i] == null) {
                    return null;
                }
            }
            try {
                return Unpooled.wrappedBuffer(rebuild(missing.piece ? "PART_DELTA" : "DELTAS", parts, missing.regions,
                        missing.delta, missing.length, missing.check, !missing.piece));
            } finally {
                missing.release();
            }
        }
        if (missing.delta != null) {
            ByteBuffer base;
            if (missing.answer != null) {
                base = missing.answer.nioBuffer();
            } else {
                base = dictionary.received.get(missing.fingerprint);
                if (base == null) {
                    return null;
                }
            }
            try {
                return Unpooled.wrappedBuffer(rebuild("DELTA", new ByteBuffer[] {base}, null, missing.delta,
                        missing.length, missing.check, true));
            } finally {
                if (missing.answer != null) {
                    missing.answer.release();
                    missing.answer = null;
                }
            }
        }
        if (missing.answer != null) {
            ByteBuf answer = missing.answer;
            missing.answer = null;
            if (answer.readableBytes() != missing.length) {
                answer.release();
                throw new CorruptedFrameException("reference length: " + missing.length + " (the chunk holds "
                        + answer.readableBytes() + " bytes)");
            }
            if (missing.offset == 0) {
                return answer;
            }
            ByteBuf rest = answer.retainedSlice(missing.offset, missing.length - missing.offset);
            answer.release();
            return rest;
        }
        ByteBuffer bytes = dictionary.received.get(missing.fingerprint);
        if (bytes == null) {
            return null;
        }
        if (bytes.remaining() != missing.length) {
            throw new CorruptedFrameException("reference length: " + missing.length + " (the chunk holds "
                    + bytes.remaining() + " bytes)");
        }
        return Unpooled.wrappedBuffer(bytes).slice(missing.offset, missing.length - missing.offset);
    }

    /** Keeps a copy of {@code part} of the open chunk; returns {@code part}. */
    private ByteBuf keep(ByteBuf part) {
        try {
            growOpen(part.readableBytes());
        } catch (RuntimeException e) {
            part.release();
            throw e;
        }
        if (!openBroken) {
            open.add(part.retainedDuplicate());
        }
        return part;
    }

    /** Counts {@code n} more bytes delivered of the open chunk. */
    private void growOpen(int n) {
        openLength += n;
        if (openLength > MAX_CHUNK) {
            throw new CorruptedFrameException("open chunk of more than " + MAX_CHUNK + " bytes (expected: an END within "
                    + MAX_CHUNK + ")");
        }
    }

    /** A piece of {@code n} bytes of the open chunk will be delivered later: drop what was kept, keep nothing more. */
    private void breakOpen(int n) {
        growOpen(n);
        for (ByteBuf b : open) {
            b.release();
        }
        open.clear();
        openBroken = true;
    }

    private void closeOpen() {
        for (ByteBuf b : open) {
            b.release();
        }
        open.clear();
        openLength = 0;
        openBroken = false;
    }

    /** END_REF: the open chunk is one this side holds; delivers its bytes after those already delivered. */
    private Object endReference(ByteBuf payload) {
        requireDictionary("END_REF");
        need(payload, ChunkFingerprint.BYTES + 8, "end reference");
        ChunkFingerprint fp = StreamEncoder.readFingerprint(payload);
        long length = payload.readUnsignedInt();
        long offset = payload.readUnsignedInt();
        if (openLength == 0 || offset != openLength) {
            throw new CorruptedFrameException("end reference offset: " + offset + " (expected: " + openLength
                    + ", the bytes delivered of the open chunk, at least 1)");
        }
        if (length > MAX_CHUNK || offset > length) {
            throw new CorruptedFrameException("end reference of a " + length + "-byte chunk from " + offset
                    + " (expected: a chunk of " + offset + ".." + MAX_CHUNK + " bytes)");
        }
        closeOpen();
        Missing missing = new Missing(fp, (int) length, null, 0, (int) offset);
        ByteBuf held = resolve(missing);
        return held != null ? held : missing;
    }

    /** END: the rest of the open chunk; with the kept bytes it is verified and stored whole. */
    private ByteBuf end(ByteBufAllocator alloc, ByteBuf payload) {
        requireDictionary("END");
        need(payload, ChunkFingerprint.BYTES, "end fingerprint");
        ChunkFingerprint fp = StreamEncoder.readFingerprint(payload);
        ByteBuf rest = envelope(alloc, payload);
        try {
            if (openLength == 0) {
                throw new CorruptedFrameException("END without an open chunk (expected: PART or PART_RAW records first)");
            }
            if (openLength + (long) rest.readableBytes() > MAX_CHUNK) {
                throw new CorruptedFrameException("chunk ended by END of " + (openLength + (long) rest.readableBytes())
                        + " bytes (expected: <= " + MAX_CHUNK + ")");
            }
            if (openBroken) {
                // A piece is still to come (or came) through NEED: no whole to verify, so the chunk is not stored.
                return rest;
            }
            ByteBuffer whole = ByteBuffer.allocate(openLength + rest.readableBytes());
            for (ByteBuf b : open) {
                whole.put(b.nioBuffer());
            }
            whole.put(rest.nioBuffer()).flip();
            if (!dictionary.theirs().fingerprint(whole.duplicate()).equals(fp)) {
                throw new CorruptedFrameException("chunk ended by END does not match its fingerprint");
            }
            dictionary.received.put(fp, whole);
        } catch (RuntimeException e) {
            rest.release();
            throw e;
        } finally {
            closeOpen();
        }
        return rest;
    }

    private ByteBuf literal(ByteBufAllocator alloc, ByteBuf payload) {
        requireDictionary("LIT");
        need(payload, ChunkFingerprint.BYTES, "literal fingerprint");
        ChunkFingerprint fp = StreamEncoder.readFingerprint(payload);
        ByteBuf chunk = envelope(alloc, payload);
        if (!dictionary.theirs().fingerprint(chunk.nioBuffer()).equals(fp)) {
            chunk.release();
            throw new CorruptedFrameException("literal chunk does not match its fingerprint");
        }
        dictionary.received.put(fp, chunk.nioBuffer());
        return chunk;
    }

    private Object reference(ByteBuf payload) {
        requireDictionary("REF");
        need(payload, ChunkFingerprint.BYTES + 4, "reference");
        ChunkFingerprint fp = StreamEncoder.readFingerprint(payload);
        long length = payload.readUnsignedInt();
        if (length == 0 || length > MAX_CHUNK) {
            throw new CorruptedFrameException("reference length: " + length + " (expected: 1.." + MAX_CHUNK + ")");
        }
        Missing missing = new Missing(fp, (int) length);
        ByteBuf held = resolve(missing);
        return held != null ? held : missing;
    }

    /** CLIT: consecutive literals compressed in the stream's context; each verified, stored, delivered. */
    private void contextLiterals(ByteBufAllocator alloc, ByteBuf payload, List<Object> out) {
        requireDictionary("CLIT");
        int count = Records.readVarint(payload, "CLIT count");
        if (count < 1 || count > MAX_DECODED_PER_PAYLOAD / 64) {
            throw new CorruptedFrameException("CLIT count: " + count + " (expected: 1.." + MAX_DECODED_PER_PAYLOAD / 64
                    + ")");
        }
        int[] lengths = new int[count];
        long total = 0;
        for (int i = 0; i < count; i++) {
            lengths[i] = chunkLength(Records.readVarint(payload, "CLIT length"), "CLIT length");
            total += lengths[i];
            budget(lengths[i]);
        }
        need(payload, 4, "CLIT check");
        int check = payload.readInt();
        int n = Records.readVarint(payload, "CLIT size");
        need(payload, n, "CLIT bytes");
        ByteBuf block = alloc.directBuffer((int) total);
        try {
            context.decompress(payload.readSlice(n), block, (int) total);
            ChunkFingerprint[] fps = new ChunkFingerprint[count];
            for (int i = 0; i < count; i++) {
                fps[i] = dictionary.theirs().fingerprint(block.nioBuffer(block.readerIndex() + offset(lengths, i),
                        lengths[i]));
                check ^= StreamEncoder.check(fps[i]);
            }
            if (check != 0) {
                throw new CorruptedFrameException("CLIT chunks do not match their fingerprint check");
            }
            for (int i = 0; i < count; i++) {
                ByteBuf chunk = block.readRetainedSlice(lengths[i]);
                out.add(chunk);
                dictionary.received.put(fps[i], chunk.nioBuffer());
            }
        } finally {
            block.release();
        }
    }

    private static int offset(int[] lengths, int i) {
        int at = 0;
        for (int j = 0; j < i; j++) {
            at += lengths[j];
        }
        return at;
    }

    /** DELTA: a chunk against a base; rebuilt now if the base is here, else a {@link Missing} base. */
    private Object delta(ByteBuf payload) {
        requireDictionary("DELTA");
        need(payload, ChunkFingerprint.BYTES, "DELTA base");
        ChunkFingerprint base = StreamEncoder.readFingerprint(payload);
        DeltaBody body = deltaBody(payload, "DELTA");
        ByteBuffer held = dictionary.received.get(base);
        if (held == null) {
            return new Missing(base, body.length, body.frame, body.check);
        }
        return Unpooled.wrappedBuffer(rebuild("DELTA", new ByteBuffer[] {held}, null, body.frame, body.length,
                body.check, true));
    }

    /** What follows the base(s) of a DELTA or DELTAS record: chunk length, check and the zstd frame. */
    private record DeltaBody(int length, int check, byte[] frame) {
    }

    private DeltaBody deltaBody(ByteBuf payload, String record) {
        int length = chunkLength(Records.readVarint(payload, record + " length"), record + " length");
        need(payload, 4, record + " check");
        int check = payload.readInt();
        int n = Records.readVarint(payload, record + " size");
        need(payload, n, record + " bytes");
        budget(length);
        byte[] frame = new byte[n];
        payload.readBytes(frame);
        return new DeltaBody(length, check, frame);
    }

    /**
     * DELTAS: a chunk against regions of one or several bases, one dictionary; rebuilt now if every base is
     * here, else a {@link Missing} naming them all (its NEEDs ask for those not held).
     */
    private Object deltas(ByteBuf payload) {
        requireDictionary("DELTAS");
        return regionsDelta(payload, "DELTAS", false);
    }

    /**
     * PART_DELTA: a piece of the open chunk against regions of bases, as DELTAS; rebuilt, verified against its
     * check, delivered and kept now if every base is here, else a {@link Missing} piece, and the open chunk is
     * broken (see {@link #breakOpen}).
     */
    private Object partDelta(ByteBuf payload) {
        requireDictionary("PART_DELTA");
        Object piece = regionsDelta(payload, "PART_DELTA", true);
        if (piece instanceof ByteBuf) {
            return keep((ByteBuf) piece);
        }
        Missing missing = (Missing) piece;
        try {
            breakOpen(missing.length);
        } catch (RuntimeException e) {
            missing.release();
            throw e;
        }
        return missing;
    }

    /**
     * A DELTAS or PART_DELTA record after its tag: rebuilt now if every base is here, else a {@link Missing}
     * naming them all (its NEEDs ask for those not held). A piece is verified but not stored.
     */
    private Object regionsDelta(ByteBuf payload, String record, boolean piece) {
        need(payload, 1, record + " count");
        int count = payload.readUnsignedByte();
        if (count < 1 || count > StreamEncoder.MAX_BASES) {
            throw new CorruptedFrameException(record + " count: " + count + " (expected: 1.." + StreamEncoder.MAX_BASES
                    + ")");
        }
        ChunkFingerprint[] bases = new ChunkFingerprint[count];
        int[] regions = new int[2 * count];
        for (int i = 0; i < count; i++) {
            need(payload, ChunkFingerprint.BYTES, record + " base");
            bases[i] = StreamEncoder.readFingerprint(payload);
            regions[2 * i] = Records.readVarint(payload, record + " region offset");
            regions[2 * i + 1] = Records.readVarint(payload, record + " region length");
            if (regions[2 * i + 1] < 1 || regions[2 * i + 1] > MAX_CHUNK || regions[2 * i] > MAX_CHUNK) {
                throw new CorruptedFrameException(record + " region: " + regions[2 * i] + "+" + regions[2 * i + 1]
                        + " (expected: a region of 1.." + MAX_CHUNK + " bytes within a chunk)");
            }
        }
        DeltaBody body = deltaBody(payload, record);
        ByteBuffer[] parts = new ByteBuffer[count];
        ChunkFingerprint firstMissing = null;
        for (int i = 0; i < count; i++) {
            parts[i] = dictionary.received.get(bases[i]);
            if (parts[i] == null && firstMissing == null) {
                firstMissing = bases[i];
            }
        }
        if (firstMissing == null) {
            return Unpooled.wrappedBuffer(rebuild(record, parts, regions, body.frame, body.length, body.check, !piece));
        }
        Missing missing = new Missing(bases, regions, firstMissing, body.length, body.frame, body.check, piece);
        for (int i = 0; i < count; i++) {
            if (parts[i] != null) {
                missing.answers[i] = pin(parts[i]); // storing what answers the NEEDs may evict it meanwhile
            }
        }
        return missing;
    }

    /**
     * The chunk {@code frame} decodes to against {@code bases} concatenated (the region of each that
     * {@code regions} gives in offset, length pairs, or each whole when {@code null}), verified and, when
     * {@code store} (a chunk, not a piece of one), stored.
     */
    private byte[] rebuild(String record, ByteBuffer[] bases, int[] regions, byte[] frame, int length, int check,
                           boolean store) {
        int total = 0;
        for (int i = 0; i < bases.length; i++) {
            int n = bases[i].remaining();
            if (regions != null && (long) regions[2 * i] + regions[2 * i + 1] > n) {
                throw new CorruptedFrameException(record + " region " + regions[2 * i] + "+" + regions[2 * i + 1]
                        + " lies outside its base (" + n + " bytes)");
            }
            total += regions == null ? n : regions[2 * i + 1];
        }
        byte[] dictionaryBytes = new byte[total];
        int at = 0;
        for (int i = 0; i < bases.length; i++) {
            ByteBuffer b = bases[i].duplicate();
            int n = b.remaining();
            if (regions != null) {
                b.position(b.position() + regions[2 * i]);
                n = regions[2 * i + 1];
            }
            b.get(dictionaryBytes, at, n);
            at += n;
        }
        byte[] chunk = deltas.decompress(dictionaryBytes, frame, 0, frame.length, length);
        verifyAndStore(ByteBuffer.wrap(chunk), check, record, store);
        return chunk;
    }

    private void verifyAndStore(ByteBuffer chunk, int check, String record, boolean store) {
        ChunkFingerprint fp = dictionary.theirs().fingerprint(chunk.duplicate());
        if (StreamEncoder.check(fp) != check) {
            throw new CorruptedFrameException(record + (store ? " chunk" : " piece")
                    + " does not match its fingerprint check");
        }
        if (store) {
            dictionary.received.put(fp, chunk);
        }
    }

    private static int chunkLength(int length, String what) {
        if (length < 1 || length > MAX_CHUNK) {
            throw new CorruptedFrameException(what + ": " + length + " (expected: 1.." + MAX_CHUNK + ")");
        }
        return length;
    }

    private void budget(int n) {
        decodedBudget -= n;
        if (decodedBudget < 0) {
            throw new CorruptedFrameException("payload decodes to more than " + MAX_DECODED_PER_PAYLOAD
                    + " bytes (expected: less; a decompression bomb?)");
        }
    }

    /** Frees the native compression contexts (the stream ended). */
    void release() {
        closeOpen();
        context.close();
        deltas.close();
    }

    private void requireDictionary(String record) {
        if (dictionary == null || dictionary.theirs() == null) {
            throw new CorruptedFrameException(record + " record without a chunk dictionary for this peer");
        }
    }

    private ByteBuf envelope(ByteBufAllocator alloc, ByteBuf payload) {
        // Only the header is looked at first: a copy of the whole rest per record would be quadratic.
        ByteBuffer header = payload.nioBuffer(payload.readerIndex(),
                Math.min(payload.readableBytes(), ResilientCompressor.HEADER_BYTES));
        int length = decompressor.peekEnvelopeLength(header);
        if (length < 0 || length > payload.readableBytes()) {
            throw new CorruptedFrameException("block envelope truncated");
        }
        ByteBuffer envelope = payload.nioBuffer(payload.readerIndex(), length);
        int original = decompressor.peekOriginalLength(envelope.duplicate());
        if (original > MAX_CHUNK) {
            throw new CorruptedFrameException("block of " + original + " bytes (expected: <= " + MAX_CHUNK + ")");
        }
        decodedBudget -= original;
        if (decodedBudget < 0) {
            throw new CorruptedFrameException("payload decodes to more than " + MAX_DECODED_PER_PAYLOAD
                    + " bytes (expected: less; a decompression bomb?)");
        }
        ByteBuf block = alloc.buffer(original);
        try {
            int n = decompressor.decompress(envelope, block.nioBuffer(0, original));
            block.writerIndex(n);
        } catch (RuntimeException e) {
            block.release();
            throw e;
        }
        payload.skipBytes(length);
        return block;
    }

    private static void need(ByteBuf b, long n, String what) {
        if (b.readableBytes() < n) {
            throw new CorruptedFrameException(what + ": truncated (" + b.readableBytes() + " of " + n + " bytes)");
        }
    }
}
