package io.slipstream.tools.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.slipstream.common.HostPort;
import io.slipstream.tools.net.Ports;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.gateway.Gateway;
import io.slipstream.worker.gateway.GatewayListener;
import io.slipstream.worker.net.Transport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench gateway}: TCP through our gateway (bypass chain: classify, connect, splice)
 * against HAProxy in TCP mode, the same back ends, on loopback: new connections per second (wrk, one
 * request per connection, to a tiny Netty HTTP responder) and bulk throughput of one flow (to a digest sink).
 */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = "Gateway (bypass chain) vs HAProxy in TCP mode: connections/s and throughput; prints ratios.")
public final class GatewayBenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    BenchJsonOption json;

    @Option(names = "--duration-s", defaultValue = "5", description = "Seconds per wrk run (default: ${DEFAULT-VALUE})")
    int durationSeconds;

    @Option(names = "--connections", defaultValue = "32", description = "wrk connections (default: ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--threads", defaultValue = "1",
            description = "Event loops of our gateway and nbthread of HAProxy (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--throughput-mib", defaultValue = "256", description = "Bytes per throughput run (default: ${DEFAULT-VALUE})")
    int throughputMib;

    @Option(names = "--repetitions", defaultValue = "3",
            description = "Runs per proxy, interleaved ours/theirs; the best of each is kept (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Override
    public Integer call() throws Exception {
        if (durationSeconds < 1 || connections < 1 || threads < 1 || threads > 64 || throughputMib < 1 || repetitions < 1) {
            throw new IllegalArgumentException("--duration-s, --connections, --throughput-mib, --repetitions >= 1 and "
                    + "--threads 1..64 expected");
        }
        String haproxyVersion = haproxyVersion();
        requireTool("wrk", "--version");
        PrintWriter out = spec.commandLine().getOut();
        BenchReport report = new BenchReport("gateway");
        Path dir = Files.createTempDirectory("slipstream-bench-gateway");
        byte[] bulk = Workloads.random(throughputMib << 20, 3);
        String bulkDigest = DigestSink.digestOf(bulk);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Responder responder = new Responder();
             DigestSink sink = new DigestSink()) {
            Gateway gateway = new Gateway(new Gateway.Settings("bench-gateway", "a", List.of(
                    GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", responder.port())),
                    GatewayListener.vip("127.0.0.1", 0, HostPort.of("127.0.0.1", sink.port()))), threads),
                    meters, new DataPlaneStats()).start();
            try (HaProxy haproxy = HaProxy.start(dir, threads, responder.port(), sink.port())) {
                String oursUrl = "http://127.0.0.1:" + gateway.listenAddress(0).getPort() + "/";
                String theirsUrl = "http://127.0.0.1:" + haproxy.httpPort + "/";
                CacheBenchCommand.WrkResult ours = null;
                CacheBenchCommand.WrkResult theirs = null;
                double oursMbps = 0;
                double theirsMbps = 0;
                // Warm-up (our JIT, both proxies' first connections), not measured.
                wrk(oursUrl, 3);
                wrk(theirsUrl, 1);
                mbps("gateway", gateway.listenAddress(1).getPort(), bulk, bulkDigest);
                for (int i = 0; i < repetitions; i++) {
                    ours = best(ours, wrk(oursUrl, durationSeconds));
                    theirs = best(theirs, wrk(theirsUrl, durationSeconds));
                    oursMbps = Math.max(oursMbps, mbps("gateway", gateway.listenAddress(1).getPort(), bulk, bulkDigest));
                    theirsMbps = Math.max(theirsMbps, mbps("haproxy", haproxy.bulkPort, bulk, bulkDigest));
                }
                report.add("new connections/s (1 request each)", ours.requestsPerSecond(), haproxyVersion,
                        theirs.requestsPerSecond(), BenchReport.Better.HIGHER);
                report.add("connection + request p50 ms", ours.p50Millis(), haproxyVersion, theirs.p50Millis(),
                        BenchReport.Better.LOWER);
                report.add("connection + request p99 ms", ours.p99Millis(), haproxyVersion, theirs.p99Millis(),
                        BenchReport.Better.LOWER);
                report.add("throughput MB/s (1 flow)", oursMbps, haproxyVersion, theirsMbps, BenchReport.Better.HIGHER);
                double spliced = meters.get("slipstream.gateway.connections").tag("outcome", "spliced").counter().count();
                out.printf(Locale.ROOT, "wrk -c%d, %d s per run, 'Connection: close' (a new TCP connection per request); "
                        + "throughput: %d MiB random, digest checked; best of %d interleaved runs; %d event loop(s) for "
                        + "ours, nbthread %d for HAProxy; our gateway spliced %.0f connections%n", connections,
                        durationSeconds, throughputMib, repetitions, threads, threads, spliced);
                report.print(out);
                out.printf(Locale.ROOT, "ours/theirs: connections/s %.2fx, throughput %.2fx%n",
                        ours.requestsPerSecond() / theirs.requestsPerSecond(), oursMbps / theirsMbps);
                out.flush();
            } finally {
                gateway.close();
            }
        } finally {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        json.write(report, out);
        return 0;
    }

    private static CacheBenchCommand.WrkResult best(CacheBenchCommand.WrkResult a, CacheBenchCommand.WrkResult b) {
        return a == null || b.requestsPerSecond() > a.requestsPerSecond() ? b : a;
    }

    private CacheBenchCommand.WrkResult wrk(String url, int seconds) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--latency",
                "-H", "Connection: close", url).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk failed for " + url + ":\n" + output);
        }
        CacheBenchCommand.WrkResult r = CacheBenchCommand.parseWrk(output);
        if (r.errors() > r.requestsPerSecond() * seconds / 100) {
            throw new IllegalStateException("wrk: more than 1% errors for " + url + ":\n" + output);
        }
        return r;
    }

    private static double mbps(String who, int port, byte[] bytes, String digest) throws Exception {
        long t0 = System.nanoTime();
        String got = DigestSink.send(port, bytes);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!got.equals(digest)) {
            throw new IllegalStateException(who + ": digest mismatch: the bytes that arrived differ from the "
                    + bytes.length + " bytes sent (got '" + got + "')");
        }
        return bytes.length / 1e6 / seconds;
    }

    private static void requireTool(String tool, String versionFlag) {
        try {
            Process p = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            throw new IllegalArgumentException(tool + " not found (expected: apt-get install -y haproxy wrk, "
                    + "or bin/test installs bin/test-packages)");
        }
    }

    private static String haproxyVersion() {
        requireTool("haproxy", "-v");
        try {
            Process p = new ProcessBuilder("haproxy", "-v").redirectErrorStream(true).start();
            String banner = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("version ([0-9.]+)").matcher(banner);
            return "haproxy " + (m.find() ? m.group(1) : "?") + " (tcp mode)";
        } catch (IOException | InterruptedException e) {
            return "haproxy (tcp mode)";
        }
    }

    /** The back end of the connection test: answers any request with a tiny 200 and closes. */
    static final class Responder implements AutoCloseable {
        private static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n"
                + "Connection: close\r\n\r\nok").getBytes(StandardCharsets.US_ASCII);
        private final EventLoopGroup group;
        private final Channel server;

        Responder() throws InterruptedException {
            Transport transport = Transport.best();
            group = transport.newGroup(1);
            server = new ServerBootstrap().group(group).channel(transport.serverChannel)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childHandler(new Answer())
                    .bind("127.0.0.1", 0).sync().channel();
        }

        int port() {
            return ((java.net.InetSocketAddress) server.localAddress()).getPort();
        }

        @ChannelHandler.Sharable
        private static final class Answer extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
                if (ctx.channel().isActive() && ctx.channel().attr(ANSWERED).setIfAbsent(Boolean.TRUE) == null) {
                    ByteBuf response = Unpooled.wrappedBuffer(RESPONSE);
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }

        private static final io.netty.util.AttributeKey<Boolean> ANSWERED = io.netty.util.AttributeKey.valueOf("answered");

        @Override
        public void close() {
            server.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** haproxy in the foreground as our child: two TCP-mode frontends, one per back end. */
    static final class HaProxy implements AutoCloseable {
        final PeerProcess process;
        final int httpPort;
        final int bulkPort;

        private HaProxy(PeerProcess process, int httpPort, int bulkPort) {
            this.process = process;
            this.httpPort = httpPort;
            this.bulkPort = bulkPort;
        }

        static HaProxy start(Path dir, int threads, int responderPort, int sinkPort) throws Exception {
            int httpPort = Ports.free();
            int bulkPort = Ports.free();
            Path config = dir.resolve("haproxy.cfg");
            Files.writeString(config, String.join("\n",
                    "global",
                    "  maxconn 4096",
                    "  nbthread " + threads,
                    "defaults",
                    "  mode tcp",
                    "  timeout connect 5s",
                    "  timeout client 120s",
                    "  timeout server 120s",
                    "frontend http",
                    "  bind 127.0.0.1:" + httpPort,
                    "  default_backend responder",
                    "frontend bulk",
                    "  bind 127.0.0.1:" + bulkPort,
                    "  default_backend sink",
                    "backend responder",
                    "  server r1 127.0.0.1:" + responderPort,
                    "backend sink",
                    "  server s1 127.0.0.1:" + sinkPort,
                    ""));
            PeerProcess p = PeerProcess.start("haproxy", List.of("haproxy", "-db", "-f", config.toString()),
                    dir.resolve("haproxy.log"), bulkPort);
            return new HaProxy(p, httpPort, bulkPort);
        }

        @Override
        public void close() throws InterruptedException {
            process.close();
        }
    }
}
