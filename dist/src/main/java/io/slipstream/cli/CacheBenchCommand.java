package io.slipstream.cli;

import io.slipstream.common.Ports;
import com.sun.net.httpserver.HttpServer;
import io.slipstream.common.bench.BenchReport;
import io.slipstream.worker.cache.CacheProxySettings;
import io.slipstream.worker.cache.CacheServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench cache}: cache hits through our caching proxy against Varnish from the
 * distribution, both in front of the same origin on loopback, driven by wrk in turn: requests/s and
 * p50/p99 latency for a 1 KiB and a 64 KiB object. Both caches are warmed first, and the origin's request
 * count is checked to be unchanged by each measured run (every measured request was a hit).
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "Cache hits: ours vs Varnish (wrk on loopback), requests/s and p50/p99; prints ratios.")
final class CacheBenchCommand implements Callable<Integer> {

    static final List<Integer> SIZES = List.of(1024, 64 * 1024);

    @Spec
    CommandSpec spec;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON")
    Path json;

    @Option(names = "--duration-s", defaultValue = "5", description = "Seconds per measured wrk run (default: ${DEFAULT-VALUE})")
    int durationSeconds;

    @Option(names = "--warmup-s", defaultValue = "2", description = "Seconds of wrk warm-up per cache and size (default: ${DEFAULT-VALUE})")
    int warmupSeconds;

    @Option(names = "--connections", defaultValue = "32", description = "wrk connections (default: ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--wrk-threads", defaultValue = "1", description = "wrk threads (default: ${DEFAULT-VALUE})")
    int wrkThreads;

    @Option(names = "--repetitions", defaultValue = "3",
            description = "Measured runs per cache and size, interleaved ours/theirs; the best of each is kept"
                    + " (default: ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "--proxy-threads", defaultValue = "0",
            description = "Our proxy's event loops; 0: one per core not taken by wrk (default: ${DEFAULT-VALUE})")
    int proxyThreads;

    /** One wrk run's figures. */
    record WrkResult(double requestsPerSecond, double p50Millis, double p99Millis, long errors) {
    }

    @Override
    public Integer call() throws Exception {
        if (repetitions < 1) {
            throw new IllegalArgumentException("--repetitions: " + repetitions + " (expected: >= 1)");
        }
        if (durationSeconds < 1 || warmupSeconds < 0 || connections < 1 || wrkThreads < 1 || wrkThreads > connections
                || proxyThreads < 0) {
            throw new IllegalArgumentException("--duration-s >= 1, --warmup-s >= 0, --connections >= --wrk-threads >= 1,"
                    + " --proxy-threads >= 0 expected");
        }
        requireTool("wrk", "--version");
        requireTool("varnishd", "-V");
        PrintWriter out = spec.commandLine().getOut();
        BenchReport report = new BenchReport("cache");
        Path dir = Files.createTempDirectory("slipstream-bench-cache");
        try (BenchOrigin origin = new BenchOrigin();
             CacheServer ours = startOurs(origin);
             Varnish varnish = Varnish.start(dir, origin.port())) {
            String varnishVersion = varnish.version;
            for (int size : SIZES) {
                String path = "/obj/" + size;
                String oursUrl = "http://127.0.0.1:" + ours.address().getPort() + path;
                String theirsUrl = "http://127.0.0.1:" + varnish.port + path;
                warm(oursUrl, size);
                warm(theirsUrl, size);
                if (warmupSeconds > 0) {
                    wrk(oursUrl, warmupSeconds);
                    wrk(theirsUrl, warmupSeconds);
                }
                WrkResult o = null;
                WrkResult t = null;
                for (int r = 0; r < repetitions; r++) {
                    o = best(o, measured(origin, oursUrl, "ours"));
                    t = best(t, measured(origin, theirsUrl, varnishVersion));
                }
                String label = size / 1024 + " KiB hits";
                report.add(label + ": requests/s", o.requestsPerSecond(), varnishVersion, t.requestsPerSecond(),
                        BenchReport.Better.HIGHER);
                report.add(label + ": p50 latency ms", o.p50Millis(), varnishVersion, t.p50Millis(),
                        BenchReport.Better.LOWER);
                report.add(label + ": p99 latency ms", o.p99Millis(), varnishVersion, t.p99Millis(),
                        BenchReport.Better.LOWER);
            }
        } finally {
            deleteTree(dir);
        }
        out.printf(Locale.ROOT, "cache hits on loopback: wrk -t%d -c%d -d%ds --latency, best of %d interleaved runs"
                + " after %d s warm-up each; same origin, objects max-age=3600; %d cores shared by wrk, the proxy"
                + " and Varnish%n", wrkThreads, connections, durationSeconds, repetitions, warmupSeconds,
                Runtime.getRuntime().availableProcessors());
        report.print(out);
        double ratio1k = report.rows().get(0).ratio();
        double ratio64k = report.rows().get(3).ratio();
        out.printf(Locale.ROOT, "hit throughput vs Varnish: %.2fx (1 KiB), %.2fx (64 KiB) (goal: >= 1.0x)%n",
                ratio1k, ratio64k);
        out.flush();
        if (json != null) {
            report.writeJson(json);
            out.println("wrote " + json);
        }
        return 0;
    }

    private CacheServer startOurs(BenchOrigin origin) throws InterruptedException {
        CacheProxySettings.Builder b = CacheProxySettings.builder().workerId("bench")
                .origin(URI.create("http://127.0.0.1:" + origin.port()));
        b.threads(proxyThreads > 0 ? proxyThreads
                : Math.max(1, Runtime.getRuntime().availableProcessors() - wrkThreads));
        return new CacheServer(b.build()).start();
    }

