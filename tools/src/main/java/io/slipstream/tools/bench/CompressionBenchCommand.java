package io.slipstream.tools.bench;

import io.slipstream.tools.workload.Corpus;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench compression}: our zstd path (the resilient switch over the best available
 * provider, and the bare engine) against the {@code zstd} command line tool, single-threaded, at the
 * same level, on the same deterministic corpus, in the same run. Each figure is the best of several
 * repetitions of wall-clock time. The CLI is timed as a process (start-up, reading the corpus from
 * the page cache, writing its output), ours in memory on independent blocks.
 */
@Command(name = "compression", mixinStandardHelpOptions = true,
        description = "Measure compression throughput and ratio: our providers vs the zstd CLI (-T1), same corpus, same run.")
public final class CompressionBenchCommand implements Callable<Integer> {

    /** Exit code when the zstd CLI is missing. */
    public static final int EXIT_NO_PEER = 3;

    /** Goal: our zstd compression at least 1/1.25 of the CLI's single-thread speed. */
    static final double GOAL_RATIO = 1 / 1.25;

    @Mixin
    BenchJsonOption json;

    @Option(names = "--level", defaultValue = "3", description = "zstd level, 1..19 (default: ${DEFAULT-VALUE})")
    int level;

    @Option(names = "--size-mib", defaultValue = "64", description = "Corpus size in MiB (default: ${DEFAULT-VALUE})")
    int sizeMib;

    @Option(names = "--block-kib", defaultValue = "256", description = "Block size in KiB (default: ${DEFAULT-VALUE})")
    int blockKib;

    @Option(names = "--repetitions", defaultValue = "5", description = "Timed repetitions, best taken (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "--seed", defaultValue = "42", description = "Corpus seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--zstd", defaultValue = "zstd", description = "The zstd command line tool (default: ${DEFAULT-VALUE})")
    String zstd;

    @Spec
    CommandSpec spec;

    /** Runs the command on its own (until it is registered under {@code slipstream bench}). */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new CompressionBenchCommand()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        checkArguments();
        String version = zstdVersion();
        if (version == null) {
            err.println("bench compression: the zstd command line tool ('" + zstd + "') was not found or does not run. "
                    + "Install the Debian package zstd (apt-get install -y zstd), or pass --zstd PATH.");
            err.flush();
            return EXIT_NO_PEER;
        }
        Path dir = Files.createTempDirectory("slipstream-bench-compression");
        try {
            BenchReport report = run(version, dir, out);
            report.print(new java.io.PrintStream(new WriterOutputStream(out), true, StandardCharsets.UTF_8));
            summarise(report, out);
            json.write(report, out);
            out.flush();
            return 0;
        } finally {
            deleteQuietly(dir);
        }
    }

