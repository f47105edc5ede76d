package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.compression.emulator.CardEmulator;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkFingerprint;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The encoder and decoder of one stream direction, back to back without a tunnel: near-duplicates go
 * as deltas and literals in the stream's context, every byte comes back exactly, a missing base is
 * asked for (never guessed), a corrupt record is rejected.
 */
class StreamDeltaTest {

    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final CompressionProviderRegistry REGISTRY = CompressionProviderRegistry.builder().build();
    private static final ResilientCompressor COMPRESSOR = REGISTRY.compressor(CompressionConfig.defaults());
    private static final byte[] KEY_A = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    private static final byte[] KEY_B = new byte[] {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final WanoptCounters counters = new WanoptCounters(meters, "p", new DataPlaneStats());
    private final PeerDictionary sender = new PeerDictionary(KEY_A, 64 << 20);
    private final PeerDictionary receiver = new PeerDictionary(KEY_B, 64 << 20);

    StreamDeltaTest() {
        sender.peerHello(1, KEY_B);
        receiver.peerHello(1, KEY_A);
    }

    @AfterAll
    static void closeRegistry() {
        REGISTRY.close();
    }

    /** Text-like data: lines of words, as a source tree would be. */
    static byte[] text(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        String[] words = {"return", "const", "function", "value", "if", "else", "this", "export", "import", "=", "{",
            "}", "(", ")", ";", "node", "type", "string", "number", "options", "result", "error", "length"};
        StringBuilder sb = new StringBuilder(n + 64);
        while (sb.length() < n) {
            sb.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? "\n" : " ");
            if (r.nextInt(40) == 0) {
                sb.append(r.nextLong());
            }
        }
        return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code v1} with a short edit every {@code every} bytes: a changed version string, say. */
    static byte[] edited(byte[] v1, int every, long seed) {
        Random r = new Random(seed);
        byte[] v2 = v1.clone();
        for (int at = r.nextInt(every); at < v2.length - 8; at += every) {
            for (int i = 0; i < 6; i++) {
                v2[at + i] = (byte) ('0' + r.nextInt(10));
            }
        }
        return v2;
    }

    private List<ByteBuf> encode(byte[] data, int read) {
        StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
        List<ByteBuf> payloads = new ArrayList<>();
        try {
            for (int at = 0; at < data.length; at += read) {
                ByteBuf p = encoder.encode(ALLOC, Unpooled.copiedBuffer(data, at, Math.min(read, data.length - at)));
                if (p != null) {
                    payloads.add(p);
                }
            }
            ByteBuf tail = encoder.flushTail(ALLOC);
            if (tail != null) {
                payloads.add(tail);
            }
        } finally {
            encoder.release();
        }
        return payloads;
    }

    private static long size(List<ByteBuf> payloads) {
        return payloads.stream().mapToLong(ByteBuf::readableBytes).sum();
    }

