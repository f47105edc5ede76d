package io.slipstream.worker.compression.jmh;

import io.slipstream.tools.workload.Corpus;
import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.emulator.CardEmulator;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per provider, codec and level: compress and decompress one block of a deterministic mixed corpus
 * (text, JSON logs, binary records, some random), through the bare engine and through the switch.
 * Throughput is blocks per second; multiply by {@code blockBytes} for bytes per second. Run with
 * {@link CompressionBenchmarkMain} (see docs/compression.md); never run by {@code mvn verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CompressionBenchmark {

    /** {@code software}, {@code qat} (where a card is present) or {@code emulator}. */
    @Param({"software"})
    public String provider;

    @Param({"ZSTD:1", "ZSTD:3", "ZSTD:9", "LZ4:1", "LZ4:9", "DEFLATE:1", "DEFLATE:6", "GZIP:6"})
    public String codecLevel;

    @Param({"65536"})
    public int blockBytes;

    private static final int CORPUS_BYTES = 16 * 1024 * 1024;

    private CompressionProviderRegistry registry;
    private CompressionEngine engine;
    private ResilientCompressor switcher;
    private ByteBuffer[] blocks;
    private ByteBuffer[] frames;
    private ByteBuffer[] envelopes;
    private ByteBuffer dst;
    private ByteBuffer restored;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        String[] cl = codecLevel.split(":");
        Codec codec = Codec.valueOf(cl[0]);
        int level = Integer.parseInt(cl[1]);
        CompressionProviderRegistry.Builder withCard = CompressionProviderRegistry.builder();
        if (CardEmulatorProvider.NAME.equals(provider)) {
            withCard.addProvider(new CardEmulatorProvider(CardEmulator.builder().build()));
        }
        registry = withCard.build();
        CompressionProvider p = registry.byName(provider);
        if (p == null) {
            throw new IllegalStateException("provider '" + provider + "' is not installed: " + registry.providers());
        }
        Availability a = p.availability();
        if (!a.isAvailable()) {
            throw new IllegalStateException("provider '" + provider + "' is unavailable: " + a.reason());
        }
        engine = registry.engine(p, codec, level);
        switcher = registry.compressor(CompressionConfig.builder().codec(codec).level(level).forceProvider(provider)
                .minHardwareBlockBytes(0).build());
        byte[] corpus = Corpus.generate(42, CORPUS_BYTES);
        int n = CORPUS_BYTES / blockBytes;
        blocks = new ByteBuffer[n];
        frames = new ByteBuffer[n];
        envelopes = new ByteBuffer[n];
        for (int i = 0; i < n; i++) {
            blocks[i] = ByteBuffer.wrap(corpus, i * blockBytes, blockBytes).slice();
            ByteBuffer f = ByteBuffer.allocate(engine.maxCompressedLength(blockBytes));
            engine.compress(blocks[i].duplicate(), f);
            frames[i] = f.flip();
            envelopes[i] = switcher.compress(blocks[i].duplicate());
        }
        dst = ByteBuffer.allocate(switcher.maxEnvelopeLength(blockBytes));
        restored = ByteBuffer.allocate(blockBytes);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        registry.close();
    }

    private int nextIndex() {
        int i = next;
        next = i + 1 == blocks.length ? 0 : i + 1;
        return i;
    }

    @Benchmark
    public int engineCompress() {
        dst.clear();
        return engine.compress(blocks[nextIndex()].duplicate(), dst);
    }

    @Benchmark
    public int engineDecompress() {
        restored.clear();
        return engine.decompress(frames[nextIndex()].duplicate(), restored);
    }

    @Benchmark
    public int switchCompress() {
        dst.clear();
        return switcher.compress(blocks[nextIndex()].duplicate(), dst);
    }

    @Benchmark
    public int switchDecompress() {
        restored.clear();
        return switcher.decompress(envelopes[nextIndex()].duplicate(), restored);
    }
}
