package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.cache.NettyLeakCheck;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkFingerprint;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Records#PART_DELTA}: a piece of an open chunk (sent at once, the local socket had nothing more to
 * give) encoded against chunks the receiver holds. A response smaller than a chunk, changed slightly, costs a
 * fraction of the first time; a piece whose base the receiver lost is asked for (NEED) and the chunk it
 * belongs to is delivered but not stored, then healed through NEED; a corrupt record is rejected whole.
 */
@ExtendWith(NettyLeakCheck.class)
class StreamPartDeltaTest {

    /** Pooled, so that Netty's leak detector (paranoid in tests) tracks what the decoder allocates. */
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final CompressionProviderRegistry REGISTRY = CompressionProviderRegistry.builder().build();
    private static final ResilientCompressor COMPRESSOR = REGISTRY.compressor(CompressionConfig.defaults());
    private static final byte[] KEY_A = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    private static final byte[] KEY_B = new byte[] {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final WanoptCounters counters = new WanoptCounters(meters, "p", new DataPlaneStats());
    private final PeerDictionary sender = new PeerDictionary(KEY_A, 64 << 20);
    private final PeerDictionary receiver = new PeerDictionary(KEY_B, 64 << 20);

    StreamPartDeltaTest() {
        sender.peerHello(1, KEY_B);
        receiver.peerHello(1, KEY_A);
    }

    @AfterAll
    static void closeRegistry() {
        REGISTRY.close();
    }

    /** An HTTP response of about {@code bodyBytes}, as an origin would send it through the tunnel. */
    private static byte[] response(byte[] body, String etag) {
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + body.length
                + "\r\nETag: \"" + etag + "\"\r\nCache-Control: max-age=60\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] r = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, r, h.length, body.length);
        return r;
    }

    /**
     * One stream: {@code data} in one read, sent at once (flushOpen: an interactive response), then the stream
     * ends (flushTail). The payloads, in order.
     */
    private List<ByteBuf> interactive(byte[] data) {
        StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
        List<ByteBuf> payloads = new ArrayList<>();
        try {
            addIfPresent(payloads, encoder.encode(ALLOC, Unpooled.copiedBuffer(data)));
            addIfPresent(payloads, encoder.flushOpen(ALLOC));
            addIfPresent(payloads, encoder.flushTail(ALLOC));
        } finally {
            encoder.release();
        }
        return payloads;
    }

    private static void addIfPresent(List<ByteBuf> payloads, ByteBuf p) {
        if (p != null) {
            payloads.add(p);
        }
    }

    private static long size(List<ByteBuf> payloads) {
        return payloads.stream().mapToLong(ByteBuf::readableBytes).sum();
    }

    /** The record tags of {@code payloads}, in order (the payloads are not consumed). */
    private static List<Integer> tags(List<ByteBuf> payloads) {
        List<Integer> tags = new ArrayList<>();
        for (ByteBuf p : payloads) {
            ByteBuf b = p.duplicate();
            while (b.isReadable()) {
                int t = b.readUnsignedByte();
                tags.add(t);
                switch (t) {
                    case Records.RAW, Records.PART_RAW -> b.skipBytes((int) b.readUnsignedInt());
                    case Records.REF -> b.skipBytes(ChunkFingerprint.BYTES + 4);
                    case Records.END_REF -> b.skipBytes(ChunkFingerprint.BYTES + 8);
                    case Records.CLIT -> {
                        for (int i = Records.readVarint(b, "count"); i > 0; i--) {
                            Records.readVarint(b, "length");
                        }
                        b.skipBytes(4);
                        b.skipBytes(Records.readVarint(b, "size"));
                    }
                    case Records.DELTA, Records.DELTAS, Records.PART_DELTA -> {
                        if (t == Records.DELTA) {
                            b.skipBytes(ChunkFingerprint.BYTES);
                        } else {
                            for (int i = b.readUnsignedByte(); i > 0; i--) {
                                b.skipBytes(ChunkFingerprint.BYTES);
                                Records.readVarint(b, "offset");
                                Records.readVarint(b, "length");
                            }
                        }
                        Records.readVarint(b, "length");
                        b.skipBytes(4);
                        b.skipBytes(Records.readVarint(b, "size"));
                    }
                    default -> {
                        if (t == Records.LIT || t == Records.END) {
                            b.skipBytes(ChunkFingerprint.BYTES);
                        }
                        b.skipBytes(COMPRESSOR.peekEnvelopeLength(b.nioBuffer()));
                    }
                }
            }
        }
        return tags;
    }

    /**
     * Decodes every payload first (as a receiver does as frames arrive), then delivers in order, answering
     * each NEED as the sender would (a CHUNK from its store); {@code onMissing} sees each waiting item first.
     */
    private byte[] decodeAnswering(StreamDecoder decoder, List<ByteBuf> payloads,
                                   Consumer<StreamDecoder.Missing> onMissing) {
        List<Object> out = new ArrayList<>();
        for (ByteBuf p : payloads) {
            decoder.decode(ALLOC, p, out);
        }
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (Object item : out) {
            ByteBuf b;
            if (item instanceof StreamDecoder.Missing m) {
                onMissing.accept(m);
                List<ChunkFingerprint> needed = decoder.needed(m);
                if (!needed.isEmpty()) {
                    assertThat(decoder.resolve(m)).as("never guessed").isNull();
                }
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
                assertThat(b).isNotNull();
            } else {
                b = (ByteBuf) item;
            }
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes).release();
            got.writeBytes(bytes);
        }
        return got.toByteArray();
    }

