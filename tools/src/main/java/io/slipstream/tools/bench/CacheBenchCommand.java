package io.slipstream.tools.bench;

import com.sun.net.httpserver.HttpServer;
import io.slipstream.tools.net.Ports;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream bench cache}: cache hits through our caching proxy against Varnish from the
 * distribution, both in front of the same origin on loopback, driven by wrk in turn: requests/s and
 * p50/p99 latency for a 1 KiB and a 64 KiB object. Both caches are warmed first, and the origin's request
 * count is checked to be unchanged by each measured run (every measured request was a hit).
 *
 * <p>Then a video-like workload: {@code --range-clients} connections reading a library of
 * {@code --range-objects} objects of {@code --range-object-mib} MiB, all cached, in 1 MiB ranges (a wrk
 * script walks each client's objects in order): Gbit/s of range payload and p99 per range. Finally a cold
 * row: time to the first body byte of a 1 MiB range in the middle of an uncached {@code --cold-object-mib}
 * MiB object (median of {@code --repetitions} fresh objects).
 *
 * <p>Last, the cache+wanopt chain ({@link CacheChainBench}): a branch cache whose misses cross the WAN through
 * the wanopt tunnel, against Varnish at the branch fetching over a plain relay: WAN bytes of a cold fetch and of a
 * refetch of changed text objects, and the miss latency. {@code --rows chain} runs only that part.
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = "Cache hits: ours vs Varnish (wrk on loopback), requests/s and p50/p99; the cache+wanopt chain's"
                + " WAN bytes and miss latency vs Varnish over a plain relay; prints ratios.")
public final class CacheBenchCommand implements Callable<Integer> {

    static final List<Integer> SIZES = List.of(1024, 64 * 1024);

    @Spec
    CommandSpec spec;

    @Mixin
    BenchJsonOption json;

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

    @Option(names = "--range-objects", defaultValue = "20",
            description = "Range workload: objects in the library (default: ${DEFAULT-VALUE})")
    int rangeObjects;

    @Option(names = "--range-object-mib", defaultValue = "64",
            description = "Range workload: MiB per object; lower it when memory is short (default: ${DEFAULT-VALUE})")
    int rangeObjectMib;

    @Option(names = "--range-clients", defaultValue = "64",
            description = "Range workload: concurrent clients (wrk connections) (default: ${DEFAULT-VALUE})")
    int rangeClients;

    @Option(names = "--cold-object-mib", defaultValue = "256",
            description = "Cold row: MiB of the uncached object a range is asked of (default: ${DEFAULT-VALUE})")
    int coldObjectMib;

    @Option(names = "--proxy-threads", defaultValue = "0",
            description = "Our proxy's event loops; 0: the worker's default, one per core (default: ${DEFAULT-VALUE})")
    int proxyThreads;

    @Option(names = "--rows", defaultValue = "all",
            description = "Which rows: all, hits (all but the chain's) or chain (only the cache+wanopt chain's)"
                    + " (default: ${DEFAULT-VALUE})")
    String rows;

    @Option(names = "--chain-objects", defaultValue = "0",
            description = "Chain rows: at most this many web objects; 0: every one found (default: ${DEFAULT-VALUE})")
    int chainObjects;

    /** One wrk run's figures. */
    public record WrkResult(double requestsPerSecond, double p50Millis, double p99Millis, long errors) {
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
        if (rangeObjects < 1 || rangeObjectMib < 1 || rangeObjectMib > 1024 || rangeClients < 1
                || coldObjectMib < 2 || coldObjectMib > 4096 || (long) rangeObjects * rangeObjectMib > 16384) {
            throw new IllegalArgumentException("--range-objects >= 1, --range-object-mib 1..1024 (library at most"
                    + " 16 GiB), --range-clients >= 1, --cold-object-mib 2..4096 expected");
        }
        if (!List.of("all", "hits", "chain").contains(rows) || chainObjects < 0) {
            throw new IllegalArgumentException("--rows: '" + rows + "' (expected: all, hits or chain),"
                    + " --chain-objects >= 0 expected");
        }
        if (!rows.equals("chain")) {
            requireTool("wrk", "--version");
        }
        requireTool("varnishd", "-V");
        PrintWriter out = spec.commandLine().getOut();
        BenchReport report = new BenchReport("cache");
        Path dir = Files.createTempDirectory("slipstream-bench-cache");
        try {
            if (!rows.equals("chain")) {
                hitRows(report, out, dir);
            }
            if (!rows.equals("hits")) {
                CacheChainBench.run(report, out, dir, chainObjects);
                out.println("cache+wanopt chain rows: ours = WAN bytes on the tunnel between the sites' wanopt"
                        + " workers; theirs = WAN bytes between Varnish and the origin; lower is better");
            }
        } finally {
            deleteTree(dir);
        }
        report.print(out);
        out.flush();
        json.write(report, out);
        return 0;
    }

