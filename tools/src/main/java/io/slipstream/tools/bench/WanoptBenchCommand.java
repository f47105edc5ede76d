package io.slipstream.tools.bench;

import com.github.luben.zstd.Zstd;
import com.sun.management.OperatingSystemMXBean;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.Corpus;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.EncoderBenchmark;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench wanopt}: the WAN optimizer against peers in the same run, on loopback.
 *
 * <ol>
 *   <li>throughput on incompressible data through the tunnel (two wanopt endpoints) against two
 *       chained plain Netty relays (the same number of hops, no optimization), timed once both paths
 *       have run until the JIT settled ({@link JitWarmUp}), every run with random bytes never sent
 *       before;</li>
 *   <li>WAN bytes (counted on the tunnel, both directions) of two versions of real data (npm releases,
 *       see {@link WanoptCorpus}) and of generated database-dump and filesystem-image workloads: the
 *       first versions, then the second ones, then the second ones again (exact repeat); against
 *       {@code zstd -3} of the same bytes, {@code rsync -z --no-whole-file -I} with the first version at
 *       the far end and {@code zstd -3 --patch-from=first}; and the CPU cost of encoding the second
 *       versions;</li>
 *   <li>the time to send that edited version over an emulated WAN link (rate and one-way delay),
 *       through the optimizer against straight through the same link;</li>
 *   <li>the latency rows ({@link WanoptLatencyBench}, first; {@code --rows latency} runs only them,
 *       {@code --rows bulk} all but them).</li>
 * </ol>
 */
@Command(name = "wanopt", mixinStandardHelpOptions = true,
        description = "WAN optimizer vs a plain relay, zstd -3 and an unoptimized emulated WAN link; prints ratios.")
public final class WanoptBenchCommand implements Callable<Integer> {

    /** Untimed rounds of both paths at most before the throughput runs ({@link JitWarmUp}). */
    static final int WARM_UP_ROUNDS = 20;

    @Spec
    CommandSpec spec;

    @Mixin
    BenchJsonOption json;

    @Option(names = "--throughput-mib", defaultValue = "128", description = "Incompressible bytes per run (default: ${DEFAULT-VALUE})")
    int throughputMib;

    @Option(names = "--file-mib", defaultValue = "8", description = "Size of the near-duplicate file (default: ${DEFAULT-VALUE})")
    int fileMib;

    @Option(names = "--rate-mbit", defaultValue = "20", description = "Emulated WAN rate, Mbit/s (default: ${DEFAULT-VALUE})")
    int rateMbit;

    @Option(names = "--delay-ms", defaultValue = "40", description = "Emulated one-way delay (default: ${DEFAULT-VALUE})")
    int delayMs;

    @Option(names = "--rows", defaultValue = "all", description = "Which rows: all, bulk or latency (default: ${DEFAULT-VALUE})")
    String rows;

    @Option(names = "--echo-rounds", defaultValue = "2000", description = "Echo round trips per size (default: ${DEFAULT-VALUE})")
    int echoRounds;

    @Option(names = "--chatty-pairs", defaultValue = "2000", description = "Request/response pairs of the chatty workload (default: ${DEFAULT-VALUE})")
    int chattyPairs;

    @Option(names = "--chatty-file-kib", defaultValue = "2048", description = "File read, then re-read, in small reads (default: ${DEFAULT-VALUE})")
    int chattyFileKib;

    @Option(names = "--load-seconds", defaultValue = "10", description = "Echo round trips under bulk load for this long (default: ${DEFAULT-VALUE})")
    int loadSeconds;

