package io.slipstream.worker.compression.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CorruptBlockException;
import io.slipstream.worker.compression.FakeTicker;
import io.slipstream.worker.compression.TestData;
import io.slipstream.worker.compression.emulator.CardEmulator;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The switch against the card emulator: faults at start, mid-stream, every Nth block, a full queue. */
class ResilientCompressorTest {

    private final FakeTicker ticker = new FakeTicker();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private CardEmulator card;
    private CompressionProviderRegistry sender;
    private CompressionProviderRegistry receiver;

    @BeforeEach
    void setUp() {
        card = CardEmulator.builder().queueDepth(4).engines(1).build();
        sender = CompressionProviderRegistry.builder().loadServices(false).addProvider(new SoftwareCompressionProvider())
                .addProvider(new CardEmulatorProvider(card)).meterRegistry(meters).ticker(ticker)
                .breaker(3, Duration.ofSeconds(10), Duration.ofSeconds(80)).build();
        // The receiving site has no card at all.
        receiver = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new SoftwareCompressionProvider()).build();
    }

    @AfterEach
    void tearDown() {
        card.heal();
        sender.close();
        receiver.close();
    }

    private ResilientCompressor switchFor(Codec codec) {
        return sender.compressor(CompressionConfig.builder().codec(codec).build());
    }

    private static List<byte[]> stream(int blocks, int size) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < blocks; i++) {
            out.add(TestData.mixed(1000L + i, size));
        }
        return out;
    }

    /** Sends every block through {@code tx} and decodes it at a software-only receiver; asserts bytes in == bytes out. */
    private void sendAndCheck(ResilientCompressor tx, List<byte[]> blocks) {
        ResilientCompressor rx = receiver.compressor(tx.config());
        for (byte[] block : blocks) {
            ByteBuffer envelope = tx.compress(ByteBuffer.wrap(block));
            assertThat(TestData.bytes(rx.decompress(envelope))).isEqualTo(block);
        }
    }

    private double count(String name, String tag, String value) {
        Counter c = meters.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    private double blocks(String provider, String op) {
        Counter c = meters.find("slipstream.compression.blocks").tag("provider", provider).tag("op", op).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void compress_healthyCard_largeBlocksToCardSmallBlocksToSoftware() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        assertThat(tx.primary().name()).isEqualTo(CardEmulatorProvider.NAME);
        List<byte[]> blocks = new ArrayList<>(stream(10, 64 * 1024));
        for (int i = 0; i < 10; i++) {
            blocks.add(TestData.text(100 + i));
        }

        sendAndCheck(tx, blocks);

        assertThat(blocks("emulator", "compress")).isEqualTo(10);
        assertThat(blocks("software", "compress")).isEqualTo(10);
        assertThat(card.completed()).isEqualTo(10);
        assertThat(count("slipstream.compression.fallbacks", "provider", "emulator")).isZero();
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void stream_deviceLostMidStream_everyBlockDeliveredAndReasonCounted(Codec codec) {
        ResilientCompressor tx = switchFor(codec);
        card.loseDeviceAtRequest(20);

        sendAndCheck(tx, stream(60, 32 * 1024));

        assertThat(card.completed()).isEqualTo(19);
        assertThat(count("slipstream.compression.fallbacks", "reason", "device_lost")).isEqualTo(3);
        assertThat(count("slipstream.compression.fallbacks", "reason", "circuit_open")).isEqualTo(60 - 19 - 3);
        assertThat(blocks("software", "compress")).isEqualTo(60 - 19);
        ProviderState state = sender.providerStates().stream().filter(s -> s.name().equals("emulator")).findFirst()
                .orElseThrow();
        assertThat(state.available()).isFalse();
        assertThat(state.reason()).contains("device lost");
        assertThat(state.fallbacks()).isEqualTo(60 - 19);
    }

    @Test
    void stream_everyFifthBlockFails_zeroLostOrCorruptedAndBreakerStaysClosed() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        card.failEvery(5);

        sendAndCheck(tx, stream(100, 16 * 1024));

        assertThat(count("slipstream.compression.fallbacks", "reason", "hardware_error")).isEqualTo(20);
        assertThat(count("slipstream.compression.fallbacks", "reason", "circuit_open")).isZero();
        assertThat(blocks("emulator", "compress")).isEqualTo(80);
        assertThat(blocks("software", "compress")).isEqualTo(20);
    }

    @Test
    void stream_cardReturnsCorruptOutput_caughtByVerificationAndRedoneInSoftware() {
        ResilientCompressor tx = switchFor(Codec.LZ4);
        card.corruptEvery(4);

        sendAndCheck(tx, stream(40, 16 * 1024));

        assertThat(count("slipstream.compression.fallbacks", "reason", "verify_failed")).isEqualTo(10);
        assertThat(blocks("emulator", "compress")).isEqualTo(30);
    }

    @Test
    void breaker_consecutiveFailures_opensThenProbesAfterBackoffAndCloses() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        card.failEvery(1);
        sendAndCheck(tx, stream(5, 8 * 1024));
        assertThat(card.submitted()).isEqualTo(3);
        assertThat(count("slipstream.compression.fallbacks", "reason", "circuit_open")).isEqualTo(2);
        assertThat(meters.find("slipstream.compression.breaker.open").gauge().value()).isEqualTo(1);

        card.heal();
        ticker.advance(Duration.ofSeconds(9));
        sendAndCheck(tx, stream(1, 8 * 1024));
        assertThat(card.submitted()).as("still backing off").isEqualTo(3);

        ticker.advance(Duration.ofSeconds(1));
        sendAndCheck(tx, stream(3, 8 * 1024));
        assertThat(card.submitted()).as("probe, then closed").isEqualTo(6);
        assertThat(meters.find("slipstream.compression.breaker.open").gauge().value()).isZero();
    }

    @Test
    void breaker_probeWhileDeviceStillLost_staysOpenAndBacksOffLonger() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        card.loseDevice();
        sendAndCheck(tx, stream(4, 8 * 1024));
        long submitted = card.submitted();

        ticker.advance(Duration.ofSeconds(10));
        sendAndCheck(tx, stream(2, 8 * 1024));

        assertThat(card.submitted()).as("an unavailable provider is not probed with data").isEqualTo(submitted);
        assertThat(sender.providerStates().get(0).reason()).contains("device lost");
    }

    @Test
    void compressAsync_queueFull_backPressureRunsBlockInSoftwareOnCaller() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        card.pause();
        List<byte[]> blocks = stream(6, 16 * 1024);
        List<CompletableFuture<ByteBuffer>> futures = new ArrayList<>();
        for (byte[] b : blocks) {
            futures.add(tx.compressAsync(ByteBuffer.wrap(b)));
        }

        assertThat(futures.subList(0, 4)).allMatch(f -> !f.isDone());
        assertThat(futures.subList(4, 6)).allMatch(CompletableFuture::isDone);
        assertThat(sender.totalQueueDepth()).isEqualTo(4);
        assertThat(count("slipstream.compression.fallbacks", "reason", "queue_full")).isEqualTo(2);
        assertThat(sender.providerStates().get(0).queueDepth()).isEqualTo(4);

        card.resume();
        ResilientCompressor rx = receiver.compressor(tx.config());
        for (int i = 0; i < blocks.size(); i++) {
            assertThat(TestData.bytes(rx.decompress(futures.get(i).join()))).isEqualTo(blocks.get(i));
        }
        assertThat(sender.totalQueueDepth()).isZero();
    }

    @Test
    void compressAsync_cardFailsInFlight_blockRedoneInSoftware() {
        ResilientCompressor tx = switchFor(Codec.GZIP);
        card.failRequests(2, 3);
        List<byte[]> blocks = stream(5, 16 * 1024);
        List<CompletableFuture<ByteBuffer>> futures = new ArrayList<>();
        for (byte[] b : blocks) {
            futures.add(tx.compressAsync(ByteBuffer.wrap(b)));
        }
        ResilientCompressor rx = receiver.compressor(tx.config());
        for (int i = 0; i < blocks.size(); i++) {
            assertThat(TestData.bytes(rx.decompress(futures.get(i).join()))).isEqualTo(blocks.get(i));
        }
        assertThat(count("slipstream.compression.fallbacks", "reason", "hardware_error")).isEqualTo(2);
    }

    @Test
    void decompress_onCardFailingMidStream_fallsBackToSoftware() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        List<ByteBuffer> envelopes = new ArrayList<>();
        List<byte[]> blocks = stream(10, 16 * 1024);
        for (byte[] b : blocks) {
            envelopes.add(tx.compress(ByteBuffer.wrap(b)));
        }
        card.failEvery(2);
        for (int i = 0; i < blocks.size(); i++) {
            assertThat(TestData.bytes(tx.decompress(envelopes.get(i)))).isEqualTo(blocks.get(i));
        }
        assertThat(blocks("software", "decompress")).isPositive();
    }

    @Test
    void compress_directBuffersAndStreamOfEnvelopes_roundTrip() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        List<byte[]> blocks = stream(5, 20_000);
        ByteBuffer wire = ByteBuffer.allocateDirect(5 * tx.maxEnvelopeLength(20_000));
        for (byte[] b : blocks) {
            tx.compress(TestData.buffer(b, true), wire);
        }
        wire.flip();
        ResilientCompressor rx = receiver.compressor(tx.config());
        ByteBuffer out = ByteBuffer.allocateDirect(20_000);
        for (byte[] b : blocks) {
            assertThat(rx.peekEnvelopeLength(wire)).isPositive();
            out.clear();
            rx.decompress(wire, out);
            assertThat(TestData.bytes(out.flip())).isEqualTo(b);
        }
        assertThat(wire.hasRemaining()).isFalse();
    }

    @Test
    void compress_incompressibleBlock_storedRawAndRestored() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        byte[] random = TestData.random(3, 50_000);
        ByteBuffer envelope = tx.compress(ByteBuffer.wrap(random));
        assertThat(envelope.remaining()).isEqualTo(random.length + ResilientCompressor.HEADER_BYTES);
        assertThat(TestData.bytes(receiver.compressor(tx.config()).decompress(envelope))).isEqualTo(random);
    }

    @Test
    void compress_emptyBlock_roundTrips() {
        ResilientCompressor tx = switchFor(Codec.DEFLATE);
        ByteBuffer envelope = tx.compress(ByteBuffer.allocate(0));
        assertThat(receiver.compressor(tx.config()).decompress(envelope).remaining()).isZero();
    }

    @Test
    void decompress_declaredSizeAboveMaximum_rejectedBeforeDecoding() {
        ResilientCompressor tx = sender.compressor(CompressionConfig.builder().disableHardware(true).build());
        ByteBuffer envelope = tx.compress(ByteBuffer.wrap(new byte[4 * 1024 * 1024]));
        ResilientCompressor small = receiver.compressor(CompressionConfig.builder().maxBlockBytes(1024 * 1024).build());

        assertThatThrownBy(() -> small.decompress(envelope)).isInstanceOf(CorruptBlockException.class)
                .hasMessageContaining("exceeds the maximum block size");
        assertThat(meters.find("slipstream.compression.rejected").counters()).isEmpty(); // receiver has its own metrics
    }

    @Test
    void decompress_bombDeclaringSmallSize_stopsAtDeclaredSize() {
        ResilientCompressor tx = sender.compressor(CompressionConfig.builder().disableHardware(true).build());
        ByteBuffer envelope = tx.compress(ByteBuffer.wrap(new byte[8 * 1024 * 1024]));
        // Lie in the header: the payload expands to 8 MiB, the envelope says 1000 bytes.
        envelope.putInt(6, 1000);

        assertThatThrownBy(() -> receiver.compressor(tx.config()).decompress(envelope))
                .isInstanceOf(CorruptBlockException.class);
    }

    @Test
    void compress_blockAboveMaximum_rejectedWithExpectedSize() {
        ResilientCompressor tx = sender.compressor(CompressionConfig.builder().maxBlockBytes(1000).build());
        assertThatThrownBy(() -> tx.compress(ByteBuffer.allocate(1001)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: <= maxBlockBytes 1000");
    }

    @Test
    void concurrentStreams_cardFailingEverySeventhRequest_everyBlockDeliveredIntact() {
        ResilientCompressor tx = switchFor(Codec.ZSTD);
        ResilientCompressor rx = receiver.compressor(tx.config());
        card.failEvery(7);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<Integer>> streams = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int stream = t;
                streams.add(CompletableFuture.supplyAsync(() -> {
                    int delivered = 0;
                    for (int i = 0; i < 40; i++) {
                        byte[] block = TestData.mixed(stream * 1000L + i, 4096 + i * 100);
                        ByteBuffer envelope = i % 2 == 0 ? tx.compress(ByteBuffer.wrap(block))
                                : tx.compressAsync(ByteBuffer.wrap(block)).join();
                        assertThat(TestData.bytes(rx.decompress(envelope))).isEqualTo(block);
                        delivered++;
                    }
                    return delivered;
                }, pool));
            }
            assertThat(streams.stream().mapToInt(CompletableFuture::join).sum()).isEqualTo(160);
        } finally {
            pool.shutdownNow();
        }
        double fallbacks = meters.find("slipstream.compression.fallbacks").counters().stream()
                .mapToDouble(Counter::count).sum();
        assertThat(blocks("emulator", "compress") + blocks("software", "compress")).isEqualTo(160);
        assertThat(blocks("software", "compress")).isEqualTo(fallbacks);
    }
}