    /** The hit, range and cold rows (ours and Varnish in front of the same origin), printed with their notes. */
    private void hitRows(BenchReport report, PrintWriter out, Path dir) throws Exception {
        BenchReport hits = new BenchReport("cache");
        hitRows(hits, dir);
        hits.rows().forEach(r -> report.add(r.metric, r.ours, r.peer, r.theirs, r.better));
        out.printf(Locale.ROOT, "cache hits on loopback: wrk -t%d -c%d -d%ds --latency, best of %d interleaved runs"
                + " after %d s warm-up each; same origin, objects max-age=3600; %d cores shared by wrk, the proxy"
                + " (%s) and Varnish (its default thread pools)%n", wrkThreads, connections, durationSeconds,
                repetitions, warmupSeconds, Runtime.getRuntime().availableProcessors(),
                proxyThreads > 0 ? proxyThreads + " event loops" : "default event loops, one per core");
        double ratio1k = hits.rows().get(0).ratio();
        double ratio64k = hits.rows().get(3).ratio();
        out.printf(Locale.ROOT, "hit throughput vs Varnish: %.2fx (1 KiB), %.2fx (64 KiB) (goal: >= 1.0x)%n",
                ratio1k, ratio64k);
        out.printf(Locale.ROOT, "range workload: %d clients (wrk -t%d -c%d), %d objects of %d MiB, 1 MiB ranges,"
                + " all cached: %.2fx Varnish's Gbit/s (goal: >= 1.0x); cold row: first body byte of a 1 MiB range"
                + " in the middle of an uncached %d MiB object, median of %d%n", rangeClients, wrkThreads,
                rangeClients, rangeObjects, rangeObjectMib, hits.rows().get(6).ratio(), coldObjectMib,
                repetitions);
    }

    private void hitRows(BenchReport report, Path dir) throws Exception {
        try (BenchOrigin origin = new BenchOrigin();
             CacheServer ours = startOurs(origin);
             Varnish varnish = Varnish.start(dir, origin.port(), varnishMib())) {
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
            rangeRows(report, origin, ours, varnish, dir);
            coldRow(report, origin, ours, varnish);
        }
    }

    /** Varnish's malloc storage: the library, a cold object and the small objects, with room to spare. */
    private long varnishMib() {
        return Math.max(256, (long) rangeObjects * rangeObjectMib * 5 / 4 + coldObjectMib + 64);
    }

    private CacheServer startOurs(BenchOrigin origin) throws InterruptedException {
        long object = (long) rangeObjectMib << 20;
        CacheProxySettings.Builder b = CacheProxySettings.builder().workerId("bench")
                .origin(URI.create("http://127.0.0.1:" + origin.port()))
                .storeBytes(Math.max(CacheProxySettings.DEFAULT_MAX_BYTES, rangeObjects * object * 5 / 4 + (64 << 20)),
                        Math.max(CacheProxySettings.DEFAULT_MAX_OBJECT_BYTES, object + 4096));
        if (proxyThreads > 0) {
            b.threads(proxyThreads);
        } // else the product's default (one event loop per core), as Varnish runs with its own defaults
        return new CacheServer(b.build()).start();
    }

    static final long RANGE = 1 << 20;