    @Option(names = "--repetitions", defaultValue = "3", description = "Throughput runs, best taken (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "--corpus", defaultValue = "real", description = "Real data: real (npm and Debian, ~190 MB "
            + "of both versions), npm (four npm packages, ~85 MB), debian (seven Debian source packages, ~105 MB; a "
            + "20 MB download), small (two npm and one Debian package, ~23 MB) or generated (no download; labelled GENERATED) (default: ${DEFAULT-VALUE})")
    String corpus;

    @Option(names = "--corpus-dir", paramLabel = "DIR", description = "Cache of the fetched corpus "
            + "(default: $XDG_CACHE_HOME/slipstream-bench or ~/.cache/slipstream-bench)")
    Path corpusDir;

    @Option(names = "--generated-mib", defaultValue = "16", description = "Size of each generated workload "
            + "(database dump, filesystem image) (default: ${DEFAULT-VALUE})")
    int generatedMib;

    /** Two wanopt endpoints, A forwarding to a digest sink behind B, optionally through a link between them. */
    static final class Sites implements AutoCloseable {
        static final int WINDOW = Integer.getInteger("bench.window", 1 << 20);
        final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final DigestSink sink;
        final WanOptimizer b;
        final ShapingRelay link;
        final WanOptimizer a;

        Sites(long linkBytesPerSecond, long linkDelayMillis) throws Exception {
            this(linkBytesPerSecond, linkDelayMillis, false);
        }

        /** @param counted a relay on the tunnel even without shaping, to count the bytes on it */
        Sites(long linkBytesPerSecond, long linkDelayMillis, boolean counted) throws Exception {
            ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
            sink = new DigestSink();
            b = new WanOptimizer(new WanOptimizer.Settings("bench-b", "b", "127.0.0.1", 0, List.of(), WINDOW, 1),
                    meters, new DataPlaneStats(), () -> compressor, compressor).start();
            link = linkBytesPerSecond > 0 || linkDelayMillis > 0 || counted
                    ? new ShapingRelay(b.tunnelAddress(), linkBytesPerSecond, linkDelayMillis) : null;
            int tunnelPort = link != null ? link.port() : b.tunnelAddress().getPort();
            a = new WanOptimizer(new WanOptimizer.Settings("bench-a", "a", "127.0.0.1", 0,
                    List.of(new PortForward(0, "127.0.0.1", sink.port(), "b")), WINDOW, 1),
                    meters, new DataPlaneStats(), () -> compressor, compressor).start();
            a.peers(List.of(Peer.newBuilder().setWorkerId("bench-b").setSite("b")
                    .setDataEndpoint("127.0.0.1:" + tunnelPort).build()));
        }

        int port() {
            return a.forwardPort(0);
        }

        double wanBytes() {
            return meters.get("slipstream.wanopt.bytes.wan").tag("peer", "bench-b").counter().count();
        }

        @Override
        public void close() throws Exception {
            a.close();
            if (link != null) {
                link.close();
            }
            b.close();
            sink.close();
            registry.close();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (throughputMib < 1 || fileMib < 1 || rateMbit < 1 || delayMs < 0 || repetitions < 1 || generatedMib < 1) {
            throw new IllegalArgumentException("sizes, rate and repetitions must be positive, delay >= 0");
        }
        if (!List.of("real", "npm", "debian", "small", "generated").contains(corpus)) {
            throw new IllegalArgumentException("--corpus: '" + corpus
                    + "' (expected: real, npm, debian, small or generated)");
        }
        if (!List.of("all", "bulk", "latency").contains(rows)) {
            throw new IllegalArgumentException("--rows: '" + rows + "' (expected: all, bulk or latency)");
        }
        if (echoRounds < 1 || chattyPairs < 1 || chattyFileKib < 1 || loadSeconds < 1) {
            throw new IllegalArgumentException("--echo-rounds, --chatty-pairs, --chatty-file-kib and --load-seconds"
                    + " must be positive");
        }
        PrintWriter out = spec.commandLine().getOut();
        BenchReport report = new BenchReport("wanopt");
        if (!rows.equals("bulk")) {
            new WanoptLatencyBench(rateMbit, delayMs, echoRounds, chattyPairs, chattyFileKib, loadSeconds)
                    .run(report, out);
        }
        if (rows.equals("latency")) {
            report.print(out);
            writeJson(report, out);
            return 0;
        }

        // 1. Throughput on incompressible data: every run sends bytes never sent before, so the tunnel's store
        // cannot turn a repetition into references (repeats are measured below).
        FreshRandom random = new FreshRandom(throughputMib << 20);
        double ours = 0;
        double theirs = 0;
        try (Sites sites = new Sites(0, 0);
             DigestSink sink = new DigestSink();
             ShapingRelay second = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", sink.port()));
             ShapingRelay first = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", second.port()))) {
            awaitTunnel(sites);
            // Both paths run untimed until the JIT has settled: a worker runs for days, and on two cores a cold
            // JVM's compiler threads take CPU from the side with more code to compile.
            List<Double> cold = new ArrayList<>();
            JitWarmUp.Result warm = JitWarmUp.run(WARM_UP_ROUNDS,
                    () -> cold.add(random.next().mbps("tunnel warm-up", sites.port())),
                    () -> cold.add(random.mbps("relay warm-up", first.port())));
            out.printf(Locale.ROOT, "incompressible, first run in a cold JVM: %.0f MB/s through the tunnel, %.0f MB/s "
                    + "through 2 plain relays; then %s%n", cold.get(0), cold.get(1), warm);
            for (int i = 0; i < repetitions; i++) {
                ours = Math.max(ours, random.next().mbps("tunnel throughput", sites.port()));
                theirs = Math.max(theirs, random.mbps("relay throughput", first.port()));
            }
        }
        report.add("incompressible MB/s (tunnel vs 2 plain relays)", ours, "netty relay x2", theirs,
                BenchReport.Better.HIGHER);

        // 2. Data reduction on two versions of real and realistic data.
        Corpus c = corpus(out);
        c.measure(out);
        c.report(report);

        // 3. Transfer time over an emulated WAN link.
        byte[] v1 = Workloads.fileLike(fileMib << 20, 1);
        byte[] v2 = Workloads.edited(v1, 0.01, 2);
        // 3. Transfer time over an emulated WAN link.
        long rate = rateMbit * 1_000_000L / 8;
        double withSeconds;
        double withoutSeconds;
        try (Sites sites = new Sites(rate, delayMs)) {
            awaitTunnel(sites);
            send("file v1 over the link", sites.port(), v1);
            long t0 = System.nanoTime();
            send("file v2 over the link", sites.port(), v2);
            withSeconds = (System.nanoTime() - t0) / 1e9;
        }
        try (DigestSink sink = new DigestSink();
             ShapingRelay link = new ShapingRelay(new InetSocketAddress("127.0.0.1", sink.port()), rate, delayMs)) {
            long t0 = System.nanoTime();
            send("file v2 over the link, no optimizer", link.port(), v2);
            withoutSeconds = (System.nanoTime() - t0) / 1e9;
        }
        report.add(String.format(Locale.ROOT, "seconds for file v2 over %d Mbit/s, %d ms", rateMbit, delayMs),
                withSeconds, "same link, no optimizer", withoutSeconds, BenchReport.Better.LOWER);

        out.printf(Locale.ROOT, "incompressible: %d MiB random, best of %d; link timing: %d MiB file, 1%% of bytes"
                + " rewritten in 64 scattered edits; WAN link: %d Mbit/s, %d ms one way (user-space emulator)%n",
                throughputMib, repetitions, fileMib, rateMbit, delayMs);
        report.print(out);
        c.printTargets(out);
        out.printf(Locale.ROOT, "tunnel overhead on incompressible data: %.1f%% (goal: <= 10%%)%n", 100 * (1 - ours / theirs));
        out.printf(Locale.ROOT, "speed-up over the emulated WAN: %.2fx%n", withoutSeconds / withSeconds);
        writeJson(report, out);
        return 0;
    }

    private void writeJson(BenchReport report, PrintWriter out) throws java.io.IOException {
        out.flush();
        json.write(report, out);
    }

    private Corpus corpus(PrintWriter out) {
        Path cache = corpusDir != null ? corpusDir : WanoptCorpus.defaultCache();
        List<WanoptCorpus.Pair> real = new ArrayList<>();
        if (corpus.equals("real") || corpus.equals("npm") || corpus.equals("small")) {
            real.addAll(WanoptCorpus.npm(cache, corpus.equals("small") ? WanoptCorpus.NPM_SMALL : WanoptCorpus.NPM,
                    out));
        }
        if (corpus.equals("real") || corpus.equals("debian") || corpus.equals("small")) {
            real.addAll(WanoptCorpus.debian(cache, corpus.equals("small") ? WanoptCorpus.DEBIAN_SMALL
                    : WanoptCorpus.DEBIAN, out));
        }
        if (real.isEmpty()) {
            real = List.of(WanoptCorpus.generatedSourceTree(generatedMib << 20, 3));
        }
        List<WanoptCorpus.Pair> generated = List.of(WanoptCorpus.databaseDump(generatedMib * 1024 * 1024 / 48, 4),
                WanoptCorpus.filesystemImage(Math.max(8, generatedMib * 16), 5));
        return new Corpus(real, generated);
    }

    /** The transfers of the corpus through the tunnel, and the peers on the same bytes. */
    static final class Corpus {
        final List<WanoptCorpus.Pair> real;
        final List<WanoptCorpus.Pair> all = new ArrayList<>();
        final Map<WanoptCorpus.Pair, long[]> ours = new LinkedHashMap<>();
        final Map<WanoptCorpus.Pair, long[]> peers = new LinkedHashMap<>();
        double encodeCpuSeconds;
        double encodeWallSeconds;
        double zstdSeconds;
        double encoderSeconds;
        String zstdName;
        boolean rsync;
        boolean patchFrom;

        Corpus(List<WanoptCorpus.Pair> real, List<WanoptCorpus.Pair> generated) {
            this.real = real;
            all.addAll(real);
            all.addAll(generated);
        }

        void measure(PrintWriter out) throws Exception {
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            try (Sites sites = new Sites(0, 0, true)) {
                awaitTunnel(sites);
                for (WanoptCorpus.Pair p : all) {
                    ours.put(p, new long[3]);
                }
                for (int round = 0; round < 3; round++) {
                    for (WanoptCorpus.Pair p : all) {
                        byte[] bytes = round == 0 ? p.first : p.second;
                        long wan0 = sites.link.bytesRelayed();
                        long cpu0 = os.getProcessCpuTime();
                        long t0 = System.nanoTime();
                        send(p.name + (round == 0 ? " first" : round == 1 ? " second" : " repeat"), sites.port(), bytes);
                        if (round == 1) {
                            encodeWallSeconds += (System.nanoTime() - t0) / 1e9;
                            encodeCpuSeconds += (os.getProcessCpuTime() - cpu0) / 1e9;
                        }
                        ours.get(p)[round] = sites.link.bytesRelayed() - wan0;
                    }
                }
            }
            Path dir = Files.createTempDirectory("slipstream-bench-wanopt");
            try {
                patchFrom = Peers.hasZstd();
                zstdName = patchFrom ? "zstd -3 (CLI)" : "zstd-jni level 3 (no zstd CLI here)";
                if (!patchFrom) {
                    out.println("the zstd CLI is not installed: the patch-from rows are left out");
                }
                rsync = Peers.hasRsync();
                if (!rsync) {
                    out.println("rsync is not installed: the rsync row is left out");
                }
                for (WanoptCorpus.Pair p : all) {
                    Path first = Files.write(dir.resolve("first"), p.first);
                    Path second = Files.write(dir.resolve("second"), p.second);
                    long[] r = new long[4];
                    r[0] = Peers.zstd(first, null);
                    r[1] = Peers.zstd(second, null);
                    r[2] = patchFrom ? Peers.zstd(second, first) : 0;
                    r[3] = rsync ? Peers.rsync(dir, first, second) : 0;
                    peers.put(p, r);
                }
                ThreadMXBean mx = ManagementFactory.getThreadMXBean();
                long t0 = mx.getCurrentThreadCpuTime();
                for (WanoptCorpus.Pair p : all) {
                    Zstd.compress(p.second, 3);
                }
                zstdSeconds = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
                try (CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build()) {
                    encoderSeconds = EncoderBenchmark.encodeCpuSeconds(registry.compressor(CompressionConfig.defaults()),
                            all.stream().map(p -> p.first).collect(Collectors.toList()),
                            all.stream().map(p -> p.second).collect(Collectors.toList()));
                }
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Peers.deleteTree(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
            out.println("per workload: size, WAN % of ours (first, second, repeat), zstd -3 % of second,"
                    + " patch-from %, rsync %");
            for (WanoptCorpus.Pair p : all) {
                long[] o = ours.get(p);
                long[] r = peers.get(p);
                double n = p.second.length;
                out.printf(Locale.ROOT, "  %-70s %6.1f MB  ours %6.2f%% %7.3f%% %7.3f%%  zstd %6.2f%%  patch-from %7.3f%%"
                        + "  rsync %s%n", p.name, n / 1e6, 100.0 * o[0] / p.first.length, 100 * o[1] / n, 100 * o[2] / n,
                        100 * r[1] / n, 100 * r[2] / n, rsync ? String.format(Locale.ROOT, "%7.3f%%", 100 * r[3] / n) : "n/a");
            }
        }

        private double percent(List<WanoptCorpus.Pair> pairs, Map<WanoptCorpus.Pair, long[]> map, int i, boolean first) {
            double bytes = 0;
            double size = 0;
            for (WanoptCorpus.Pair p : pairs) {
                bytes += map.get(p)[i];
                size += first ? p.first.length : p.second.length;
            }
            return 100 * bytes / size;
        }

        private String label() {
            return real.get(0).real ? "" : " (GENERATED stand-in: npm unreachable)";
        }

        void report(BenchReport report) {
            double second = percent(real, ours, 1, false);
            report.add("real second version WAN %", second, zstdName + label(), percent(real, peers, 1, false),
                    BenchReport.Better.LOWER);
            if (rsync) {
                report.add("real second version vs rsync", second, "rsync -z --no-whole-file -I, bytes both ways"
                        + label(), percent(real, peers, 3, false), BenchReport.Better.LOWER);
            }
            if (patchFrom) {
                report.add("real second version vs patch-from", second, "zstd -3 --patch-from=first" + label(),
                        percent(real, peers, 2, false), BenchReport.Better.LOWER);
            }
            report.add("first transfer vs zstd -3", percent(all, ours, 0, true), zstdName + ", every first version",
                    percent(all, peers, 0, true), BenchReport.Better.LOWER);
            report.add("exact repeat WAN %", percent(all, ours, 2, false), zstdName + ", every second version",
                    percent(all, peers, 1, false), BenchReport.Better.LOWER);
            List<WanoptCorpus.Pair> generated = all.subList(real.size(), all.size());
            report.add("generated db dump and fs image, second version WAN %", percent(generated, ours, 1, false),
                    patchFrom ? "zstd -3 --patch-from=first" : zstdName, percent(generated, peers, patchFrom ? 2 : 1, false),
                    BenchReport.Better.LOWER);
            double bytes = all.stream().mapToDouble(p -> p.second.length).sum();
            report.add("encode MB/s, warm near-duplicate", bytes / 1e6 / encoderSeconds,
                    "zstd-jni -3 of the same bytes, one core (CPU time)", bytes / 1e6 / zstdSeconds,
                    BenchReport.Better.HIGHER);
        }

        void printTargets(PrintWriter out) {
            double second = percent(real, ours, 1, false);
            double bytes = all.stream().mapToDouble(p -> p.second.length).sum();
            out.printf(Locale.ROOT, "real second version: %.3f%% of its size (target <= 1%%)%s%s%n", second,
                    patchFrom ? String.format(Locale.ROOT, ", %.2fx patch-from (target <= 3x)",
                            second / percent(real, peers, 2, false)) : "",
                    rsync ? String.format(Locale.ROOT, ", %.1fx better than rsync (target >= 3x)",
                            percent(real, peers, 3, false) / second) : "");
            out.printf(Locale.ROOT, "encode, warm near-duplicate: %.0f MB/s per core (the encoder alone, thread CPU "
                    + "time: %.1f Gbit/s); whole tunnel %.0f MB per CPU-second of the bench JVM (both sites, digests, "
                    + "client and sink), %.0f MB/s wall clock on %d cores%n", bytes / 1e6 / encoderSeconds,
                    bytes * 8 / 1e9 / encoderSeconds, bytes / 1e6 / encodeCpuSeconds, bytes / 1e6 / encodeWallSeconds,
                    Runtime.getRuntime().availableProcessors());
        }
    }

    private static void awaitTunnel(Sites sites) throws Exception {
        for (int i = 0; i < 100 && sites.a.readyConnections("bench-b") == 0; i++) {
            new java.util.concurrent.CountDownLatch(1).await(50, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
        if (sites.a.readyConnections("bench-b") == 0) {
            throw new IllegalStateException("the tunnel between the bench sites did not come up");
        }
    }

    private static void send(String stage, int port, byte[] bytes) throws Exception {
        String digest = DigestSink.send(port, bytes);
        if (!digest.equals(DigestSink.digestOf(bytes))) {
            throw new IllegalStateException(stage + ": digest mismatch: the bytes that arrived differ from the "
                    + bytes.length + " bytes sent (got '" + digest + "')");
        }
    }

    /** Random bytes, filled anew (another seed) by each {@link #next}, with their digest. */
    static final class FreshRandom {
        private final byte[] bytes;
        private long seed;
        private String digest;

        FreshRandom(int size) {
            bytes = new byte[size];
        }

        FreshRandom next() {
            java.util.SplittableRandom r = new java.util.SplittableRandom(++seed);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.remaining() >= Long.BYTES) {
                b.putLong(r.nextLong());
            }
            while (b.hasRemaining()) {
                b.put((byte) r.nextInt());
            }
            digest = DigestSink.digestOf(bytes);
            return this;
        }

        double mbps(String stage, int port) throws Exception {
            if (digest == null) {
                next();
            }
            return WanoptBenchCommand.mbps(stage, port, bytes, digest);
        }
    }

    private static double mbps(String stage, int port, byte[] bytes, String digest) throws Exception {
        long t0 = System.nanoTime();
        String got = DigestSink.send(port, bytes);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!got.equals(digest)) {
            throw new IllegalStateException(stage + ": digest mismatch: the bytes that arrived differ from the "
                    + bytes.length + " bytes sent (got '" + got + "')");
        }
        return bytes.length / 1e6 / seconds;
    }
}
