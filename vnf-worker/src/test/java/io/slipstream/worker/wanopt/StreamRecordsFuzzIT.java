package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkFingerprint;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzzing of the chunk/stream layer of a DATA payload (see {@link Records}): RAW,
 * BLOCK, LIT, REF, CLIT, DELTA and DELTAS records, the open-chunk ones (PART_RAW, PART, PART_DELTA, END, END_REF: read
 * batches end between cuts) and the dedup chunk references, with a real {@link StreamEncoder} on the
 * sending side. Properties, per input:
 *
 * <ul>
 *   <li>round trip: whatever bytes, cut into whatever reads and sent twice (the second time as
 *       references), then once more with a byte changed every few hundred or thousand bytes (deltas), then the changed
 *       bytes cut in blocks sent in reverse order (content gathered from several earlier chunks: DELTAS),
 *       decode to exactly those bytes, every reference and base resolved from the chunks that arrived
 *       before;</li>
 *   <li>the same payloads mutated (bit flips, truncation, a reference's fingerprint replaced by one
 *       never sent), and raw fuzz bytes as a payload, decode to bytes or are rejected with
 *       {@link CorruptedFrameException}, never another exception; a reference to (or a delta against)
 *       a chunk this side never received stays {@link StreamDecoder.Missing} (never resolved to wrong bytes); what a
 *       payload decodes to stays within {@link StreamDecoder#MAX_DECODED_PER_PAYLOAD}; the payload is
 *       always released and nothing is delivered from a rejected payload.</li>
 * </ul>
 */
class StreamRecordsFuzzIT {

    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final CompressionProviderRegistry REGISTRY = CompressionProviderRegistry.builder().build();
    private static final ResilientCompressor COMPRESSOR = REGISTRY.compressor(CompressionConfig.defaults());
    private static final byte[] KEY_A = key(1);
    private static final byte[] KEY_B = key(2);
    private static final int MAX_INPUT = 96 * 1024;

    @FuzzTest(maxDuration = "10s")
    void streamRecords_encodedMutatedOrRaw_roundTripOrRejectCleanly(FuzzedDataProvider data) {
        PeerDictionary sender = new PeerDictionary(KEY_A, 8 << 20);
        sender.peerHello(1, KEY_B);
        PeerDictionary receiver = new PeerDictionary(KEY_B, 8 << 20);
        receiver.peerHello(1, KEY_A);
        StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER,
                new WanoptCounters(new SimpleMeterRegistry(), "fuzz", new DataPlaneStats()));

        byte[] input = data.consumeBytes(data.consumeInt(0, MAX_INPUT));
        int readSize = data.consumeInt(1, 16 * 1024);
        byte[] edited = input.clone();
        int step = data.consumeInt(256, 8192);
        for (int i = step / 2; i < edited.length; i += step) {
            edited[i] ^= 0x55;
        }
        // The edited bytes again, in blocks of a size the fuzzer picks, last block first (a tar's members in
        // another order): a chunk of it spans the end of one earlier chunk and the start of another.
        int block = data.consumeInt(512, 32 * 1024);
        byte[] reordered = new byte[edited.length];
        for (int from = 0, to = edited.length; from < edited.length; from += block) {
            int n = Math.min(block, edited.length - from);
            to -= n;
            System.arraycopy(edited, from, reordered, to, n);
        }
        int flushEvery = data.consumeInt(0, 4);
        List<ByteBuf> payloads = new ArrayList<>();
        try {
            for (int round = 0; round < 4; round++) {
                byte[] sent = round < 2 ? input : round == 2 ? edited : reordered;
                for (int at = 0; at < sent.length; at += readSize) {
                    ByteBuf in = Unpooled.wrappedBuffer(sent, at, Math.min(readSize, sent.length - at));
                    addIfPresent(payloads, encoder.encode(ALLOC, in));
                    if (flushEvery > 0 && (at / readSize) % flushEvery == 0) {
                        addIfPresent(payloads, encoder.flushOpen(ALLOC)); // the read batch ended here
                    }
                }
                addIfPresent(payloads, encoder.flushTail(ALLOC));
            }
        } finally {
            encoder.release();
        }

        // Round trip, through a receiver that got every payload in order.
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        ByteArrayOutputStream delivered = new ByteArrayOutputStream();
        for (ByteBuf payload : payloads) {
            List<Object> out = new ArrayList<>();
            decoder.decode(ALLOC, payload.retainedDuplicate(), out);
            for (Object item : out) {
                ByteBuf bytes = item instanceof ByteBuf ? (ByteBuf) item : decoder.resolve((StreamDecoder.Missing) item);
                assertThat(bytes).as("a reference to a chunk that arrived before").isNotNull();
                append(delivered, bytes);
            }
        }
        decoder.release();
        byte[] expected = Arrays.copyOf(input, input.length * 4);
        System.arraycopy(input, 0, expected, input.length, input.length);
        System.arraycopy(edited, 0, expected, 2 * input.length, input.length);
        System.arraycopy(reordered, 0, expected, 3 * input.length, input.length);
        assertThat(delivered.toByteArray()).isEqualTo(expected);

        // The same payloads, mutated, into a receiver that holds nothing yet.
        PeerDictionary empty = new PeerDictionary(KEY_B, 8 << 20);
        empty.peerHello(1, KEY_A);
        StreamDecoder fresh = new StreamDecoder(COMPRESSOR, empty);
        for (ByteBuf payload : payloads) {
            hostile(fresh, empty, mutate(data, payload));
        }
        // And whatever else the fuzzer has left, as a payload of its own.
        hostile(fresh, empty, Unpooled.wrappedBuffer(data.consumeRemainingAsBytes()));
        fresh.release();
    }

    private static void hostile(StreamDecoder decoder, PeerDictionary dictionary, ByteBuf payload) {
        int wire = payload.readableBytes();
        List<Object> out = new ArrayList<>();
        try {
            decoder.decode(ALLOC, payload, out);
        } catch (CorruptedFrameException rejected) {
            assertThat(out).as("nothing delivered from a rejected payload").isEmpty();
            assertThat(rejected.getMessage()).isNotBlank();
        }
        long decoded = 0;
        for (Object item : out) {
            if (item instanceof ByteBuf) {
                decoded += ((ByteBuf) item).readableBytes();
                ((ByteBuf) item).release();
            } else {
                StreamDecoder.Missing missing = (StreamDecoder.Missing) item;
                assertThat(missing.length).isBetween(1, StreamDecoder.MAX_CHUNK);
                if (dictionary.received.get(missing.fingerprint) == null) {
                    assertThat(decoder.resolve(missing)).as("a chunk never received is never resolved").isNull();
                }
            }
        }
        // Delivered RAW records are retained slices of the payload: only once the receiver has released them
        // must nothing hold it any more.
        if (wire > 0) { // an empty wrapped buffer is the shared EMPTY_BUFFER, which is never released
            assertThat(payload.refCnt()).as("the decoder releases the payload").isZero();
        }
        assertThat(decoded).isLessThanOrEqualTo(wire + (long) StreamDecoder.MAX_DECODED_PER_PAYLOAD);
    }

    /** The payload (released) with one mutation the fuzzer picks, or as it is. */
    private static ByteBuf mutate(FuzzedDataProvider data, ByteBuf payload) {
        byte[] bytes = new byte[payload.readableBytes()];
        payload.readBytes(bytes);
        payload.release();
        if (bytes.length == 0) {
            return Unpooled.wrappedBuffer(bytes);
        }
        switch (data.consumeInt(0, 3)) {
            case 0: // bit flips
                for (int i = 0, n = data.consumeInt(1, 4); i < n; i++) {
                    bytes[data.consumeInt(0, bytes.length - 1)] ^= (byte) (1 << data.consumeInt(0, 7));
                }
                return Unpooled.wrappedBuffer(bytes);
            case 1: // truncated
                return Unpooled.wrappedBuffer(Arrays.copyOf(bytes, data.consumeInt(0, bytes.length - 1)));
            case 2: { // a reference's (or a delta's base) fingerprint replaced: a chunk never sent
                int at = firstRecord(bytes, Records.DELTAS);
                if (at < 0) {
                    at = firstRecord(bytes, Records.PART_DELTA); // the same layout
                }
                if (at >= 0) { // one of its bases (the write below is at at + 1)
                    at = deltasBase(bytes, at, data.consumeInt(0, bytes[at + 1] - 1)) - 1;
                }
                if (at < 0) {
                    at = firstRecord(bytes, Records.REF);
                }
                if (at < 0) {
                    at = firstRecord(bytes, Records.DELTA);
                }
                if (at < 0) {
                    at = firstRecord(bytes, Records.END_REF);
                }
                if (at >= 0) {
                    ChunkFingerprint unknown = ChunkFingerprint.of(data.consumeLong(), data.consumeLong());
                    ByteBuf b = Unpooled.wrappedBuffer(bytes);
                    b.setLong(at + 1, unknown.msb()).setLong(at + 9, unknown.lsb());
                    return b;
                }
                return Unpooled.wrappedBuffer(bytes);
            }
            default:
                return Unpooled.wrappedBuffer(bytes);
        }
    }

    /** Offset of the fingerprint of base {@code k} of the DELTAS record at {@code at}. */
    private static int deltasBase(byte[] payload, int at, int k) {
        ByteBuf b = Unpooled.wrappedBuffer(payload);
        b.readerIndex(at + 2);
        skipDeltasBases(b, k);
        return b.readerIndex();
    }

    /** Skips {@code count} bases of a DELTAS record (fingerprint, region offset and length). */
    private static void skipDeltasBases(ByteBuf b, int count) {
        for (int i = 0; i < count; i++) {
            b.skipBytes(ChunkFingerprint.BYTES);
            Records.readVarint(b, "region offset");
            Records.readVarint(b, "region length");
        }
    }

    /** Offset of the first record with {@code tag} at a record boundary, or -1. */
    private static int firstRecord(byte[] payload, int tag) {
        ByteBuf b = Unpooled.wrappedBuffer(payload);
        while (b.isReadable()) {
            int at = b.readerIndex();
            int t = b.readUnsignedByte();
            if (t == tag) {
                return at;
            }
            if (t == Records.RAW || t == Records.PART_RAW) {
                b.skipBytes((int) b.readUnsignedInt());
            } else if (t == Records.REF) {
                b.skipBytes(ChunkFingerprint.BYTES + 4);
            } else if (t == Records.END_REF) {
                b.skipBytes(ChunkFingerprint.BYTES + 8);
            } else if (t == Records.CLIT) {
                for (int i = Records.readVarint(b, "count"); i > 0; i--) {
                    Records.readVarint(b, "length");
                }
                b.skipBytes(4);
                b.skipBytes(Records.readVarint(b, "size"));
            } else if (t == Records.DELTA || t == Records.DELTAS || t == Records.PART_DELTA) {
                if (t == Records.DELTA) {
                    b.skipBytes(ChunkFingerprint.BYTES);
                } else {
                    skipDeltasBases(b, b.readUnsignedByte());
                }
                Records.readVarint(b, "length");
                b.skipBytes(4);
                b.skipBytes(Records.readVarint(b, "size"));
            } else {
                if (t == Records.LIT || t == Records.END) {
                    b.skipBytes(ChunkFingerprint.BYTES);
                }
                b.skipBytes(COMPRESSOR.peekEnvelopeLength(b.nioBuffer()));
            }
        }
        return -1;
    }

    private static void addIfPresent(List<ByteBuf> payloads, ByteBuf payload) {
        if (payload != null) {
            payloads.add(payload);
        }
    }

    private static void append(ByteArrayOutputStream out, ByteBuf bytes) {
        byte[] copy = new byte[bytes.readableBytes()];
        bytes.readBytes(copy);
        bytes.release();
        out.writeBytes(copy);
    }

    private static byte[] key(int seed) {
        byte[] key = new byte[16];
        Arrays.fill(key, (byte) seed);
        return key;
    }
}