    /** The range workload's rows: both caches warmed with the whole library, then wrk with a range script. */
    private void rangeRows(BenchReport report, BenchOrigin origin, CacheServer ours, Varnish varnish, Path dir)
            throws Exception {
        long object = (long) rangeObjectMib << 20;
        String oursBase = "http://127.0.0.1:" + ours.address().getPort();
        String theirsBase = "http://127.0.0.1:" + varnish.port;
        for (int i = 0; i < rangeObjects; i++) {
            String path = BenchOrigin.bigPath(object, "lib" + i);
            warmWhole(oursBase + path, object);
            warmWhole(theirsBase + path, object);
        }
        Path script = dir.resolve("ranges.lua");
        Files.writeString(script, rangeScript(object));
        RangeResult o = null;
        RangeResult t = null;
        for (int r = 0; r < repetitions; r++) {
            RangeResult a = measuredRanges(origin, oursBase, script, "ours");
            RangeResult b = measuredRanges(origin, theirsBase, script, varnish.version);
            o = o == null || a.wrk().requestsPerSecond() > o.wrk().requestsPerSecond() ? a : o;
            t = t == null || b.wrk().requestsPerSecond() > t.wrk().requestsPerSecond() ? b : t;
        }
        report.add("range 1 MiB: Gbit/s", gbits(o.wrk()), varnish.version, gbits(t.wrk()), BenchReport.Better.HIGHER);
        report.add("range 1 MiB: p99 ms", o.wrk().p99Millis(), varnish.version, t.wrk().p99Millis(),
                BenchReport.Better.LOWER);
    }

    private static double gbits(WrkResult r) {
        return r.requestsPerSecond() * RANGE * 8 / 1e9;
    }

    /**
     * The wrk script: request n belongs to client n mod C, which reads its objects in order, range after
     * range (client c starts at object c mod N, so clients spread over the library).
     */
    private String rangeScript(long object) {
        long ranges = object / RANGE;
        return "local clients, objects, ranges, size = " + rangeClients + ", " + rangeObjects + ", " + ranges + ", "
                + RANGE + "\n"
                + "local n = 0\n"
                + "request = function()\n"
                + "  local c = n % clients\n"
                + "  local s = math.floor(n / clients)\n"
                + "  n = n + 1\n"
                + "  local obj = (c + math.floor(s / ranges)) % objects\n"
                + "  local first = (s % ranges) * size\n"
                + "  return wrk.format(\"GET\", \"" + BenchOrigin.bigPath(object, "lib") + "\" .. obj, "
                + "{[\"Range\"] = \"bytes=\" .. first .. \"-\" .. (first + size - 1)})\n"
                + "end\n";
    }

    /** A range run's wrk figures and bytes read per request (to prove the answers were 1 MiB ranges). */
    record RangeResult(WrkResult wrk, double bytesPerRequest) {
    }

    private static final Pattern READ = Pattern.compile("(\\d+) requests in [0-9.]+\\w+, ([0-9.]+)(B|KB|MB|GB|TB) read");

