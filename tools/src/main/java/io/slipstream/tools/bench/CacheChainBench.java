package io.slipstream.tools.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import io.slipstream.worker.cache.CacheProxySettings;
import io.slipstream.worker.cache.CacheServer;
import io.slipstream.worker.cache.ChainRoutes;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;

/**
 * The chain part of {@code slipstream bench cache}: a branch cache whose misses cross the WAN.
 *
 * <p>Ours: a cache worker at site a whose origin is at site b, with a {@code cache+wanopt} policy, so its misses go
 * through a wanopt worker of site a (steered listener, PROXY v2 and the policy TLV), across the tunnel to a wanopt
 * worker of site b, which connects to the origin. A plain counting relay sits on the tunnel between the two wanopt
 * workers: the WAN link. The peer: Varnish at the branch, its backend the same origin through a plain counting
 * relay (what a branch running Varnish alone sends over its WAN link).
 *
 * <p>Workload: text web objects (the JDK's {@code legal/} files and man pages, as found on this machine; a
 * generated stand-in, labelled, where they are missing), served uncompressed by one origin for both, each with an
 * ETag and {@code max-age=1}. Both caches fetch every object once (cold); then the origin publishes a second version
 * of each (a new version banner and a few edited lines, new ETag); once both stored copies are stale, both caches
 * refetch every object (a revalidation answered 200 with the new body). Counted: the bytes on each WAN relay (both
 * directions) for the cold fetch and for the refetch, and each miss's latency; every body is checked against the
 * SHA-256 of the version the origin served.
 */
final class CacheChainBench {

    static final String PEER = "Varnish, misses over a plain relay";
    static final String REFETCH_ROW = "chained refetch of changed objects WAN bytes";
    static final String COLD_ROW = "chained cold fetch WAN bytes";
    static final String LATENCY_ROW = "chained miss latency p50 ms";

