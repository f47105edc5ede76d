package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;

/**
 * Records inside a DATA frame's payload. A payload is a sequence of records, each starting with a
 * one-byte tag:
 *
 * <pre>
 * RAW   1  u32 length, bytes                       bytes sent as they are (incompressible data)
 * BLOCK 2  compression envelope                    bytes compressed, not deduplicated (a stream's tail)
 * LIT   3  fingerprint (16), compression envelope  a new chunk: verify its fingerprint, store it, deliver it
 * REF   4  fingerprint (16), u32 length            a chunk the receiver holds: deliver it from the store
 * CLIT  5  varint count, count x varint length, u32 check, varint n, n bytes
 *                                                  new chunks compressed in the stream's literal context
 *                                                  (one zstd frame per stream direction, flushed per record)
 * DELTA 6  base fingerprint (16), varint length, u32 check, varint n, n bytes
 *                                                  a new chunk as a zstd frame (magicless) whose dictionary is
 *                                                  the base chunk, which the receiver holds
 * PART_RAW 7  u32 length, bytes                    the beginning (or more) of a chunk whose end is not known yet:
 *                                                  deliver it and keep it until the chunk ends
 * PART  8  compression envelope                    the same, compressed
 * END   9  fingerprint (16), compression envelope  the rest of the open chunk: deliver it; the kept bytes and it
 *                                                  form the chunk with this fingerprint: verify, store
 * END_REF 10 fingerprint (16), u32 chunk length,   the open chunk is a chunk the receiver holds, of which the
 *          u32 offset                              first {@code offset} bytes were delivered: deliver the rest
 * DELTAS 11 u8 count (1..8), count x (base fingerprint (16), varint offset, varint length), varint length,
 *          u32 check, varint n, n bytes            a DELTA whose dictionary is regions of base chunks the receiver
 *                                                  holds, concatenated in the record's order (content gathered
 *                                                  from several places: the files of a tar in another order)
 * PART_DELTA 12 u8 count (1..8), count x (base fingerprint (16), varint offset, varint length), varint length,
 *          u32 check, varint n, n bytes            a piece of the open chunk (as PART) encoded as DELTAS is, against
 *                                                  regions of base chunks the receiver holds: deliver it, keep it
 * </pre>
 *
 * Records 7 to 10 and 12 let a sender flush the bytes after the last content-defined cut at once (the
 * local socket has nothing more to give) without ending the chunk there: later cuts stay where the
 * content puts them, and the receiver still stores the chunk whole. Any other record closes an open
 * chunk (what was kept of it is dropped).
 *
 * <p>A PART_DELTA whose bases are not all held is delivered later, once the NEEDs for them are answered
 * (a {@link StreamDecoder.Missing} item, as for DELTAS), and breaks the open chunk: the receiver drops what it
 * kept of it and keeps nothing more, and the END that closes it delivers its rest without storing the chunk
 * (there is nothing whole to verify it against). The sender believes the receiver holds that chunk, so a
 * later reference to it (or a delta against it) is asked for with NEED and answered from the sender's store:
 * the dictionaries heal, nothing is guessed. The check of a PART_DELTA piece is the high 32 bits of the
 * keyed fingerprint of the piece's bytes, computed as a chunk's; the piece itself is never stored.
 *
 * A CHUNK frame (the answer to NEED) carries one fingerprint and envelope, stored but not delivered.
 * The envelope is self-describing (codec, sizes, checksum; see docs/compression.md). The check of a
 * DELTA chunk is the high 32 bits of its keyed fingerprint, that of a CLIT record those of its chunks
 * XORed together; the receiver computes every fingerprint in full (to store the chunk under it) and
 * compares: a record that does not match is rejected, nothing of it delivered.
 */
final class Records {

    static final int RAW = 1;
    static final int BLOCK = 2;
    static final int LIT = 3;
    static final int REF = 4;
    static final int CLIT = 5;
    static final int DELTA = 6;
    static final int PART_RAW = 7;
    static final int PART = 8;
    static final int END = 9;
    static final int END_REF = 10;
    static final int DELTAS = 11;
    static final int PART_DELTA = 12;
    /** The highest tag defined. */
    static final int LAST = PART_DELTA;

    private Records() {}

    static void writeVarint(ByteBuf buf, int value) {
        while ((value & ~0x7f) != 0) {
            buf.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        buf.writeByte(value);
    }

    /** Reads an unsigned LEB128 value of at most 31 bits. */
    static int readVarint(ByteBuf buf, String what) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (!buf.isReadable()) {
                throw new CorruptedFrameException(what + ": truncated varint");
            }
            int b = buf.readUnsignedByte();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0 || (shift == 28 && b > 7)) {
                    break;
                }
                return value;
            }
        }
        throw new CorruptedFrameException(what + ": varint out of range (expected: 0.." + Integer.MAX_VALUE + ")");
    }
}