    private byte[] decodeAnswering(List<ByteBuf> payloads, Consumer<StreamDecoder.Missing> onMissing) {
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        try {
            return decodeAnswering(decoder, payloads, onMissing);
        } finally {
            decoder.release();
        }
    }

    @Test
    void partDelta_smallResponseChangedSlightly_travelsAsPartDeltaFarSmallerAndExact() {
        byte[] body = StreamDeltaTest.text(21, 20_000);
        byte[] first = response(body, "v1-8a1f");
        byte[] second = response(StreamDeltaTest.edited(body, 4000, 22), "v2-93c4");
        List<ByteBuf> cold = interactive(first);
        long coldWire = size(cold);
        assertThat(tags(cold)).doesNotContain(Records.PART_DELTA);
        assertThat(decodeAnswering(cold, m -> { })).isEqualTo(first);

        List<ByteBuf> again = interactive(second);
        long againWire = size(again);
        assertThat(tags(again)).as("the response's bytes went at once, as a delta").contains(Records.PART_DELTA)
                .doesNotContain(Records.PART, Records.PART_RAW);
        assertThat(decodeAnswering(again, m -> { })).isEqualTo(second);
        assertThat(againWire).as("wire bytes of the changed response (first: %d)", coldWire)
                .isLessThan(coldWire / 4);
        double deltaBytes = meters.get("slipstream.wanopt.chunk.bytes").tag("kind", "delta").counter().count();
        assertThat(deltaBytes).as("the piece counted as a delta").isGreaterThan(second.length / 2.0);
    }

