package io.slipstream.worker.compression;

import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The compression TCK: every {@link CompressionProvider} passes it. Extend it, return your provider
 * from {@link #provider()}, and the whole contract runs against every codec the provider declares;
 * when the provider is unavailable on this machine, every test is skipped with the probe's reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class CompressionProviderContractTest {

    /** The provider under test; called once. */
    protected abstract CompressionProvider provider();

    /** The largest block the TCK round-trips (the "maximum-size block"). */
    protected int maxBlockBytes() {
        return 4 * 1024 * 1024;
    }

    /** Other providers to check interop against; by default ServiceLoader's plus the software one. */
    protected List<CompressionProvider> peers() {
        List<CompressionProvider> peers = new ArrayList<>();
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder()
                .addProvider(new SoftwareCompressionProvider()).build()) {
            peers.addAll(r.providers());
        }
        return peers;
    }

    private CompressionProvider provider;
    private final Map<Codec, CompressionEngine> engines = new EnumMap<>(Codec.class);
    private final List<CompressionEngine> toClose = new ArrayList<>();

    private Availability availability;

    @BeforeAll
    void probe() {
        provider = provider();
        availability = provider.availability();
        if (availability.isAvailable()) {
            for (Codec c : provider.codecs()) {
                engines.put(c, provider.engine(c, 0));
            }
        }
    }

    /** Skips (rather than fails) every test where the provider is unavailable, with the probe's reason. */
    @BeforeEach
    void assumeAvailable() {
        assumeTrue(availability.isAvailable(), () -> provider.name() + " is unavailable here: " + availability.reason());
    }

    @AfterAll
    void closeEngines() {
        engines.values().forEach(CompressionEngine::close);
        toClose.forEach(CompressionEngine::close);
    }

    protected CompressionEngine engine(Codec codec) {
        return engines.get(codec);
    }

    Stream<Codec> codecs() {
        return provider.codecs().stream();
    }

    enum Input { TEXT, BINARY, RANDOM, EMPTY, ONE_BYTE, MAX_SIZE }

    enum Buffers { HEAP_HEAP, DIRECT_DIRECT, HEAP_DIRECT, DIRECT_HEAP }

    Stream<Arguments> roundTrips() {
        List<Arguments> args = new ArrayList<>();
        for (Codec c : provider.codecs()) {
            for (Input in : Input.values()) {
                for (Buffers b : Buffers.values()) {
                    args.add(Arguments.of(c, in, b));
                }
            }
        }
        return args.stream();
    }

    private byte[] input(Input in) {
        switch (in) {
            case TEXT:
                return TestData.text(100_000);
            case BINARY:
                return TestData.mixed(7, 200_000);
            case RANDOM:
                return TestData.random(11, 70_000);
            case EMPTY:
                return new byte[0];
            case ONE_BYTE:
                return new byte[] {42};
            default:
                return TestData.mixed(13, maxBlockBytes());
        }
    }

    @Test
    void provider_described_hasNameCodecsAndConsistentPriority() {
        assertThat(provider.name()).matches("[a-z0-9][a-z0-9._-]*");
        assertThat(provider.codecs()).isNotEmpty();
        if (provider.hardware()) {
            assertThat(provider.priority()).isGreaterThan(CompressionProvider.SOFTWARE_PRIORITY);
        }
        assertThatCode(() -> provider.availability()).doesNotThrowAnyException();
        assertThat(provider.availability().isAvailable()).isTrue();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("roundTrips")
    void roundTrip_anyInputAndBuffers_restoresExactBytes(Codec codec, Input in, Buffers kind) {
        byte[] original = input(in);
        boolean directIn = kind == Buffers.DIRECT_DIRECT || kind == Buffers.DIRECT_HEAP;
        boolean directOut = kind == Buffers.DIRECT_DIRECT || kind == Buffers.HEAP_DIRECT;
        CompressionEngine e = engine(codec);

        ByteBuffer src = TestData.buffer(original, directIn);
        ByteBuffer compressed = allocate(e.maxCompressedLength(original.length), directOut);
        int n = e.compress(src, compressed);

        assertThat(src.hasRemaining()).isFalse();
        assertThat(compressed.position()).isEqualTo(n);
        compressed.flip();
        ByteBuffer restored = allocate(original.length, directIn);
        int m = e.decompress(compressed, restored);

        assertThat(m).isEqualTo(original.length);
        assertThat(compressed.hasRemaining()).isFalse();
        assertThat(TestData.bytes(restored.flip())).isEqualTo(original);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void interop_framesOfEitherSide_decodeWithEveryPeerOfTheCodec(Codec codec) {
        byte[] original = TestData.mixed(21, 300_000);
        int peersChecked = 0;
        for (CompressionProvider peer : peers()) {
            if (peer.name().equals(provider.name()) || !peer.codecs().contains(codec)
                    || !peer.availability().isAvailable()) {
                continue;
            }
            CompressionEngine theirs = peer.engine(codec, 0);
            toClose.add(theirs);
            byte[] ours = compress(engine(codec), original);
            assertThat(decompress(theirs, ours, original.length)).as("%s decodes %s", peer.name(), provider.name())
                    .isEqualTo(original);
            byte[] fromPeer = compress(theirs, original);
            assertThat(decompress(engine(codec), fromPeer, original.length))
                    .as("%s decodes %s", provider.name(), peer.name()).isEqualTo(original);
            peersChecked++;
        }
        // Alone is possible (a third-party jar tested on its own): then say so rather than pass silently.
        int checked = peersChecked;
        assumeTrue(checked > 0, () -> "no other available provider of " + codec + " to check interop with");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void concurrentUse_sharedEngine_everyBlockRoundTrips(Codec codec) {
        CompressionEngine e = engine(codec);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                all.add(CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < 20; i++) {
                        byte[] original = TestData.mixed(thread * 100L + i, 10_000 + i * 1_000);
                        byte[] c = compress(e, original);
                        assertThat(decompress(e, c, original.length)).isEqualTo(original);
                    }
                }, pool));
            }
            assertThatCode(() -> CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join())
                    .doesNotThrowAnyException();
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void asyncSubmission_anyBlock_completesWithSameFrameAsBlockApi(Codec codec) {
        CompressionEngine e = engine(codec);
        byte[] original = TestData.mixed(5, 50_000);
        ByteBuffer dst = ByteBuffer.allocate(e.maxCompressedLength(original.length));
        int n = e.submitCompress(ByteBuffer.wrap(original), dst).join();
        byte[] restored = decompress(e, TestData.bytes(dst.limit(n)), original.length);
        assertThat(restored).isEqualTo(original);
        assertThat(e.queueDepth()).isBetween(0, Math.max(0, e.queueCapacity()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void truncatedFrame_anyPrefix_isRejected(Codec codec) {
        CompressionEngine e = engine(codec);
        byte[] original = TestData.mixed(3, 20_000);
        byte[] frame = compress(e, original);
        for (int cut = 0; cut < frame.length; cut += cut < 64 ? 1 : 97) {
            byte[] prefix = java.util.Arrays.copyOf(frame, cut);
            int at = cut;
            assertThatThrownBy(() -> decompress(e, prefix, original.length))
                    .as("prefix of %d of %d bytes", at, frame.length)
                    .isInstanceOf(CompressionException.class);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void corruptedFrame_randomFlips_throwsCompressionExceptionAndStaysInBounds(Codec codec) {
        CompressionEngine e = engine(codec);
        byte[] original = TestData.mixed(17, 30_000);
        byte[] frame = compress(e, original);
        SplittableRandom r = new SplittableRandom(99);
        for (int i = 0; i < 300; i++) {
            byte[] bad = frame.clone();
            int flips = 1 + r.nextInt(4);
            for (int f = 0; f < flips; f++) {
                bad[r.nextInt(bad.length)] ^= (byte) (1 + r.nextInt(255));
            }
            byte[] backing = new byte[original.length + 16];
            java.util.Arrays.fill(backing, (byte) 0x77);
            ByteBuffer dst = ByteBuffer.wrap(backing, 0, original.length).slice();
            Throwable t = catchThrowable(() -> e.decompress(ByteBuffer.wrap(bad), dst));
            if (t != null) {
                assertThat(t).isInstanceOf(CompressionException.class);
            }
            for (int k = original.length; k < backing.length; k++) {
                assertThat(backing[k]).as("byte past the limit").isEqualTo((byte) 0x77);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void corruptedEnvelope_randomFlips_neverYieldsGarbage(Codec codec) {
        CompressionProviderRegistry registry = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(provider).addProvider(new SoftwareCompressionProvider()).build();
        try (registry) {
            ResilientCompressor sw = registry.compressor(CompressionConfig.builder().codec(codec)
                    .forceProvider(provider.name()).minHardwareBlockBytes(0).build());
            byte[] original = TestData.mixed(19, 30_000);
            byte[] envelope = TestData.bytes(sw.compress(ByteBuffer.wrap(original)));
            SplittableRandom r = new SplittableRandom(7);
            for (int i = 0; i < 300; i++) {
                byte[] bad = envelope.clone();
                bad[r.nextInt(bad.length)] ^= (byte) (1 + r.nextInt(255));
                Throwable t = catchThrowable(() -> {
                    byte[] out = TestData.bytes(sw.decompress(ByteBuffer.wrap(bad)));
                    assertThat(out).isEqualTo(original);
                });
                if (t != null) {
                    assertThat(t).isInstanceOf(CorruptBlockException.class);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void compress_destinationTooSmall_throwsWithoutWritingPastLimitOrMovingPositions(Codec codec) {
        CompressionEngine e = engine(codec);
        byte[] original = TestData.random(23, 64 * 1024);
        byte[] backing = new byte[original.length];
        java.util.Arrays.fill(backing, (byte) 0x55);
        int limit = original.length / 2;
        ByteBuffer dst = ByteBuffer.wrap(backing, 0, limit).slice();
        ByteBuffer src = ByteBuffer.wrap(original);

        assertThatThrownBy(() -> e.compress(src, dst)).isInstanceOf(CompressionException.class);
        assertThat(src.position()).isZero();
        assertThat(dst.position()).isZero();
        for (int k = limit; k < backing.length; k++) {
            assertThat(backing[k]).isEqualTo((byte) 0x55);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void decompress_blockLargerThanDestination_isRejectedWithinBounds(Codec codec) {
        CompressionEngine e = engine(codec);
        byte[] original = TestData.text(64 * 1024);
        byte[] frame = compress(e, original);
        for (boolean direct : new boolean[] {false, true}) {
            int limit = original.length - 1;
            ByteBuffer whole = direct ? ByteBuffer.allocateDirect(original.length + 16) : ByteBuffer.allocate(original.length + 16);
            for (int k = 0; k < whole.capacity(); k++) {
                whole.put(k, (byte) 0x66);
            }
            ByteBuffer dst = whole.duplicate().limit(limit).slice();
            assertThatThrownBy(() -> e.decompress(ByteBuffer.wrap(frame), dst)).isInstanceOf(CompressionException.class);
            for (int k = limit; k < whole.capacity(); k++) {
                assertThat(whole.get(k)).as("byte %d past the limit", k).isEqualTo((byte) 0x66);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void maxCompressedLength_incompressibleInput_isEnough(Codec codec) {
        CompressionEngine e = engine(codec);
        for (int size : new int[] {0, 1, 100, 65_536, 65_537, 1 << 20}) {
            byte[] original = TestData.random(size, size);
            ByteBuffer dst = ByteBuffer.allocate(e.maxCompressedLength(size));
            assertThatCode(() -> e.compress(ByteBuffer.wrap(original), dst)).as("size %d", size)
                    .doesNotThrowAnyException();
        }
    }

    private static ByteBuffer allocate(int size, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
    }

    static byte[] compress(CompressionEngine e, byte[] original) {
        ByteBuffer dst = ByteBuffer.allocate(e.maxCompressedLength(original.length));
        e.compress(ByteBuffer.wrap(original), dst);
        return TestData.bytes(dst.flip());
    }

    static byte[] decompress(CompressionEngine e, byte[] frame, int size) {
        ByteBuffer dst = ByteBuffer.allocate(size);
        e.decompress(ByteBuffer.wrap(frame), dst);
        return TestData.bytes(dst.flip());
    }
}
