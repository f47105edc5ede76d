package io.slipstream.worker.compression;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slipstream.worker.compression.internal.BlockEnvelope;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the compression envelope decoder ({@link BlockEnvelope} and
 * {@link ResilientCompressor#decompress}) and of each software engine's decoder (zstd, LZ4 frame,
 * raw DEFLATE, gzip). Properties, per input:
 *
 * <ul>
 *   <li>round trip: any bytes compressed at any level of any codec decompress to the same bytes, and
 *       {@link BlockEnvelope#peekLength} names exactly the envelope;</li>
 *   <li>a valid envelope with fuzzer-chosen header fields and payload mutations, or raw fuzz bytes,
 *       either decodes to a block no larger than the configured maximum whose length is the one the
 *       header declares, or is rejected with {@link CorruptBlockException}; nothing else;</li>
 *   <li>an engine fed any frame writes at most {@code dst.remaining()} bytes (a guard zone after the
 *       limit stays untouched) or throws {@link CompressionException}.</li>
 * </ul>
 */
class CompressionEnvelopeFuzzIT {

    private static final int MAX_BLOCK = 256 * 1024;
    private static final int MAX_INPUT = 64 * 1024;
    private static final byte GUARD = (byte) 0xA5;
    private static final CompressionProviderRegistry REGISTRY = CompressionProviderRegistry.builder()
            .loadServices(false).addProvider(new SoftwareCompressionProvider()).build();
    private static final SoftwareCompressionProvider SOFTWARE = new SoftwareCompressionProvider();
    private static final Map<Codec, ResilientCompressor> SWITCHES = new EnumMap<>(Codec.class);
    private static final Map<Codec, CompressionEngine> ENGINES = new EnumMap<>(Codec.class);
    private static final Map<String, ResilientCompressor> LEVELS = new java.util.HashMap<>();

    static {
        for (Codec codec : Codec.values()) {
            SWITCHES.put(codec, REGISTRY.compressor(CompressionConfig.builder().codec(codec)
                    .maxBlockBytes(MAX_BLOCK).build()));
            ENGINES.put(codec, SOFTWARE.engine(codec, codec.defaultLevel()));
        }
    }

    @FuzzTest(maxDuration = "10s")
    void compressionEnvelope_anyBlockHeaderOrFrame_roundTripsOrIsRejectedWithinBounds(FuzzedDataProvider data) {
        Codec codec = data.pickValue(Codec.values());
        switch (data.consumeInt(0, 2)) {
            case 0:
                roundTrip(codec, data.consumeInt(codec.minLevel(), Math.min(codec.maxLevel(), 9)),
                        data.consumeBytes(MAX_INPUT));
                break;
            case 1:
                envelope(SWITCHES.get(codec), data);
                break;
            default:
                frame(ENGINES.get(codec), data.consumeInt(0, MAX_INPUT), data.consumeRemainingAsBytes());
                break;
        }
    }

    private static void roundTrip(Codec codec, int level, byte[] block) {
        ResilientCompressor c = LEVELS.computeIfAbsent(codec + "/" + level, k -> REGISTRY.compressor(
                CompressionConfig.builder().codec(codec).level(level).maxBlockBytes(MAX_BLOCK).build()));
        ByteBuffer envelope = c.compress(ByteBuffer.wrap(block));
        assertThat(BlockEnvelope.peekLength(envelope.duplicate(), MAX_BLOCK)).isEqualTo(envelope.remaining());
        assertThat(TestData.bytes(SWITCHES.get(codec).decompress(envelope))).isEqualTo(block);
        assertThat(envelope.hasRemaining()).as("decompress consumes exactly the envelope").isFalse();
    }

    private static void envelope(ResilientCompressor c, FuzzedDataProvider data) {
        byte[] bytes;
        if (data.consumeBoolean()) {
            bytes = TestData.bytes(c.compress(ByteBuffer.wrap(data.consumeBytes(data.consumeInt(0, 8192)))));
            ByteBuffer b = ByteBuffer.wrap(bytes);
            // Header fields as the fuzzer likes them (declared sizes, codec, flags, checksum), then flips.
            if (data.consumeBoolean()) {
                b.putInt(6, data.consumeInt());
            }
            if (data.consumeBoolean()) {
                b.putInt(10, data.consumeInt());
            }
            if (data.consumeBoolean()) {
                b.put(3, data.consumeByte()).put(4, data.consumeByte());
            }
            if (data.consumeBoolean()) {
                b.putInt(14, data.consumeInt());
            }
            for (int i = 0, n = data.consumeInt(0, 4); i < n; i++) {
                bytes[data.consumeInt(0, bytes.length - 1)] ^= (byte) (1 << data.consumeInt(0, 7));
            }
            if (data.consumeBoolean()) {
                bytes = Arrays.copyOf(bytes, data.consumeInt(0, bytes.length + 64));
            }
        } else {
            bytes = data.consumeRemainingAsBytes();
        }
        ByteBuffer src = ByteBuffer.wrap(bytes);
        int declared = -1;
        try {
            declared = c.peekOriginalLength(src.duplicate());
            ByteBuffer out = c.decompress(src);
            assertThat(out.remaining()).isEqualTo(declared).isLessThanOrEqualTo(MAX_BLOCK);
            assertThat(out.capacity()).as("allocated at most the declared size").isEqualTo(declared);
        } catch (CorruptBlockException rejected) {
            assertThat(rejected.getMessage()).isNotBlank();
            assertThat(declared).isLessThanOrEqualTo(MAX_BLOCK);
        }
    }

    private static void frame(CompressionEngine engine, int room, byte[] frame) {
        ByteBuffer backing = ByteBuffer.allocate(room + 64);
        Arrays.fill(backing.array(), GUARD);
        ByteBuffer dst = backing.duplicate().limit(room);
        int written;
        try {
            written = engine.decompress(ByteBuffer.wrap(frame), dst);
            assertThat(written).isBetween(0, room);
        } catch (CompressionException rejected) {
            assertThat(rejected.getMessage()).isNotBlank();
        }
        for (int i = room; i < backing.capacity(); i++) {
            assertThat(backing.get(i)).as("byte %d past dst's limit", i - room).isEqualTo(GUARD);
        }
    }
}