    /** The origin's freshness lifetime: both caches revalidate once it has passed. */
    static final int MAX_AGE_SECONDS = 1;
    /** Untimed misses of unrelated objects through both paths before the measured ones (JIT, connections). */
    static final int WARM_UP_MISSES = 150;
    /** The wanopt worker's per-stream window, as the worker runs it ({@code WanOptDataPlane.WINDOW_BYTES}). */
    static final int WINDOW = 1 << 20;
    static final String POLICY = "web-b";
    static final List<Site> SITES = List.of(
            Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24").build(),
            Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8").build());

    static final String BANNER_V1 = "<!-- release 4.2.0, build 20261201.1 -->\n";
    static final String BANNER_V2 = "<!-- release 4.2.1, build 20261207.3 -->\n";
    static final String EDIT = " (revised in 4.2.1)";
    static final int EDITED_LINES = 3;

    /** One web object in its two versions. */
    record WebObject(String path, String contentType, byte[] v1, byte[] v2) {
        byte[] body(int version) {
            return version == 1 ? v1 : v2;
        }

        String etag(int version) {
            return "\"" + DigestSink.digestOf(body(version)).substring(0, 16) + "\"";
        }
    }

    /** The objects and where they came from. */
    record Workload(List<WebObject> objects, String source) {
        long bytes(int version) {
            return objects.stream().mapToLong(o -> o.body(version).length).sum();
        }
    }

    /** The measured figures of one side. */
    static final class Side {
        String coldEncoding = "";
        String refetchEncoding = "";
        long coldWanBytes;
        long refetchWanBytes;
        final List<Double> missMillis = new ArrayList<>();
        /** Tunnel bytes while each object's cold fetch, then its refetch, was under way (ours only). */
        final List<Long> coldPerObject = new ArrayList<>();
        final List<Long> refetchPerObject = new ArrayList<>();
    }

    private CacheChainBench() {
    }

    /** The second version of a text: a new version banner and {@link #EDITED_LINES} lines edited. */
    static byte[][] versions(String text) {
        String[] lines = text.split("\n", -1);
        for (int k = 1; k <= EDITED_LINES; k++) {
            int at = (int) ((long) lines.length * k / (EDITED_LINES + 1));
            lines[Math.min(at, lines.length - 1)] += EDIT;
        }
        byte[] v1 = (BANNER_V1 + text).getBytes(StandardCharsets.UTF_8);
        byte[] v2 = (BANNER_V2 + String.join("\n", lines)).getBytes(StandardCharsets.UTF_8);
        return new byte[][] {v1, v2};
    }

    /**
     * The JDK's {@code legal/} files and man pages (gunzipped) under {@code javaHome}, distinct contents only, in
     * path order, at most {@code max} ({@code 0}: all); a generated stand-in when fewer than 8 are found.
     */
    static Workload workload(Path javaHome, int max) throws IOException {
        Map<String, WebObject> byDigest = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("legal", "man")) {
            Path root = javaHome.resolve(dir);
            if (Files.isDirectory(root)) {
                try (Stream<Path> walk = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
                    walk.filter(Files::isRegularFile).forEach(files::add);
                }
            }
        }
        files.sort((a, b) -> javaHome.relativize(a).toString().compareTo(javaHome.relativize(b).toString()));
        for (Path f : files) {
            String name = javaHome.relativize(f).toString().replace('\\', '/');
            byte[] bytes = Files.readAllBytes(f);
            if (name.endsWith(".gz")) {
                try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
                    bytes = in.readAllBytes();
                } catch (IOException e) {
                    continue;
                }
                name = name.substring(0, name.length() - 3);
            }
            if (bytes.length < 512 || bytes.length > (1 << 20) || !text(bytes)) {
                continue;
            }
            String type = name.endsWith(".md") ? "text/markdown; charset=utf-8"
                    : name.startsWith("man/") ? "text/troff; charset=utf-8" : "text/plain; charset=utf-8";
            byte[][] v = versions(new String(bytes, StandardCharsets.UTF_8));
            byDigest.putIfAbsent(DigestSink.digestOf(bytes), new WebObject("/web/" + name, type, v[0], v[1]));
        }
        List<WebObject> objects = new ArrayList<>(byDigest.values());
        if (objects.size() >= 8) {
            return new Workload(max > 0 && objects.size() > max ? objects.subList(0, max) : objects,
                    "the JDK's legal/ files and man pages (" + javaHome + ")");
        }
        int n = max > 0 ? max : 48;
        List<WebObject> generated = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] body = Workloads.fileLike(2048 + (int) ((long) i * 61_000 / n), 100 + i);
            byte[][] v = versions(new String(body, StandardCharsets.US_ASCII));
            generated.add(new WebObject("/web/generated/" + i + ".txt", "text/plain; charset=utf-8", v[0], v[1]));
        }
        return new Workload(generated, "GENERATED stand-in (no JDK legal/ or man pages under " + javaHome + ")");
    }

    private static boolean text(byte[] bytes) {
        for (byte b : bytes) {
            if (b == 0) {
                return false;
            }
        }
        return true;
    }

    /** Runs the chain part and adds its three rows to {@code report}. */
    static void run(BenchReport report, PrintWriter out, Path dir, int maxObjects) throws Exception {
        Workload workload = workload(Path.of(System.getProperty("java.home")), maxObjects);
        List<WebObject> objects = workload.objects();
        Side ours = new Side();
        Side theirs = new Side();
        int[] conditional = new int[2];
        String varnishVersion;
        long t0 = System.nanoTime();
        try (ChainOrigin origin = new ChainOrigin(objects);
             Chain chain = new Chain(origin.port());
             ShapingRelay plainWan = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", origin.port()));
             // Grace 0: a stale object is refetched before it is served (as ours does without
             // stale-while-revalidate), not served stale while a background fetch runs; keep: the stale object
             // stays, so the refetch is a conditional request (If-None-Match), as ours sends.
             CacheBenchCommand.Varnish varnish = CacheBenchCommand.Varnish.start(dir.resolve("chain"),
                     plainWan.port(), 256, List.of("-p", "default_grace=0s", "-p", "default_keep=3600s"))) {
            varnishVersion = varnish.version;
            Client oursClient = new Client("ours (cache+wanopt chain)", chain.cache.address().getPort());
            Client theirsClient = new Client(varnish.version, varnish.port);

            for (int i = 0; i < WARM_UP_MISSES; i++) {
                String path = "/warm/" + i;
                byte[] body = ChainOrigin.warmBody(i);
                oursClient.get(path, body);
                theirsClient.get(path, body);
            }
            long chained0 = chain.cache.chainFetches();

            // Cold: every object once, ours and Varnish in turn (the same load on the machine for both)
            long[] wan0 = {settle(chain.wan), settle(plainWan)};
            long[] origin0 = origin.counts();
            Map<String, Double> enc0 = chain.encodedByKind();
            for (WebObject o : objects) {
                long w = chain.wan.bytesRelayed();
                ours.missMillis.add(oursClient.get(o.path(), o.v1()));
                ours.coldPerObject.add(chain.wan.bytesRelayed() - w);
                theirs.missMillis.add(theirsClient.get(o.path(), o.v1()));
            }
            long[] wan1 = {settle(chain.wan), settle(plainWan)};
            long[] origin1 = origin.counts();
            Map<String, Double> enc1 = chain.encodedByKind();
            ours.coldEncoding = encoding(enc0, enc1);
            ours.coldWanBytes = wan1[0] - wan0[0];
            theirs.coldWanBytes = wan1[1] - wan0[1];
            expectMisses("cold fetch", objects.size(), origin0, origin1);

            // The origin publishes the second versions; both stored copies go stale, then both caches refetch
            origin.version = 2;
            new CountDownLatch(1).await(MAX_AGE_SECONDS * 1000L + 1200, TimeUnit.MILLISECONDS);
            wan0 = new long[] {settle(chain.wan), settle(plainWan)};
            for (WebObject o : objects) {
                long w = chain.wan.bytesRelayed();
                ours.missMillis.add(oursClient.get(o.path(), o.v2()));
                ours.refetchPerObject.add(chain.wan.bytesRelayed() - w);
                theirs.missMillis.add(theirsClient.get(o.path(), o.v2()));
            }
            wan1 = new long[] {settle(chain.wan), settle(plainWan)};
            long[] origin2 = origin.counts();
            ours.refetchEncoding = encoding(enc1, chain.encodedByKind());
            ours.refetchWanBytes = wan1[0] - wan0[0];
            theirs.refetchWanBytes = wan1[1] - wan0[1];
            expectMisses("refetch", objects.size(), origin1, origin2);
            conditional[0] = (int) (origin2[2] - origin1[2]);
            conditional[1] = (int) (origin2[3] - origin1[3]);
            long chained = chain.cache.chainFetches() - chained0;
            if (chained != 2L * objects.size()) {
                throw new IllegalStateException("chain: " + chained + " fetches through the wanopt tunnel for "
                        + 2 * objects.size() + " misses (expected: every miss through the tunnel)");
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        report.add(REFETCH_ROW, ours.refetchWanBytes, PEER, theirs.refetchWanBytes, BenchReport.Better.LOWER);
        report.add(COLD_ROW, ours.coldWanBytes, PEER, theirs.coldWanBytes, BenchReport.Better.LOWER);
        report.add(LATENCY_ROW, percentile(ours.missMillis, 50), PEER, percentile(theirs.missMillis, 50),
                BenchReport.Better.LOWER);

        long v1 = workload.bytes(1);
        long v2 = workload.bytes(2);
        long gzip = objects.stream().mapToLong(o -> deflated(o.v1())).sum();
        out.printf(Locale.ROOT, "cache+wanopt chain: %d text objects, %d bytes (%d..%d each), from %s; uncompressed"
                + " responses (the same origin for both, no gzip), ETag, max-age=%d; second version: new version"
                + " banner and %d lines edited in each (%d bytes more in all)%n", objects.size(), v1,
                objects.stream().mapToInt(o -> o.v1().length).min().orElse(0),
                objects.stream().mapToInt(o -> o.v1().length).max().orElse(0), workload.source(), MAX_AGE_SECONDS,
                EDITED_LINES, v2 - v1);
        out.printf(Locale.ROOT, "  ours: branch cache -> wanopt a (steered, PROXY v2 + policy TLV) -> counting relay"
                + " (the WAN) -> wanopt b -> origin; %s: varnishd -p default_grace=0s -p default_keep=3600s ->"
                + " counting relay (the WAN) -> origin; bytes counted both ways on each relay; loopback, no emulated"
                + " delay; %d untimed warm-up misses each first; one client connection each, ours and Varnish in"
                + " turn per object; every body SHA-256 checked%n", varnishVersion, WARM_UP_MISSES);
        out.printf(Locale.ROOT, "  cold fetch WAN bytes: ours %d (%.1f%% of the bodies), Varnish %d (%.1f%%); gzip -6"
                + " of each body alone would be %d (%.1f%%, if the origin gzipped); ours' application bytes by"
                + " encoding: %s%n", ours.coldWanBytes, 100.0 * ours.coldWanBytes / v1, theirs.coldWanBytes,
                100.0 * theirs.coldWanBytes / v1, gzip, 100.0 * gzip / v1, ours.coldEncoding);
        out.printf(Locale.ROOT, "  refetch of changed objects WAN bytes: ours %d (%.2f%% of the new bodies), Varnish %d"
                + " (%.1f%%); conditional refetches (If-None-Match) seen by the origin: ours %d/%d, Varnish %d/%d; ours' application"
                + " bytes by encoding: %s%n",
                ours.refetchWanBytes, 100.0 * ours.refetchWanBytes / v2, theirs.refetchWanBytes,
                100.0 * theirs.refetchWanBytes / v2, conditional[0], objects.size(), conditional[1], objects.size(),
                ours.refetchEncoding);
        out.printf(Locale.ROOT, "  ours by object size (tunnel bytes while each fetch was under way): %s%n",
                bySize(objects, ours));
        out.printf(Locale.ROOT, "  miss latency ms (%d misses each, cold and refetch): ours p50 %.3f p90 %.3f max %.3f;"
                + " Varnish p50 %.3f p90 %.3f max %.3f; chain part took %.1f s%n", ours.missMillis.size(),
                percentile(ours.missMillis, 50), percentile(ours.missMillis, 90), percentile(ours.missMillis, 100),
                percentile(theirs.missMillis, 50), percentile(theirs.missMillis, 90),
                percentile(theirs.missMillis, 100), seconds);
    }

    /** Objects under and over the wanopt's average chunk (32 KiB), cold and refetch: bodies and tunnel bytes. */
    private static String bySize(List<WebObject> objects, Side ours) {
        StringBuilder b = new StringBuilder();
        for (boolean small : new boolean[] {true, false}) {
            int n = 0;
            long v1 = 0;
            long v2 = 0;
            long cold = 0;
            long refetch = 0;
            for (int i = 0; i < objects.size(); i++) {
                WebObject o = objects.get(i);
                if ((o.v1().length < 32 * 1024) == small) {
                    n++;
                    v1 += o.v1().length;
                    v2 += o.v2().length;
                    cold += ours.coldPerObject.get(i);
                    refetch += ours.refetchPerObject.get(i);
                }
            }
            if (n > 0) {
                b.append(b.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT,
                        "%d objects %s (%d bytes): cold %.1f%%, refetch %.1f%%", n, small ? "under 32 KiB" : "of 32 KiB and more",
                        v1, 100.0 * cold / v1, 100.0 * refetch / v2));
            }
        }
        return b.toString();
    }

    private static String encoding(Map<String, Double> before, Map<String, Double> after) {
        StringBuilder b = new StringBuilder();
        for (String kind : after.keySet()) {
            b.append(b.length() == 0 ? "" : ", ").append(kind).append(' ')
                    .append((long) (after.get(kind) - before.get(kind)));
        }
        return b.toString();
    }

    private static void expectMisses(String phase, int n, long[] before, long[] after) {
        long o = after[0] - before[0];
        long t = after[1] - before[1];
        if (o != n || t != n) {
            throw new IllegalStateException("chain " + phase + ": the origin saw " + o + " requests from ours and " + t
                    + " from Varnish for " + n + " objects (expected: one miss per object each)");
        }
    }

    /** The {@code p}th percentile (nearest rank) of {@code values}. */
    static double percentile(List<Double> values, double p) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        int rank = (int) Math.ceil(p / 100 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    private static long deflated(byte[] body) {
        Deflater d = new Deflater(6, true);
        d.setInput(body);
        d.finish();
        byte[] buf = new byte[64 * 1024];
        long n = 18; // gzip header and trailer
        while (!d.finished()) {
            n += d.deflate(buf);
        }
        d.end();
        return n;
    }

    /**
     * The relay's byte count once it has stopped moving (the last acknowledgements and window updates of a
     * response may cross after its body reached the client): unchanged for 150 ms, or after 3 s.
     */
    private static long settle(ShapingRelay relay) throws InterruptedException {
        long last = relay.bytesRelayed();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < deadline) {
            new CountDownLatch(1).await(150, TimeUnit.MILLISECONDS);
            long now = relay.bytesRelayed();
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** One keep-alive HTTP/1.1 client connection's worth of sequential GETs, each checked. */
    private static final class Client {
        private final String who;
        private final int port;
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        Client(String who, int port) {
            this.who = who;
            this.port = port;
        }

        /** GETs {@code path}, checks a 200 with exactly {@code expected}, returns the milliseconds it took. */
        double get(String path, byte[] expected) throws Exception {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(30)).build();
            long start = System.nanoTime();
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            double millis = (System.nanoTime() - start) / 1e6;
            if (r.statusCode() != 200 || !DigestSink.digestOf(r.body()).equals(DigestSink.digestOf(expected))) {
                throw new IllegalStateException(who + " " + path + ": " + r.statusCode() + " with " + r.body().length
                        + " bytes, SHA-256 " + DigestSink.digestOf(r.body()) + " (expected: 200 with the "
                        + expected.length + " bytes of SHA-256 " + DigestSink.digestOf(expected) + ")");
            }
            return millis;
        }
    }

    /**
     * The origin at site b: {@code /web/...} the objects in the current version ({@code max-age=1}, ETag, 304 to a
     * matching If-None-Match), {@code /warm/N} unrelated text, not storable. Counts requests and conditional ones
     * by who asked (Varnish sends X-Varnish). Netty, keep-alive, each response written whole in one write with
     * TCP_NODELAY, as a production origin sends it (the JDK's HttpServer writes the head and the body apart
     * without TCP_NODELAY: Nagle then holds the body for the peer's delayed ACK, up to 40 ms a response).
     */
    static final class ChainOrigin implements AutoCloseable {
        final Map<String, WebObject> objects = new LinkedHashMap<>();
        volatile int version = 1;
        private final AtomicLong oursRequests = new AtomicLong();
        private final AtomicLong theirsRequests = new AtomicLong();
        private final AtomicLong oursConditional = new AtomicLong();
        private final AtomicLong theirsConditional = new AtomicLong();
        private final EventLoopGroup group = new NioEventLoopGroup(1);
        private final Channel server;

        ChainOrigin(List<WebObject> list) throws InterruptedException {
            for (WebObject o : list) {
                objects.put(o.path(), o);
            }
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                            FullHttpResponse r = answer(req);
                                            boolean keepAlive = HttpUtil.isKeepAlive(req);
                                            HttpUtil.setKeepAlive(r, keepAlive);
                                            var f = ctx.writeAndFlush(r);
                                            if (!keepAlive) {
                                                f.addListener(ChannelFutureListener.CLOSE);
                                            }
                                        }
                                    });
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        /** Requests to {@code /web/}: ours, Varnish's, ours conditional, Varnish's conditional. */
        long[] counts() {
            return new long[] {oursRequests.get(), theirsRequests.get(), oursConditional.get(),
                theirsConditional.get()};
        }

        static byte[] warmBody(int i) {
            return Workloads.fileLike(8 * 1024 + (i % 7) * 4096, 1_000 + i);
        }

        private FullHttpResponse answer(FullHttpRequest req) {
            String path = new QueryStringDecoder(req.uri()).path();
            if (path.startsWith("/warm/")) {
                int i;
                try {
                    i = Integer.parseInt(path.substring("/warm/".length()));
                } catch (NumberFormatException e) {
                    i = -1;
                }
                if (i < 0) {
                    return response(HttpResponseStatus.NOT_FOUND, new byte[0]);
                }
                FullHttpResponse r = response(HttpResponseStatus.OK, warmBody(i));
                r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store").set(HttpHeaderNames.CONTENT_TYPE,
                        "text/plain");
                return r;
            }
            boolean varnish = req.headers().contains("X-Varnish");
            String inm = req.headers().get(HttpHeaderNames.IF_NONE_MATCH);
            WebObject o = objects.get(path);
            if (o == null) {
                return response(HttpResponseStatus.NOT_FOUND, new byte[0]);
            }
            (varnish ? theirsRequests : oursRequests).incrementAndGet();
            if (inm != null) {
                (varnish ? theirsConditional : oursConditional).incrementAndGet();
            }
            int v = version;
            String etag = o.etag(v);
            boolean notModified = inm != null && List.of(inm.split("\\s*,\\s*")).contains(etag);
            FullHttpResponse r = notModified ? response(HttpResponseStatus.NOT_MODIFIED, null)
                    : response(HttpResponseStatus.OK, o.body(v));
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, "max-age=" + MAX_AGE_SECONDS)
                    .set(HttpHeaderNames.ETAG, etag).set(HttpHeaderNames.CONTENT_TYPE, o.contentType());
            return r;
        }

        private static FullHttpResponse response(HttpResponseStatus status, byte[] body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new java.util.Date()));
            if (body != null) {
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            }
            return r;
        }

        @Override
        public void close() {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Ours: the branch cache at site a, a wanopt worker of site a (steered listener), a counting relay (the WAN),
     * a wanopt worker of site b; configured as the controller would push it (policy, sites, chain table).
     */
    static final class Chain implements AutoCloseable {
        final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
        final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        final WanOptimizer far;
        final ShapingRelay wan;
        final WanOptimizer near;
        final CacheServer cache;

        Chain(int originPort) throws Exception {
            ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors()); // as the worker runs it
            far = new WanOptimizer(new WanOptimizer.Settings("bench-wan-b", "b", "127.0.0.1", 0, List.of(), WINDOW,
                    threads), meters, new DataPlaneStats(), () -> compressor, compressor).start();
            wan = ShapingRelay.plain(far.tunnelAddress());
            near = new WanOptimizer(new WanOptimizer.Settings("bench-wan-a", "a", "127.0.0.1", 0, List.of(), WINDOW,
                    threads).steeredPort(0), meters, new DataPlaneStats(), () -> compressor, compressor).start();
            FlowPolicy policy = FlowPolicy.newBuilder().setName(POLICY).setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT)
                    .addSrcPrefixes("198.18.1.0/24") // the branch's clients; the cache's misses take the chain
                    .addDstPorts(PortRange.newBuilder().setFirst(originPort).setLast(originPort))
                    .setPeerUnavailable(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST).build();
            near.sites(SITES);
            near.policies(List.of(policy));
            near.peers(List.of(Peer.newBuilder().setWorkerId("bench-wan-b").setSite("b").setWeight(1)
                    .setDataEndpoint("127.0.0.1:" + wan.port()).build()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (near.readyConnections("bench-wan-b") < threads) {
                if (System.nanoTime() > deadline) {
                    close();
                    throw new IllegalStateException("chain: the tunnel between the bench sites did not come up");
                }
                new CountDownLatch(1).await(50, TimeUnit.MILLISECONDS);
            }
            cache = new CacheServer(CacheProxySettings.builder().workerId("bench-cache-a")
                    .origin(URI.create("http://127.0.0.1:" + originPort)).build()).start();
            SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy(POLICY).setSite("a")
                    .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT)
                    .addMembers(Peer.newBuilder().setWorkerId("bench-wan-a").setSite("a").setWeight(1)
                            .setDataEndpoint("127.0.0.1:" + near.steeredAddress().getPort()));
            for (int b = 0; b < 16; b++) {
                entry.addOwners(0);
            }
            cache.chain(ChainRoutes.of(WorkerConfig.newBuilder().setGeneration(1).setRole(Role.ROLE_CACHE).setSite("a")
                    .addPolicies(policy).addAllSites(SITES)
                    .setChain(SteeringTable.newBuilder().setBucketCount(16).addEntries(entry)).build()));
        }

        /** Application bytes the two wanopt workers encoded, by encoding (literal, reference, delta), and raw. */
        Map<String, Double> encodedByKind() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String kind : List.of("literal", "reference", "delta")) {
                m.put(kind, meters.find("slipstream.wanopt.chunk.bytes").tag("kind", kind).counters().stream()
                        .mapToDouble(c -> c.count()).sum());
            }
            m.put("raw", meters.find("slipstream.wanopt.bytes.raw").counters().stream().mapToDouble(c -> c.count())
                    .sum());
            return m;
        }

        @Override
        public void close() {
            if (cache != null) {
                cache.close();
            }
            near.close();
            wan.close();
            far.close();
            registry.close();
        }
    }
}