    private byte[] decode(List<ByteBuf> payloads) {
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            for (ByteBuf payload : payloads) {
                List<Object> out = new ArrayList<>();
                decoder.decode(ALLOC, payload, out);
                for (Object item : out) {
                    ByteBuf b = item instanceof ByteBuf ? (ByteBuf) item : decoder.resolve((StreamDecoder.Missing) item);
                    assertThat(b).as("every base and reference is held").isNotNull();
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes).release();
                    got.writeBytes(bytes);
                }
            }
        } finally {
            decoder.release();
        }
        return got.toByteArray();
    }

    private double count(String name, String kind) {
        return meters.get(name).tag("peer", "p").tags(kind == null ? new String[0] : new String[] {"kind", kind})
                .counter().count();
    }

    @Test
    void secondVersion_editEveryFewKiB_travelsAsDeltasAtAFractionOfZstd() {
        byte[] v1 = text(1, 2 << 20);
        byte[] v2 = edited(v1, 3000, 2);
        List<ByteBuf> first = encode(v1, 64 << 10);
        long firstWan = size(first);
        assertThat(decode(first)).isEqualTo(v1);
        List<ByteBuf> second = encode(v2, 64 << 10);
        long secondWan = size(second);
        assertThat(decode(second)).isEqualTo(v2);

        assertThat(count("slipstream.wanopt.delta.hits", null)).isPositive();
        assertThat(count("slipstream.wanopt.chunk.bytes", "delta")).isGreaterThan(0.9 * v2.length);
        // 6 random digits every 3000 bytes cannot cost less than their entropy (about 0.8 %)
        assertThat((double) secondWan / v2.length).isLessThan(0.03);
        assertThat(secondWan).isLessThan(Zstd.compress(v2, 3).length / 5);
        // First transfer: zstd -3 of the whole, plus the framing of the literals (3 bytes of length per chunk
        // of 16 KiB, a record and a zstd block per 256 KiB): within 0.2 %.
        assertThat((double) firstWan).as("first transfer vs zstd -3").isLessThanOrEqualTo(1.002 * Zstd.compress(v1, 3).length);
    }

    @Test
    void exactRepeat_costsReferencesOnly() {
        byte[] v1 = text(3, 1 << 20);
        decode(encode(v1, 32 << 10));
        List<ByteBuf> again = encode(v1, 32 << 10);
        long wan = size(again);
        assertThat(decode(again)).isEqualTo(v1);
        assertThat((double) wan / v1.length).isLessThan(0.004);
    }

    @Test
    void delta_baseNoLongerHeld_isMissingUntilTheBaseArrivesThenExact() {
        byte[] v1 = text(4, 256 << 10);
        byte[] v2 = edited(v1, 5000, 5);
        decode(encode(v1, 64 << 10));
        List<ByteBuf> second = encode(v2, 1 << 20);
        receiver.received.clear(); // the receiver lost every base (eviction, restart of its store)

        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        List<Object> out = new ArrayList<>();
        for (ByteBuf p : second) {
            decoder.decode(ALLOC, p, out);
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int missing = 0;
        for (Object item : out) {
            ByteBuf b;
            if (item instanceof StreamDecoder.Missing) {
                missing++;
                StreamDecoder.Missing m = (StreamDecoder.Missing) item;
                assertThat(m.delta).as("a DELTA's base").isNotNull();
                assertThat(decoder.holds(m)).isFalse();
                assertThat(decoder.resolve(m)).as("never guessed").isNull();
                // The NEED answered: the sender's copy of the base, as a CHUNK frame.
                StreamEncoder answering = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
                ByteBuf chunk = answering.chunkFor(ALLOC, m.fingerprint);
                answering.release();
                assertThat(chunk).isNotNull();
                decoder.storeChunk(ALLOC, chunk, out);
                chunk.release(); // the frame's payload stays the caller's, as in StreamSplice
                assertThat(decoder.holds(m)).isTrue();
                b = decoder.resolve(m);
            } else {
                b = (ByteBuf) item;
            }
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes).release();
            got.writeBytes(bytes);
        }
        decoder.release();
        assertThat(missing).isPositive();
        assertThat(got.toByteArray()).isEqualTo(v2);
    }

    @Test
    void delta_corruptFrame_rejectedNothingDelivered() {
        byte[] v1 = text(6, 256 << 10);
        decode(encode(v1, 64 << 10));
        ByteBuf payload = Unpooled.wrappedBuffer(encode(edited(v1, 4000, 7), 1 << 20).toArray(new ByteBuf[0]));
        byte[] bytes = new byte[payload.readableBytes()];
        payload.readBytes(bytes).release();
        // Flip a byte at the end of the first DELTA record's frame: it decodes to other bytes, or not at all.
        ByteBuf r = Unpooled.wrappedBuffer(bytes);
        while (r.getUnsignedByte(r.readerIndex()) != Records.DELTA) {
            skipRecord(r);
        }
        r.skipBytes(1 + ChunkFingerprint.BYTES);
        Records.readVarint(r, "length");
        r.skipBytes(4);
        int n = Records.readVarint(r, "size");
        bytes[r.readerIndex() + n - 1] ^= 0x40;

        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ALLOC, Unpooled.wrappedBuffer(bytes), out))
                .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("delta");
        assertThat(out).isEmpty();
        decoder.release();
    }

    @Test
    void contextLiteral_corruptBytes_rejectedNothingDelivered() {
        List<ByteBuf> payloads = encode(text(8, 300 << 10), 1 << 20);
        ByteBuf payload = payloads.get(0);
        assertThat(payload.getByte(0)).isEqualTo((byte) Records.CLIT);
        byte[] bytes = new byte[payload.readableBytes()];
        payload.readBytes(bytes).release();
        bytes[bytes.length / 2] ^= 0x01;
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ALLOC, Unpooled.wrappedBuffer(bytes), out))
                .isInstanceOf(CorruptedFrameException.class);
        assertThat(out).isEmpty();
        decoder.release();
    }

    @Test
    void contextLiteral_hugeWindowDeclared_rejectedBeforeAllocating() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(Records.CLIT);
        Records.writeVarint(payload, 1);
        Records.writeVarint(payload, 10);
        payload.writeInt(0);
        Records.writeVarint(payload, 8);
        payload.writeIntLE(0xFD2FB528).writeByte(0x00).writeByte(0xF8).writeShort(0); // window 2^41
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        assertThatThrownBy(() -> decoder.decode(ALLOC, payload, new ArrayList<>()))
                .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("window");
        decoder.release();
    }

    @Test
    void records_badLengthsAndTags_saySoClearly() {
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        ByteBuf zeroCount = Unpooled.buffer().writeByte(Records.CLIT).writeByte(0);
        assertThatThrownBy(() -> decoder.decode(ALLOC, zeroCount, new ArrayList<>()))
                .hasMessageContaining("CLIT count: 0 (expected: 1..");
        ByteBuf bigDelta = Unpooled.buffer().writeByte(Records.DELTA).writeZero(16);
        Records.writeVarint(bigDelta, StreamDecoder.MAX_CHUNK + 1);
        assertThatThrownBy(() -> decoder.decode(ALLOC, bigDelta, new ArrayList<>()))
                .hasMessageContaining("DELTA length: " + (StreamDecoder.MAX_CHUNK + 1));
        ByteBuf longVarint = Unpooled.buffer().writeByte(Records.CLIT).writeBytes(new byte[] {-1, -1, -1, -1, -1, 1});
        assertThatThrownBy(() -> decoder.decode(ALLOC, longVarint, new ArrayList<>()))
                .hasMessageContaining("varint out of range");
        ByteBuf tag = Unpooled.buffer().writeByte(13);
        assertThatThrownBy(() -> decoder.decode(ALLOC, tag, new ArrayList<>()))
                .hasMessage("record tag: 13 (expected: 1..12)");
        for (int count : new int[] {0, StreamEncoder.MAX_BASES + 1, 255}) {
            ByteBuf bases = Unpooled.buffer().writeByte(Records.DELTAS).writeByte(count).writeZero(16 * 5);
            assertThatThrownBy(() -> decoder.decode(ALLOC, bases, new ArrayList<>()))
                    .hasMessage("DELTAS count: " + count + " (expected: 1.." + StreamEncoder.MAX_BASES + ")");
        }
        ByteBuf shortBases = Unpooled.buffer().writeByte(Records.DELTAS).writeByte(3).writeZero(16);
        Records.writeVarint(shortBases, 0);
        Records.writeVarint(shortBases, 100);
        shortBases.writeZero(10);
        assertThatThrownBy(() -> decoder.decode(ALLOC, shortBases, new ArrayList<>()))
                .hasMessageContaining("DELTAS base");
        for (int[] region : new int[][] {{0, 0}, {StreamDecoder.MAX_CHUNK + 1, 10}, {0, StreamDecoder.MAX_CHUNK + 1}}) {
            ByteBuf badRegion = Unpooled.buffer().writeByte(Records.DELTAS).writeByte(1).writeZero(16);
            Records.writeVarint(badRegion, region[0]);
            Records.writeVarint(badRegion, region[1]);
            assertThatThrownBy(() -> decoder.decode(ALLOC, badRegion, new ArrayList<>()))
                    .hasMessageStartingWith("DELTAS region: " + region[0] + "+" + region[1] + " (expected: ");
        }
        ByteBuf noCount = Unpooled.buffer().writeByte(Records.DELTAS);
        assertThatThrownBy(() -> decoder.decode(ALLOC, noCount, new ArrayList<>()))
                .hasMessageContaining("DELTAS count");
        decoder.release();
    }

    @Test
    void hardwarePrimary_literalsThroughTheSpiDeltasInSoftware_roundTripExact() {
        try (CompressionProviderRegistry card = CompressionProviderRegistry.builder()
                .addProvider(new CardEmulatorProvider(CardEmulator.builder().build())).build()) {
            ResilientCompressor compressor = card.compressor(CompressionConfig.defaults());
            assertThat(compressor.primary().hardware()).isTrue();
            byte[] v1 = text(9, 512 << 10);
            byte[] v2 = edited(v1, 5000, 10);
            StreamDecoder decoder = new StreamDecoder(compressor, receiver);
            for (byte[] version : List.of(v1, v2)) {
                StreamEncoder encoder = new StreamEncoder(compressor, sender, WanOptimizer.CHUNKER, counters);
                assertThat(encoder.contextLiterals()).isFalse();
                ByteBuf payload = encoder.encode(ALLOC, Unpooled.wrappedBuffer(version));
                ByteBuf tail = encoder.flushTail(ALLOC);
                encoder.release();
                ByteBuf all = tail == null ? payload : Unpooled.wrappedBuffer(payload, tail);
                int first = all.getUnsignedByte(all.readerIndex());
                if (version == v1) {
                    assertThat(first).isEqualTo(Records.LIT);
                } else {
                    assertThat(first).isIn(Records.DELTA, Records.DELTAS);
                }
                List<Object> out = new ArrayList<>();
                decoder.decode(ALLOC, all, out);
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                for (Object item : out) {
                    ByteBuf b = (ByteBuf) item;
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes).release();
                    got.writeBytes(bytes);
                }
                assertThat(got.toByteArray()).isEqualTo(version);
            }
            decoder.release();
            assertThat(count("slipstream.wanopt.delta.hits", null)).isPositive();
        }
    }

    @Test
    void varint_roundTrips() {
        ByteBuf b = Unpooled.buffer();
        int[] values = {0, 1, 127, 128, 16383, 16384, 1 << 21, Integer.MAX_VALUE};
        for (int v : values) {
            Records.writeVarint(b, v);
        }
        for (int v : values) {
            assertThat(Records.readVarint(b, "v")).isEqualTo(v);
        }
    }

    /**
     * Property: whatever random inserts, deletes and overwrites turn v1 into v2, both travel exactly,
     * whatever the read size (seeded, so a failure is reproducible from its seed).
     */
    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13, 14, 15, 16, 17, 18})
    void randomEdits_anyMix_roundTripExactly(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] v1 = r.nextBoolean() ? text(seed, 64 + r.nextInt(600 << 10)) : randomBytes(r, 64 + r.nextInt(300 << 10));
        ByteArrayOutputStream v2 = new ByteArrayOutputStream();
        int at = 0;
        while (at < v1.length) {
            int keep = Math.min(v1.length - at, r.nextInt(40_000));
            v2.write(v1, at, keep);
            at += keep;
            switch (r.nextInt(3)) {
                case 0: // insert
                    v2.writeBytes(randomBytes(r, 1 + r.nextInt(300)));
                    break;
                case 1: // delete
                    at += Math.min(v1.length - at, 1 + r.nextInt(300));
                    break;
                default: // overwrite
                    int n = Math.min(v1.length - at, 1 + r.nextInt(300));
                    v2.writeBytes(randomBytes(r, n));
                    at += n;
            }
        }
        int read = 1 + r.nextInt(100_000);
        assertThat(decode(encode(v1, read))).isEqualTo(v1);
        byte[] second = v2.toByteArray();
        assertThat(decode(encode(second, read))).isEqualTo(second);
        assertThat(decode(encode(second, 1 + r.nextInt(100_000)))).isEqualTo(second);
    }

    /** Files laid end to end, each after a tar-like header naming the version; {@code order}: which file where. */
    private static byte[] archive(List<byte[]> files, int[] order, String version) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i : order) {
            out.writeBytes(("pkg-" + version + "/file-" + i + ".c\n").getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(files.get(i));
        }
        return out.toByteArray();
    }

    private static List<byte[]> sourceFiles(long seed, int count) {
        Random r = new Random(seed);
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            files.add(text(seed * 1000 + i, 3_000 + r.nextInt(20_000)));
        }
        return files;
    }

    private static int[] shuffled(int n, long seed) {
        Random r = new Random(seed);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static int[] tags(List<ByteBuf> payloads) {
        int[] tags = new int[16];
        for (ByteBuf p : payloads) {
            ByteBuf d = p.duplicate();
            while (d.isReadable()) {
                tags[d.getUnsignedByte(d.readerIndex())]++;
                skipRecord(d);
            }
        }
        return tags;
    }

    @Test
    void secondVersion_filesInAnotherOrder_travelAsDeltasAgainstTheChunksTheyCameFrom() {
        List<byte[]> files = sourceFiles(21, 120);
        byte[] v1 = archive(files, shuffled(files.size(), 1), "1.0.0");
        byte[] v2 = archive(files, shuffled(files.size(), 2), "1.0.1");
        assertThat(decode(encode(v1, 64 << 10))).isEqualTo(v1);
        List<ByteBuf> second = encode(v2, 64 << 10);
        long wan = size(second);
        int[] tags = tags(second);
        // The dictionaries hold the regions the content came from, not the whole bases.
        long regions = 0;
        long bases = 0;
        for (ByteBuf p : second) {
            ByteBuf d = p.duplicate();
            while (d.isReadable()) {
                if (d.getUnsignedByte(d.readerIndex()) == Records.DELTAS) {
                    ByteBuf r = d.duplicate().skipBytes(1);
                    for (int i = r.readUnsignedByte(); i > 0; i--) {
                        bases += sender.sent.get(StreamEncoder.readFingerprint(r)).remaining();
                        Records.readVarint(r, "offset");
                        regions += Records.readVarint(r, "length");
                    }
                }
                skipRecord(d);
            }
        }
        assertThat(regions).as("dictionary bytes vs the bases' bytes (%d)", bases).isPositive()
                .isLessThan(bases * 3 / 4);
        assertThat(decode(second)).isEqualTo(v2);
        long zstd = Zstd.compress(v2, 3).length;
        // Every chunk holds the ends of files that were apart in v1: several bases, found by their anchors.
        assertThat(tags[Records.DELTAS]).as("DELTAS records among %s", Arrays.toString(tags)).isPositive();
        assertThat(wan).as("WAN bytes of a reordered second version, vs zstd -3 of it (%d)", zstd)
                .isLessThan(zstd / 10);
    }

    @Test
    void deltas_regionBeyondItsBase_corruptFrameNothingDelivered() {
        byte[] v1 = archive(sourceFiles(24, 40), shuffled(40, 7), "4.0.0");
        assertThat(decode(encode(v1, 64 << 10))).isEqualTo(v1);
        List<ByteBuf> again = encode(v1, 64 << 10);
        ByteBuf repeat = again.get(0);
        assertThat((int) repeat.getUnsignedByte(repeat.readerIndex())).isEqualTo(Records.REF);
        ChunkFingerprint held = StreamEncoder.readFingerprint(repeat.duplicate().skipBytes(1));
        again.forEach(ByteBuf::release);
        int length = receiver.received.get(held).remaining();
        ByteBuf record = Unpooled.buffer().writeByte(Records.DELTAS).writeByte(1);
        StreamEncoder.writeFingerprint(record, held);
        Records.writeVarint(record, length - 10);
        Records.writeVarint(record, 11);
        Records.writeVarint(record, 100);
        record.writeInt(0);
        Records.writeVarint(record, 1);
        record.writeByte(0);
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ALLOC, record, out))
                .hasMessage("DELTAS region " + (length - 10) + "+11 lies outside its base (" + length + " bytes)");
        assertThat(out).isEmpty();
        decoder.release();
    }

    @Test
    void deltas_basesNoLongerHeld_eachAskedForThenExact() {
        List<byte[]> files = sourceFiles(22, 60);
        byte[] v1 = archive(files, shuffled(files.size(), 3), "2.0.0");
        byte[] v2 = archive(files, shuffled(files.size(), 4), "2.0.1");
        decode(encode(v1, 64 << 10));
        List<ByteBuf> second = encode(v2, 1 << 20);
        assertThat(tags(second)[Records.DELTAS]).isPositive();
        receiver.received.clear(); // the receiver lost every base

        int[] several = {0};
        byte[] got = decodeAnswering(second, (decoder, m, needed) -> {
            // Empty when the answer to an earlier item's NEED (the same base) answered this one too.
            assertThat(needed.isEmpty()).isEqualTo(decoder.holds(m));
            if (m.bases != null && needed.size() > 1) {
                several[0]++;
            }
            if (!needed.isEmpty()) {
                assertThat(decoder.resolve(m)).as("never guessed").isNull();
            }
        });
        assertThat(several[0]).as("DELTAS records waiting for more than one base").isPositive();
        assertThat(got).isEqualTo(v2);
    }

    @Test
    void deltas_someBasesHeld_thoseEvictedWhileWaitingForTheOthers_stillExact() {
        List<byte[]> files = sourceFiles(23, 60);
        byte[] v1 = archive(files, shuffled(files.size(), 5), "3.0.0");
        byte[] v2 = archive(files, shuffled(files.size(), 6), "3.0.1");
        decode(encode(v1, 64 << 10));
        List<ByteBuf> second = encode(v2, 1 << 20);
        // The receiver lost the first base of every DELTAS record and holds the others.
        List<ChunkFingerprint> firstBases = new ArrayList<>();
        for (ByteBuf p : second) {
            ByteBuf d = p.duplicate();
            while (d.isReadable()) {
                if (d.getUnsignedByte(d.readerIndex()) == Records.DELTAS) {
                    firstBases.add(StreamEncoder.readFingerprint(d.duplicate().skipBytes(2)));
                }
                skipRecord(d);
            }
        }
        assertThat(firstBases).isNotEmpty();
        firstBases.forEach(receiver.received::remove);

        int[] waited = {0};
        byte[] got = decodeAnswering(second, (decoder, m, needed) -> {
            if (m.bases != null && !needed.isEmpty()) {
                waited[0]++;
            }
            // What the answers are stored beside evicts the bases that were held (a small store).
            receiver.received.clear();
        });
        assertThat(waited[0]).isPositive();
        assertThat(got).isEqualTo(v2);
    }

    /** What a test checks or does once a waiting item's NEEDs are known, before they are answered. */
    private interface BeforeAnswers {
        void check(StreamDecoder decoder, StreamDecoder.Missing missing, List<ChunkFingerprint> needed);
    }

    /**
     * Decodes {@code payloads} into the receiver, answering every NEED as the sender would (a CHUNK), and returns
     * the bytes delivered; every waiting item must resolve once its NEEDs are answered.
     */
    private byte[] decodeAnswering(List<ByteBuf> payloads, BeforeAnswers beforeAnswers) {
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        List<Object> out = new ArrayList<>();
        for (ByteBuf p : payloads) {
            decoder.decode(ALLOC, p, out);
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (Object item : out) {
            ByteBuf b;
            if (item instanceof StreamDecoder.Missing) {
                StreamDecoder.Missing m = (StreamDecoder.Missing) item;
                List<ChunkFingerprint> needed = decoder.needed(m);
                beforeAnswers.check(decoder, m, needed);
                for (ChunkFingerprint fp : needed) {
                    StreamEncoder answering = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
                    ByteBuf chunk = answering.chunkFor(ALLOC, fp);
                    answering.release();
                    assertThat(chunk).as("the sender still holds %s", fp).isNotNull();
                    decoder.storeChunk(ALLOC, chunk, out);
                    chunk.release();
                }
                assertThat(decoder.holds(m)).isTrue();
                b = decoder.resolve(m);
                assertThat(b).as("every base was held, asked for or answered: nothing left to wait for").isNotNull();
            } else {
                b = (ByteBuf) item;
            }
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes).release();
            got.writeBytes(bytes);
        }
        decoder.release();
        return got.toByteArray();
    }

    /** Skips one REF, CLIT or DELTA record (what a second version is made of). */
    private static void skipRecord(ByteBuf b) {
        int tag = b.readUnsignedByte();
        if (tag == Records.REF) {
            b.skipBytes(ChunkFingerprint.BYTES + 4);
        } else if (tag == Records.CLIT) {
            for (int i = Records.readVarint(b, "count"); i > 0; i--) {
                Records.readVarint(b, "length");
            }
            b.skipBytes(4);
            b.skipBytes(Records.readVarint(b, "size"));
        } else if (tag == Records.DELTAS) {
            for (int i = b.readUnsignedByte(); i > 0; i--) {
                b.skipBytes(ChunkFingerprint.BYTES);
                Records.readVarint(b, "region offset");
                Records.readVarint(b, "region length");
            }
            Records.readVarint(b, "length");
            b.skipBytes(4);
            b.skipBytes(Records.readVarint(b, "size"));
        } else {
            assertThat(tag).isEqualTo(Records.DELTA);
            b.skipBytes(ChunkFingerprint.BYTES);
            Records.readVarint(b, "length");
            b.skipBytes(4);
            b.skipBytes(Records.readVarint(b, "size"));
        }
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }
}