    private void checkArguments() {
        if (level < 1 || level > 19) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--level: " + level + " (expected: 1..19)");
        }
        if (sizeMib < 1 || sizeMib > 1024) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--size-mib: " + sizeMib + " (expected: 1..1024)");
        }
        if (blockKib < 4 || blockKib > 16 * 1024) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--block-kib: " + blockKib + " (expected: 4..16384)");
        }
        if (repetitions < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--repetitions: " + repetitions + " (expected: > 0)");
        }
    }

    private BenchReport run(String version, Path dir, PrintWriter out) throws IOException, InterruptedException {
        int size = sizeMib * 1024 * 1024;
        int block = blockKib * 1024;
        byte[] corpus = Corpus.generate(seed, size);
        Path input = dir.resolve("corpus.bin");
        Files.write(input, corpus);
        out.printf(Locale.ROOT, "corpus: %d MiB mixed (text, JSON logs, binary records, some random), seed %d; "
                + "blocks of %d KiB; best of %d; zstd level %d%n", sizeMib, seed, blockKib, repetitions, level);
        out.flush();

        // The peer: zstd CLI, one thread.
        Path zst = dir.resolve("corpus.bin.zst");
        List<String> compressCmd = new ArrayList<>(List.of(zstd, "-q", "-" + level, "-T1", "-c", input.toString()));
        long cliCompress = Long.MAX_VALUE;
        for (int i = 0; i < repetitions; i++) {
            cliCompress = Math.min(cliCompress, time(compressCmd, i == 0 ? zst.toFile() : null));
        }
        long cliSize = Files.size(zst);
        List<String> decompressCmd = List.of(zstd, "-q", "-d", "-c", zst.toString());
        long cliDecompress = Long.MAX_VALUE;
        for (int i = 0; i < repetitions; i++) {
            cliDecompress = Math.min(cliDecompress, time(decompressCmd, null));
        }

        // Ours: the switch and the bare engine of the provider it selected, same blocks.
        try (CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build()) {
            CompressionConfig config = CompressionConfig.builder().codec(Codec.ZSTD).level(level)
                    .maxBlockBytes(Math.max(block, CompressionConfig.DEFAULT_MAX_BLOCK_BYTES)).build();
            ResilientCompressor sw = registry.compressor(config);
            CompressionEngine engine = registry.engine(sw.primary(), Codec.ZSTD, level);
            out.println("ours: " + sw.primary().name() + " provider (" + engine + ")");
            out.flush();
            Ours ours = new Ours(corpus, block, sw, engine);
            ours.warmUp();
            long switchCompress = Long.MAX_VALUE;
            long engineCompress = Long.MAX_VALUE;
            long switchDecompress = Long.MAX_VALUE;
            long engineDecompress = Long.MAX_VALUE;
            for (int i = 0; i < repetitions; i++) {
                // Interleaved, so that both see the same machine load.
                engineCompress = Math.min(engineCompress, ours.engineCompress());
                switchCompress = Math.min(switchCompress, ours.switchCompress());
                engineDecompress = Math.min(engineDecompress, ours.engineDecompress());
                switchDecompress = Math.min(switchDecompress, ours.switchDecompress());
            }
            ours.verify();

            String peer = "zstd-cli " + version + " -T1";
            String z = "zstd-" + level;
            return new BenchReport("compression")
                    .add(z + " compress MB/s", mbps(size, switchCompress), peer, mbps(size, cliCompress),
                            BenchReport.Better.HIGHER)
                    .add(z + " decompress MB/s", mbps(size, switchDecompress), peer, mbps(size, cliDecompress),
                            BenchReport.Better.HIGHER)
                    .add(z + " ratio", (double) size / ours.envelopeBytes, peer, (double) size / cliSize,
                            BenchReport.Better.HIGHER)
                    .add(z + " switch compress MB/s", mbps(size, switchCompress), "direct engine",
                            mbps(size, engineCompress), BenchReport.Better.HIGHER)
                    .add(z + " switch decompress MB/s", mbps(size, switchDecompress), "direct engine",
                            mbps(size, engineDecompress), BenchReport.Better.HIGHER);
        }
    }

    private static void summarise(BenchReport report, PrintWriter out) {
        BenchReport.Row compress = report.rows().get(0);
        BenchReport.Row switchCompress = report.rows().get(3);
        BenchReport.Row switchDecompress = report.rows().get(4);
        boolean met = compress.ratio() >= GOAL_RATIO;
        out.printf(Locale.ROOT, "goal: zstd compression within 1.25x of the CLI's single-thread speed: %s "
                + "(ours/CLI = %.3f, needs >= %.3f)%n", met ? "MET" : "NOT MET", compress.ratio(), GOAL_RATIO);
        out.printf(Locale.ROOT, "switch cost on the software path: compress %+.1f%%, decompress %+.1f%% "
                + "(envelope, CRC-32C, metrics; negative = faster than the bare engine, i.e. noise)%n",
                (1 / switchCompress.ratio() - 1) * 100, (1 / switchDecompress.ratio() - 1) * 100);
    }

    private static double mbps(long bytes, long nanos) {
        return bytes / 1e6 / (nanos / 1e9);
    }

    private String zstdVersion() {
        try {
            Process p = new ProcessBuilder(zstd, "--version").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("v(\\d+\\.\\d+\\.\\d+)").matcher(text);
            return m.find() ? m.group(1) : "?";
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Runs {@code cmd} and returns its wall-clock nanoseconds; output to {@code output} or discarded. */
    private static long time(List<String> cmd, File output) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectOutput(output == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(output));
        long t0 = System.nanoTime();
        Process p = pb.start();
        int rc = p.waitFor();
        long t = System.nanoTime() - t0;
        if (rc != 0) {
            throw new IOException(String.join(" ", cmd) + " exited with " + rc);
        }
        return t;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // temp files; nothing else to do
        }
    }

    /** Our side of the measurement: the corpus as blocks, through the switch and the bare engine. */
    private static final class Ours {
        private final byte[] corpus;
        private final int block;
        private final ResilientCompressor sw;
        private final CompressionEngine engine;
        private final ByteBuffer envelopes;
        private final ByteBuffer frames;
        private final int[] frameLengths;
        private final ByteBuffer restored;
        long envelopeBytes;

        Ours(byte[] corpus, int block, ResilientCompressor sw, CompressionEngine engine) {
            this.corpus = corpus;
            this.block = block;
            this.sw = sw;
            this.engine = engine;
            int blocks = (corpus.length + block - 1) / block;
            this.envelopes = ByteBuffer.allocate(blocks * sw.maxEnvelopeLength(block));
            this.frames = ByteBuffer.allocate(blocks * engine.maxCompressedLength(block));
            this.frameLengths = new int[blocks];
            this.restored = ByteBuffer.allocate(corpus.length);
        }

        void warmUp() {
            for (int i = 0; i < 2; i++) {
                engineCompress();
                switchCompress();
                engineDecompress();
                switchDecompress();
            }
        }

        long switchCompress() {
            envelopes.clear();
            long t0 = System.nanoTime();
            for (int off = 0; off < corpus.length; off += block) {
                sw.compress(ByteBuffer.wrap(corpus, off, Math.min(block, corpus.length - off)), envelopes);
            }
            long t = System.nanoTime() - t0;
            envelopeBytes = envelopes.position();
            envelopes.flip();
            return t;
        }

        long engineCompress() {
            frames.clear();
            long t0 = System.nanoTime();
            int i = 0;
            for (int off = 0; off < corpus.length; off += block) {
                frameLengths[i++] = engine.compress(ByteBuffer.wrap(corpus, off, Math.min(block, corpus.length - off)), frames);
            }
            long t = System.nanoTime() - t0;
            frames.flip();
            return t;
        }

        long switchDecompress() {
            ByteBuffer in = envelopes.duplicate();
            restored.clear();
            long t0 = System.nanoTime();
            while (in.hasRemaining()) {
                sw.decompress(in, restored);
            }
            return System.nanoTime() - t0;
        }

        long engineDecompress() {
            ByteBuffer in = frames.duplicate();
            restored.clear();
            long t0 = System.nanoTime();
            for (int len : frameLengths) {
                ByteBuffer frame = in.slice(in.position(), len);
                in.position(in.position() + len);
                engine.decompress(frame, restored);
            }
            return System.nanoTime() - t0;
        }

        void verify() {
            switchDecompress();
            if (!java.util.Arrays.equals(corpus, 0, corpus.length, restored.array(), 0, corpus.length)) {
                throw new IllegalStateException("bench: round trip through the switch changed the corpus");
            }
        }
    }

    /** Adapts the command's PrintWriter for BenchReport.print(PrintStream). */
    private static final class WriterOutputStream extends java.io.OutputStream {
        private final PrintWriter writer;

        WriterOutputStream(PrintWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            writer.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writer.write(new String(b, off, len, StandardCharsets.UTF_8));
        }

        @Override
        public void flush() {
            writer.flush();
        }
    }
}