    @Test
    void partDelta_baseEvictedByTheReceiver_pieceAskedForChunkNotStoredThenHealedThroughNeed() {
        byte[] body = StreamDeltaTest.text(31, 24_000);
        byte[] first = response(body, "a");
        byte[] second = response(StreamDeltaTest.edited(body, 3000, 32), "b");
        assertThat(decodeAnswering(interactive(first), m -> { })).isEqualTo(first);
        receiver.received.clear(); // the receiver lost every base (eviction, restart of its store)

        List<ByteBuf> again = interactive(second);
        assertThat(tags(again)).contains(Records.PART_DELTA, Records.END);
        List<StreamDecoder.Missing> waited = new ArrayList<>();
        assertThat(decodeAnswering(again, waited::add)).isEqualTo(second);
        assertThat(waited).as("the piece waited for its bases").anySatisfy(m -> assertThat(m.piece).isTrue());
        // The chunk the piece belongs to could not be verified whole: delivered, not stored.
        int[] cuts = WanOptimizer.CHUNKER.cutPoints(second);
        int lastStart = cuts.length > 1 ? cuts[cuts.length - 2] : 0;
        ChunkFingerprint last = receiver.theirs().fingerprint(ByteBuffer.wrap(second, lastStart,
                second.length - lastStart));
        assertThat(receiver.received.contains(last)).as("a broken open chunk is not stored").isFalse();

        // The sender believes the receiver holds it: a reference, asked for and answered, and exact.
        StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
        List<ByteBuf> third = new ArrayList<>();
        try {
            addIfPresent(third, encoder.encode(ALLOC, Unpooled.copiedBuffer(second)));
            addIfPresent(third, encoder.flushTail(ALLOC));
        } finally {
            encoder.release();
        }
        assertThat(tags(third)).contains(Records.REF);
        List<StreamDecoder.Missing> asked = new ArrayList<>();
        assertThat(decodeAnswering(third, asked::add)).isEqualTo(second);
        assertThat(asked).extracting(m -> m.fingerprint).contains(last);
        assertThat(receiver.received.contains(last)).as("healed: stored from the CHUNK answer").isTrue();
    }

    /** A valid PART_DELTA against {@code base} (held by the receiver), with fields a test may spoil. */
    private ByteBuf partDelta(ChunkFingerprint base, byte[] baseBytes, byte[] piece, int count, int regionFrom,
                              int regionLength, int checkXor) {
        byte[] frame = new byte[DeltaCodec.maxFrameLength(piece.length)];
        int n;
        try (DeltaCodec codec = new DeltaCodec(StreamEncoder.DELTA_LEVEL)) {
            n = codec.compress(baseBytes, piece, piece.length, frame);
        }
        ByteBuf b = Unpooled.buffer().writeByte(Records.PART_DELTA).writeByte(count);
        for (int i = 0; i < Math.max(1, count); i++) {
            StreamEncoder.writeFingerprint(b, base);
            Records.writeVarint(b, regionFrom);
            Records.writeVarint(b, regionLength);
        }
        Records.writeVarint(b, piece.length);
        b.writeInt(StreamEncoder.check(receiver.theirs().fingerprint(ByteBuffer.wrap(piece))) ^ checkXor);
        Records.writeVarint(b, n);
        b.writeBytes(frame, 0, n);
        return b;
    }

