package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.slipstream.worker.compression.ResilientCompressor;
import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.dedup.GearChunker;
import io.slipstream.worker.dedup.IncrementalChunker;
import java.nio.ByteBuffer;

/**
 * Turns one direction of a stream into DATA payloads: content-defined chunks (FastCDC), each sent
 * as a reference when the peer holds it and as a compressed literal when not. The bytes after the
 * last cut wait for more data and go out with {@link #flushTail} (the caller's idle timer, or the
 * end of the stream) as a compressed block, so a bulk stream is cut by content, not by its reads.
 *
 * <p>Data that neither shrinks nor repeats is recognised: after {@link #INCOMPRESSIBLE_STREAK}
 * literals in a row that saved less than {@link #MIN_SAVING}, with no reference among them,
 * {@link #PASSTHROUGH_BYTES} go raw, without chunking, hashing or compressing; then it tries again.
 * A reference resets the streak, so incompressible data that repeats (a jar sent again) keeps its
 * deduplication.
 *
 * <p>Not thread-safe: one per stream direction, on its event loop. Input buffers are owned here
 * from {@link #encode} on; returned payloads belong to the caller.
 */
final class StreamEncoder {

    static final int INCOMPRESSIBLE_STREAK = 8;
    static final double MIN_SAVING = 0.03;
    static final long PASSTHROUGH_BYTES = 4L << 20;

    private final ResilientCompressor compressor;
    private final PeerDictionary dictionary;
    private final WanoptCounters counters;
    private final IncrementalChunker chunker;
    private CompositeByteBuf pending;
    private long pendingStart;
    private int streak;
    private long passthroughLeft;
    private CompositeByteBuf out;
    private ByteBufAllocator alloc;

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
    }

    /** Bytes waiting for their chunk to end. */
    int tailBytes() {
        return pending == null ? 0 : pending.readableBytes();
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

    /** Sends what waits in the tail as a compressed block; {@code null} if nothing waits. */
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
        pendingStart = end;
        ByteBuffer bytes = pending.readSlice(length).nioBuffer();
        ChunkFingerprint fp = dictionary.ours.fingerprint(bytes.duplicate());
        ByteBuf record;
        // A reference only while we could still answer a NEED for it.
        if (dictionary.peerHolds.peerHolds(fp) && dictionary.sent.contains(fp)) {
            record = alloc.buffer(1 + ChunkFingerprint.BYTES + 4);
            record.writeByte(Records.REF);
            writeFingerprint(record, fp);
            record.writeInt(length);
            counters.reference(length);
            streak = 0;
        } else {
            record = alloc.buffer(1 + ChunkFingerprint.BYTES + compressor.maxEnvelopeLength(length));
            record.writeByte(Records.LIT);
            writeFingerprint(record, fp);
            noteSaving(length, compressInto(record, bytes.duplicate()));
            dictionary.peerHolds.recordSent(fp, length);
            dictionary.sent.put(fp, bytes.duplicate());
            counters.literal(length);
        }
        append(record);
        pending.discardReadComponents();
    }

    private void tailToBlock() {
        if (pending != null && pending.isReadable()) {
            ByteBuf tail = pending.readSlice(pending.readableBytes());
            append(blockRecord(tail));
            pending.discardReadComponents();
        }
        chunker.reset();
        pendingStart = 0;
    }

    private ByteBuf blockRecord(ByteBuf in) {
        int n = in.readableBytes();
        ByteBuf record = alloc.buffer(1 + compressor.maxEnvelopeLength(n));
        record.writeByte(Records.BLOCK);
        noteSaving(n, compressInto(record, in.nioBuffer()));
        counters.literal(n);
        return record;
    }

    /** A RAW record: a 5-byte header and the input itself, not copied; takes over {@code in}. */
    private ByteBuf rawRecord(ByteBuf in, int n) {
        ByteBuf header = alloc.buffer(5).writeByte(Records.RAW).writeInt(n);
        counters.rawBytes(n);
        return alloc.compositeBuffer(2).addComponents(true, header, in);
    }

    private void noteSaving(int length, int written) {
        if (written > length * (1 - MIN_SAVING)) {
            if (++streak >= INCOMPRESSIBLE_STREAK) {
                passthroughLeft = PASSTHROUGH_BYTES;
                streak = 0;
                counters.passthroughEngaged();
            }
        } else {
            streak = 0;
        }
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