    private RangeResult measuredRanges(BenchOrigin origin, String base, Path script, String who) throws Exception {
        long before = origin.requests.get();
        Process p = new ProcessBuilder("wrk", "-t" + wrkThreads, "-c" + rangeClients, "-d" + durationSeconds + "s",
                "--latency", "-s", script.toString(), base + "/").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(durationSeconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("wrk failed for " + who + ":\n" + output);
        }
        WrkResult r = parseWrk(output);
        long fetched = origin.requests.get() - before;
        Matcher m = READ.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("wrk output without the bytes read:\n" + output);
        }
        double unit = switch (m.group(3)) {
            case "B" -> 1;
            case "KB" -> 1024;
            case "MB" -> 1024.0 * 1024;
            case "GB" -> 1024.0 * 1024 * 1024;
            default -> 1024.0 * 1024 * 1024 * 1024;
        };
        double perRequest = Double.parseDouble(m.group(2)) * unit / Math.max(1, Long.parseLong(m.group(1)));
        if (fetched != 0 || r.errors() > 0 || perRequest < RANGE * 0.99 || perRequest > RANGE * 1.01) {
            throw new IllegalStateException(who + " range run: " + fetched + " origin requests, " + r.errors()
                    + " errors, " + (long) perRequest + " bytes per answer (expected: 0, 0, a 1 MiB range each)\n"
                    + output);
        }
        return new RangeResult(r, perRequest);
    }

    /** The cold row: first body byte of a middle range of fresh uncached objects, median of the repetitions. */
    private void coldRow(BenchReport report, BenchOrigin origin, CacheServer ours, Varnish varnish) throws Exception {
        long object = (long) coldObjectMib << 20;
        long first = object / 2;
        List<Double> o = new ArrayList<>();
        List<Double> t = new ArrayList<>();
        for (int r = 0; r < repetitions; r++) {
            o.add(firstByteMillis(ours.address().getPort(), BenchOrigin.bigPath(object, "cold-ours-" + r), first));
            t.add(firstByteMillis(varnish.port, BenchOrigin.bigPath(object, "cold-varnish-" + r), first));
        }
        report.add("cold range of " + coldObjectMib + " MiB: first byte ms", median(o), varnish.version, median(t),
                BenchReport.Better.LOWER);
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    /** Milliseconds from sending a GET with Range to the first body byte of its 206, read to the end. */
    static double firstByteMillis(int port, String path, long first) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            s.setSoTimeout(60_000);
            java.io.InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 16);
            long start = System.nanoTime();
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: bench\r\nRange: bytes=" + first + "-"
                    + (first + RANGE - 1) + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("connection closed in the response head: " + head);
                }
                head.append((char) b);
            }
            int b = in.read();
            long firstByte = System.nanoTime();
            if (b < 0 || !head.toString().startsWith("HTTP/1.1 206")) {
                throw new IOException("expected a 206 with content for " + path + ", got: " + head);
            }
            long n = 1 + in.transferTo(java.io.OutputStream.nullOutputStream());
            if (n != RANGE) {
                throw new IOException(path + ": " + n + " bytes of content (expected: " + RANGE + ")");
            }
            return (firstByte - start) / 1e6;
        }
    }

    /** Fetches {@code url} whole until it answers with {@code size} bytes twice (so it is stored). */
    private static void warmWhole(String url, long size) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build();
        for (int i = 0; i < 2; i++) {
            HttpResponse<java.io.InputStream> r = client.send(get, HttpResponse.BodyHandlers.ofInputStream());
            long n;
            try (java.io.InputStream in = r.body()) {
                n = in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            if (r.statusCode() != 200 || n != size) {
                throw new IllegalStateException(url + ": " + r.statusCode() + " with " + n + " bytes (expected: 200 with "
                        + size + ")");
            }
        }
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
    public static WrkResult parseWrk(String output) {
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
            server.createContext("/big/", this::big);
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

        /** {@code /big/SIZE/NAME}: SIZE bytes of a pattern, streamed; cacheable for an hour. */
        static String bigPath(long size, String name) {
            return "/big/" + size + "/" + name;
        }

        private void big(com.sun.net.httpserver.HttpExchange ex) throws IOException {
            requests.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            String[] parts = ex.getRequestURI().getPath().split("/");
            long size;
            try {
                size = parts.length == 4 ? Long.parseLong(parts[2]) : -1;
            } catch (NumberFormatException e) {
                size = -1;
            }
            if (size < 1 || size > (4L << 30)) {
                ex.sendResponseHeaders(404, -1);
                ex.close();
                return;
            }
            ex.getResponseHeaders().add("Cache-Control", "max-age=3600");
            ex.getResponseHeaders().add("Content-Type", "video/mp4");
            ex.getResponseHeaders().add("ETag", "\"" + parts[3] + "-" + size + "\"");
            ex.sendResponseHeaders(200, size);
            try (OutputStream o = ex.getResponseBody()) {
                for (long sent = 0; sent < size; sent += BLOCK.length) {
                    o.write(BLOCK, 0, (int) Math.min(BLOCK.length, size - sent));
                }
            } catch (IOException e) {
                // a cache that wanted only a range closed the connection
            }
        }

        private static final byte[] BLOCK = new byte[64 * 1024];

        static {
            for (int i = 0; i < BLOCK.length; i++) {
                BLOCK[i] = (byte) ('a' + i % 26);
            }
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

        static Varnish start(Path dir, int originPort, long mallocMib) throws Exception {
            return start(dir, originPort, mallocMib, List.of());
        }

        /** @param extra more varnishd arguments ({@code -p name=value}) */
        static Varnish start(Path dir, int originPort, long mallocMib, List<String> extra) throws Exception {
            Files.createDirectories(dir);
            int port = Ports.free();
            Process v = new ProcessBuilder("varnishd", "-V").redirectErrorStream(true).start();
            String banner = new String(v.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            v.waitFor(10, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("varnish-([0-9.]+)").matcher(banner);
            String version = "varnish " + (m.find() ? m.group(1) : "?");
            List<String> command = new ArrayList<>(List.of("varnishd", "-n", dir.resolve("varnish").toString(),
                    "-a", "127.0.0.1:" + port, "-b", "127.0.0.1:" + originPort, "-s", "malloc," + mallocMib + "m", "-F"));
            command.addAll(extra);
            PeerProcess p = PeerProcess.start("varnishd", command, dir.resolve("varnishd.log"), port);
            return new Varnish(p, port, version);
        }

        @Override
        public void close() throws InterruptedException {
            process.close();
        }
    }
}