    @Test
    void partDelta_corruptRecords_rejectedNothingDeliveredNoLeak() {
        byte[] baseBytes = StreamDeltaTest.text(41, 8000);
        ChunkFingerprint base = receiver.theirs().fingerprint(ByteBuffer.wrap(baseBytes));
        receiver.received.put(base, ByteBuffer.wrap(baseBytes));
        byte[] piece = StreamDeltaTest.edited(baseBytes, 1000, 42);

        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        try {
            // Sanity: the valid record decodes to the piece and is kept as the open chunk's beginning.
            List<Object> out = new ArrayList<>();
            decoder.decode(ALLOC, partDelta(base, baseBytes, piece, 1, 0, baseBytes.length, 0), out);
            assertThat(out).hasSize(1);
            byte[] got = new byte[piece.length];
            ((ByteBuf) out.get(0)).readBytes(got).release();
            assertThat(got).isEqualTo(piece);
            ByteBuf endRef = Unpooled.buffer().writeByte(Records.END_REF);
            StreamEncoder.writeFingerprint(endRef, base);
            endRef.writeInt(piece.length + 10).writeInt(piece.length - 1);
            assertThatThrownBy(() -> decoder.decode(ALLOC, endRef, new ArrayList<>()))
                    .as("the piece counts as delivered of the open chunk").isInstanceOf(CorruptedFrameException.class)
                    .hasMessageContaining("end reference offset: " + (piece.length - 1) + " (expected: "
                            + piece.length);

            ByteBuf valid = partDelta(base, baseBytes, piece, 1, 0, baseBytes.length, 0);
            byte[] whole = new byte[valid.readableBytes()];
            valid.readBytes(whole).release();
            rejected(decoder, partDelta(base, baseBytes, piece, 1, 0, baseBytes.length, 1),
                    "PART_DELTA piece does not match its fingerprint check");
            for (int cut : new int[] {1, 2, 10, 18, 20, whole.length - 1}) {
                rejected(decoder, Unpooled.wrappedBuffer(Arrays.copyOf(whole, cut)), "truncated");
            }
            rejected(decoder, partDelta(base, baseBytes, piece, 0, 0, baseBytes.length, 0),
                    "PART_DELTA count: 0 (expected: 1.." + StreamEncoder.MAX_BASES + ")");
            rejected(decoder, partDelta(base, baseBytes, piece, StreamEncoder.MAX_BASES + 1, 0, baseBytes.length, 0),
                    "PART_DELTA count: " + (StreamEncoder.MAX_BASES + 1));
            rejected(decoder, partDelta(base, baseBytes, piece, 1, 100, baseBytes.length, 0),
                    "PART_DELTA region 100+" + baseBytes.length + " lies outside its base");
            rejected(decoder, partDelta(base, baseBytes, piece, 1, 0, 0, 0), "PART_DELTA region: 0+0");
        } finally {
            decoder.release();
        }
    }

    /** {@code record} after a PART_RAW of the same payload: rejected saying {@code why}, nothing delivered. */
    private static void rejected(StreamDecoder decoder, ByteBuf record, String why) {
        ByteBuf payload = ALLOC.buffer().writeByte(Records.PART_RAW).writeInt(3).writeBytes(new byte[] {1, 2, 3})
                .writeBytes(record);
        record.release();
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ALLOC, payload, out)).isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining(why);
        assertThat(out).as("nothing of a rejected payload delivered").isEmpty();
        assertThat(payload.refCnt()).isZero();
    }

    @Test
    void partDelta_randomVersionsReadsAndFlushes_byteExactEvenWithEvictions() {
        Random random = new Random(2026);
        int partDeltas = 0;
        int broken = 0;
        for (int round = 0; round < 12; round++) {
            byte[] v = StreamDeltaTest.text(random.nextLong(), 1_000 + random.nextInt(90_000));
            for (int version = 0; version < 3; version++) {
                if (version > 0) {
                    v = StreamDeltaTest.edited(v, 500 + random.nextInt(8000), random.nextLong());
                }
                if (random.nextInt(5) == 0) {
                    receiver.received.clear();
                }
                List<ByteBuf> payloads = new ArrayList<>();
                StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
                try {
                    for (int at = 0; at < v.length; ) {
                        int n = Math.min(v.length - at, 1 + random.nextInt(random.nextBoolean() ? 2_000 : 40_000));
                        addIfPresent(payloads, encoder.encode(ALLOC, Unpooled.copiedBuffer(v, at, n)));
                        at += n;
                        if (random.nextDouble() < 0.6) {
                            addIfPresent(payloads, encoder.flushOpen(ALLOC));
                        }
                    }
                    addIfPresent(payloads, encoder.flushTail(ALLOC));
                } finally {
                    encoder.release();
                }
                partDeltas += (int) tags(payloads).stream().filter(t -> t == Records.PART_DELTA).count();
                int[] pieces = {0};
                assertThat(decodeAnswering(payloads, m -> pieces[0] += m.piece ? 1 : 0))
                        .as("round %d version %d", round, version).isEqualTo(v);
                broken += pieces[0];
            }
        }
        assertThat(partDeltas).as("pieces sent as deltas").isPositive();
        assertThat(broken).as("pieces whose bases were evicted").isPositive();
    }
}
