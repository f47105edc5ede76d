package io.slipstream.cli;

import io.slipstream.worker.net.ShapingRelay;
import com.github.luben.zstd.Zstd;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.bench.BenchReport;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.CompressionConfig;
import io.slipstream.worker.compression.CompressionProviderRegistry;
import io.slipstream.worker.compression.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench wanopt}: the WAN optimizer against peers in the same run, on loopback.
 *
 * <ol>
 *   <li>throughput on incompressible data through the tunnel (two wanopt endpoints) against two
 *       chained plain Netty relays (the same number of hops, no optimization);</li>
 *   <li>WAN bytes of a file and of a version of it with 1% of its bytes edited at scattered places,
 *       against {@code zstd -3} of the same bytes;</li>
 *   <li>the time to send that edited version over an emulated WAN link (rate and one-way delay),
 *       through the optimizer against straight through the same link.</li>
 * </ol>
 */
@Command(name = "wanopt", mixinStandardHelpOptions = true,
        description = "WAN optimizer vs a plain relay, zstd -3 and an unoptimized emulated WAN link; prints ratios.")
final class WanoptBenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON")
    Path json;

    @Option(names = "--throughput-mib", defaultValue = "128", description = "Incompressible bytes per run (default: ${DEFAULT-VALUE})")
    int throughputMib;

    @Option(names = "--file-mib", defaultValue = "8", description = "Size of the near-duplicate file (default: ${DEFAULT-VALUE})")
    int fileMib;

    @Option(names = "--rate-mbit", defaultValue = "20", description = "Emulated WAN rate, Mbit/s (default: ${DEFAULT-VALUE})")
    int rateMbit;

    @Option(names = "--delay-ms", defaultValue = "40", description = "Emulated one-way delay (default: ${DEFAULT-VALUE})")
    int delayMs;

    @Option(names = "--repetitions", defaultValue = "3", description = "Throughput runs, best taken (default: ${DEFAULT-VALUE})")
    int repetitions;

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
            ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
            sink = new DigestSink();
            b = new WanOptimizer(new WanOptimizer.Settings("bench-b", "b", "127.0.0.1", 0, List.of(), WINDOW, 1),
                    meters, new DataPlaneStats(), () -> compressor, compressor).start();
            link = linkBytesPerSecond > 0 || linkDelayMillis > 0
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
        if (throughputMib < 1 || fileMib < 1 || rateMbit < 1 || delayMs < 0 || repetitions < 1) {
            throw new IllegalArgumentException("sizes, rate and repetitions must be positive, delay >= 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        BenchReport report = new BenchReport("wanopt");

        // 1. Throughput on incompressible data.
        byte[] random = Workloads.random(throughputMib << 20, 1);
        String randomDigest = DigestSink.digestOf(random);
        double ours = 0;
        double theirs = 0;
        try (Sites sites = new Sites(0, 0);
             DigestSink sink = new DigestSink();
             ShapingRelay second = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", sink.port()));
             ShapingRelay first = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", second.port()))) {
            awaitTunnel(sites);
            for (int i = 0; i < repetitions; i++) {
                ours = Math.max(ours, mbps("tunnel throughput", sites.port(), random, randomDigest));
                theirs = Math.max(theirs, mbps("relay throughput", first.port(), random, randomDigest));
            }
        }
        report.add("incompressible MB/s (tunnel vs 2 plain relays)", ours, "netty relay x2", theirs,
                BenchReport.Better.HIGHER);

        // 2. Data reduction on a near-duplicate file.
        byte[] v1 = Workloads.fileLike(fileMib << 20, 1);
        byte[] v2 = Workloads.edited(v1, 0.01, 2);
        double v1Wan;
        double v2Wan;
        try (Sites sites = new Sites(0, 0)) {
            awaitTunnel(sites);
            send("file v1", sites.port(), v1);
            v1Wan = sites.wanBytes();
            send("file v2", sites.port(), v2);
            v2Wan = sites.wanBytes() - v1Wan;
        }
        double zstdV1 = Zstd.compress(v1, 3).length;
        double zstdV2 = Zstd.compress(v2, 3).length;
        report.add("file v1 WAN bytes, % of size", 100 * v1Wan / v1.length, "zstd -3", 100 * zstdV1 / v1.length,
                BenchReport.Better.LOWER);
        report.add("file v2 (1% edited) WAN bytes, % of size", 100 * v2Wan / v2.length, "zstd -3",
                100 * zstdV2 / v2.length, BenchReport.Better.LOWER);

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

        out.printf(Locale.ROOT, "incompressible: %d MiB random, best of %d; near-duplicate file: %d MiB, 1%% of bytes"
                + " rewritten in 64 scattered edits; WAN link: %d Mbit/s, %d ms one way (user-space emulator)%n",
                throughputMib, repetitions, fileMib, rateMbit, delayMs);
        report.print(out);
        out.printf(Locale.ROOT, "tunnel overhead on incompressible data: %.1f%% (goal: <= 10%%)%n", 100 * (1 - ours / theirs));
        out.printf(Locale.ROOT, "speed-up over the emulated WAN: %.2fx%n", withoutSeconds / withSeconds);
        out.flush();
        if (json != null) {
            report.writeJson(json);
            out.println("wrote " + json);
        }
        return 0;
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