    private static WrkResult best(WrkResult a, WrkResult b) {
        return a == null || b.requestsPerSecond() > a.requestsPerSecond() ? b : a;
    }

    /** A measured run, which must not have reached the origin (all hits) nor seen errors. */
    private WrkResult measured(BenchOrigin origin, String url, String who) throws Exception {
        long before = origin.requests.get();
        WrkResult r = wrk(url, durationSeconds);
        long fetched = origin.requests.get() - before;
        if (fetched != 0 || r.errors() > 0) {
            throw new IllegalStateException(who + " at " + url + ": " + fetched + " origin requests and " + r.errors()
                    + " errors during the measured run (expected: 0, every request a hit)");
        }
        return r;
    }

    private static void warm(String url, int size) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        int ok = 0;
        while (ok < 3) {
            HttpResponse<byte[]> r;
            try {
                r = client.send(get, HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                r = null;
            }
            if (r != null && r.statusCode() == 200 && r.body().length == size) {
                ok++;
            } else if (System.nanoTime() > deadline) {
                throw new IllegalStateException(url + ": no 200 with " + size + " bytes within 15 s (got "
                        + (r == null ? "no answer" : r.statusCode() + ", " + r.body().length + " bytes") + ")");
            } else {
                new CountDownLatch(1).await(100, TimeUnit.MILLISECONDS);
            }
        }
    }

    private WrkResult wrk(String url, int seconds) throws Exception {
        Process p = new ProcessBuilder("wrk", "-t" + wrkThreads, "-c" + connections, "-d" + seconds + "s", "--latency",
                url).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 30L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk failed for " + url + ":\n" + output);
        }
        return parseWrk(output);
    }

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern PERCENTILE = Pattern.compile("(?m)^\\s*(50|99)(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s)\\s*$");
    private static final Pattern ERRORS = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");

    /** Requests/s, p50 and p99 (ms) and errors from wrk's {@code --latency} output. */
    static WrkResult parseWrk(String output) {
        Matcher rps = RPS.matcher(output);
        if (!rps.find()) {
            throw new IllegalStateException("wrk output without Requests/sec:\n" + output);
        }
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        Matcher m = PERCENTILE.matcher(output);
        while (m.find()) {
            double v = Double.parseDouble(m.group(2));
            double ms = switch (m.group(3)) {
                case "us" -> v / 1000;
                case "ms" -> v;
                default -> v * 1000;
            };
            if (m.group(1).equals("50")) {
                p50 = ms;
            } else {
                p99 = ms;
            }
        }
        if (Double.isNaN(p50) || Double.isNaN(p99)) {
            throw new IllegalStateException("wrk output without the 50% and 99% latency lines:\n" + output);
        }
        long errors = 0;
        Matcher e = ERRORS.matcher(output);
        if (e.find()) {
            for (int i = 1; i <= 4; i++) {
                errors += Long.parseLong(e.group(i));
            }
        }
        Matcher n = NON_2XX.matcher(output);
        if (n.find()) {
            errors += Long.parseLong(n.group(1));
        }
        return new WrkResult(Double.parseDouble(rps.group(1)), p50, p99, errors);
    }

    private static void requireTool(String tool, String versionFlag) {
        try {
            Process p = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            throw new IllegalArgumentException(tool + " not found (expected: apt-get install -y varnish wrk, "
                    + "or bin/test installs bin/test-packages)");
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp dir
        }
    }

    /** The shared origin: {@code /obj/N} is N bytes, cacheable for an hour; counts requests. */
    static final class BenchOrigin implements AutoCloseable {
        final AtomicLong requests = new AtomicLong();
        private final HttpServer server;
        private final ExecutorService executor = Executors.newFixedThreadPool(4);

        BenchOrigin() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
            server.createContext("/obj/", ex -> {
                requests.incrementAndGet();
                ex.getRequestBody().readAllBytes();
                int size;
                try {
                    size = Integer.parseInt(ex.getRequestURI().getPath().substring("/obj/".length()));
                } catch (NumberFormatException e) {
                    size = -1;
                }
                if (size < 0 || size > 16 << 20) {
                    ex.sendResponseHeaders(404, -1);
                    ex.close();
                    return;
                }
                byte[] body = new byte[size];
                for (int i = 0; i < size; i++) {
                    body[i] = (byte) ('a' + i % 26);
                }
                ex.getResponseHeaders().add("Cache-Control", "max-age=3600");
                ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
                ex.getResponseHeaders().add("ETag", "\"" + size + "\"");
                ex.sendResponseHeaders(200, size == 0 ? -1 : size);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(body);
                }
            });
            server.setExecutor(executor);
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
            executor.shutdownNow();
        }
    }

    /** varnishd in the foreground as our child, with a private working directory. */
    static final class Varnish implements AutoCloseable {
        final PeerProcess process;
        final int port;
        final String version;

        private Varnish(PeerProcess process, int port, String version) {
            this.process = process;
            this.port = port;
            this.version = version;
        }

        static Varnish start(Path dir, int originPort) throws Exception {
            int port = Ports.free();
            Process v = new ProcessBuilder("varnishd", "-V").redirectErrorStream(true).start();
            String banner = new String(v.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            v.waitFor(10, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("varnish-([0-9.]+)").matcher(banner);
            String version = "varnish " + (m.find() ? m.group(1) : "?");
            PeerProcess p = PeerProcess.start("varnishd", List.of("varnishd", "-n", dir.resolve("varnish").toString(),
                    "-a", "127.0.0.1:" + port, "-b", "127.0.0.1:" + originPort, "-s", "malloc,256m", "-F"),
                    dir.resolve("varnishd.log"), port);
            return new Varnish(p, port, version);
        }

        @Override
        public void close() throws InterruptedException {
            process.close();
        }
    }
}
