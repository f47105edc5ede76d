package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier on real sockets: objects evicted from a small memory tier and objects larger than it are
 * served from files (whole, HEAD and ranges), survive a restart with their index rebuilt and checked, corrupt
 * or truncated files are dropped, a smaller limit at restart evicts down to it, an unusable directory or a
 * failing disk leaves the memory tier serving, and many clients streaming a large object from disk hold no
 * memory for it.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheDiskIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int SMALL = 20_000;
    private static final int OBJECTS = 10;
    private static final int BIG = 1 << 20;

    @TempDir
    Path tmp;
    private Path dir;
    private TestOrigin origin;
    private CacheServer proxy;
    private HttpClient client;

    private static byte[] object(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + seed + i / 26) % 26);
        }
        return b;
    }

    @BeforeEach
    void start() throws Exception {
        dir = tmp.resolve("disk");
        origin = new TestOrigin();
        for (int i = 0; i < OBJECTS; i++) {
            byte[] body = object(SMALL, i);
            origin.route("/o" + i, ex -> new TestOrigin.Reply(200,
                    java.util.Map.of("Cache-Control", "max-age=3600", "ETag", "\"o\""), body));
        }
        byte[] big = object(BIG, 99);
        origin.route("/big", ex -> new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "max-age=3600"), big));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    /** A memory tier of 64 KiB (objects up to 32 KiB) and a disk tier in {@link #dir}. */
    private CacheProxySettings.Builder settings(long diskBytes) {
        return CacheProxySettings.builder().origin(URI.create(origin.url())).threads(2).preopen(0)
                .storeBytes(64 << 10, 32 << 10).diskTier(dir, diskBytes);
    }

    private DiskTier startProxy(CacheProxySettings.Builder b) throws Exception {
        proxy = new CacheServer(b.build()).start();
        DiskTier disk = proxy.context().store.disk();
        disk.loaded().get(20, TimeUnit.SECONDS);
        return disk;
    }

    private void restart(CacheProxySettings.Builder b) throws Exception {
        proxy.close();
        proxy = null;
        startProxy(b);
    }

    /**
     * A GET of the origin's {@code path} through the proxy as a forward proxy (absolute-form): the cache key is
     * the origin's URL, the same after a restart (the proxy's port, which would be in a reverse-proxied key's
     * Host, changes).
     */
    private HttpResponse<byte[]> forwardGet(String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(origin.url() + path)).timeout(WAIT);
        if (headers.length > 0) {
            r.headers(headers);
        }
        if (viaProxy == null || viaPort != proxy.address().getPort()) {
            viaPort = proxy.address().getPort();
            viaProxy = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT)
                    .proxy(java.net.ProxySelector.of(proxy.address())).build();
        }
        return viaProxy.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpClient viaProxy;
    private int viaPort;

    private HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.address().getPort()
                + path)).timeout(WAIT);
        if (headers.length > 0) {
            r.headers(headers);
        }
        return client.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private void fetchAll() throws Exception {
        for (int i = 0; i < OBJECTS; i++) {
            HttpResponse<byte[]> r = forwardGet("/o" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(object(SMALL, i));
        }
    }

    private List<Path> objectFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".obj")).sorted().toList();
        }
    }

    @Test
    void evictedObjects_servedFromDisk_andAfterRestart_withoutOriginRequests() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20));
        fetchAll();
        await().atMost(WAIT).until(() -> disk.writes.sum() >= OBJECTS - 3);
        fetchAll();
        assertThat(origin.total()).isEqualTo(OBJECTS);

        restart(settings(100L << 20));
        DiskTier after = proxy.context().store.disk();
        assertThat(after.recovered.sum()).isEqualTo(after.entries()).isGreaterThanOrEqualTo(OBJECTS - 3);
        assertThat(after.corrupt.sum()).isZero();
        int before = origin.total();
        int checked = 0;
        for (int i = 0; i < OBJECTS; i++) {
            if (after.index().variants(io.slipstream.worker.cache.policy.CacheKey.of(
                    URI.create(origin.url() + "/o" + i))).isEmpty()) {
                continue;
            }
            checked++;
            HttpResponse<byte[]> r = forwardGet("/o" + i, "Range", "bytes=100-199");
            assertThat(r.statusCode()).isEqualTo(206);
            assertThat(r.headers().firstValue("Content-Range")).hasValue("bytes 100-199/" + SMALL);
            assertThat(r.body()).isEqualTo(Arrays.copyOfRange(object(SMALL, i), 100, 200));
            HttpResponse<byte[]> whole = forwardGet("/o" + i);
            assertThat(whole.body()).isEqualTo(object(SMALL, i));
        }
        assertThat(checked).as("objects recovered under the keys asked for").isGreaterThanOrEqualTo(OBJECTS - 3);
        assertThat(origin.total()).isEqualTo(before);
    }

    /**
     * A GET on its own connection with {@code Host: movies.example} (so the cache key does not depend on the
     * proxy's port, which a restart changes) and {@code Range}; the status line and fields, and the body.
     */
    private String[] hostGet(String path, String range) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout((int) WAIT.toMillis());
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: movies.example\r\nConnection: close\r\n"
                    + "Range: " + range + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            int split = all.indexOf("\r\n\r\n");
            return new String[] {all.substring(0, split + 2), all.substring(split + 4)};
        }
    }

    private static String text(byte[] b, int from, int to) {
        return new String(b, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void partsEvictedFromMemory_servedFromDisk_andAfterRestart_withoutOriginRequests() throws Exception {
        int size = 200_000;
        byte[] movie = object(size, 7);
        origin.route("/movie", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range == null) {
                return new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "max-age=3600", "ETag", "\"m1\""),
                        movie);
            }
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            return new TestOrigin.Reply(206, java.util.Map.of("Cache-Control", "max-age=3600", "ETag", "\"m1\"",
                    "Content-Range", "bytes " + a + "-" + b + "/" + size), Arrays.copyOfRange(movie, a, b + 1));
        });
        DiskTier disk = startProxy(settings(100L << 20));
        io.slipstream.worker.cache.policy.CacheKey key = io.slipstream.worker.cache.policy.CacheKey.of(
                URI.create("http://movies.example/movie"));
        // Too large for the memory tier (32 KiB objects): the first range is cut from a 200, the second passed
        // through as the origin's 206; both are kept as parts in memory.
        assertThat(hostGet("/movie", "bytes=0-9999")[0]).startsWith("HTTP/1.1 206 ");
        assertThat(hostGet("/movie", "bytes=50000-59999")[0]).startsWith("HTTP/1.1 206 ");
        assertThat(proxy.context().store.partial(key).held().ranges()).hasSize(2);
        // The memory budget shrinks (as the controller may set it): the parts are evicted for size to disk.
        proxy.context().store.resize(1, 1);
        proxy.context().store.resize(64 << 10, 32 << 10);
        await().atMost(WAIT).until(() -> disk.index().partial(key) != null);
        int before = origin.total();
        checkMovieRanges(movie);
        assertThat(origin.total()).as("answered from the parts on disk").isEqualTo(before);

        restart(settings(100L << 20));
        DiskTier after = proxy.context().store.disk();
        assertThat(after.recovered.sum()).isEqualTo(1);
        assertThat(after.corrupt.sum()).isZero();
        checkMovieRanges(movie);
        assertThat(origin.total()).as("answered from the parts recovered").isEqualTo(before);
        String[] notHeld = hostGet("/movie", "bytes=100000-100099");
        assertThat(notHeld[1]).isEqualTo(text(movie, 100_000, 100_100));
        assertThat(origin.total()).as("a range not held goes to the origin").isEqualTo(before + 1);
    }

    @Test
    void partsOfAnObjectBeyondTheMemoryLimit_combinedOnDisk_servedBeforeAndAfterRestart() throws Exception {
        int size = 200_000;
        byte[] movie = object(size, 11);
        origin.route("/movie", ex -> {
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range == null) {
                return new TestOrigin.Reply(200, java.util.Map.of("Cache-Control", "max-age=3600", "ETag", "\"m2\""),
                        movie);
            }
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            return new TestOrigin.Reply(206, java.util.Map.of("Cache-Control", "max-age=3600", "ETag", "\"m2\"",
                    "Content-Range", "bytes " + a + "-" + b + "/" + size), Arrays.copyOfRange(movie, a, b + 1));
        });
        DiskTier disk = startProxy(settings(100L << 20));
        io.slipstream.worker.cache.policy.CacheKey key = io.slipstream.worker.cache.policy.CacheKey.of(
                URI.create("http://movies.example/movie"));
        // A player reading 20 000-byte ranges in order: more than the 32 KiB memory holds of one object, so
        // from the second range on the parts go to disk and are combined there.
        for (int i = 0; i < 5; i++) {
            String[] r = hostGet("/movie", "bytes=" + (i * 20_000) + "-" + (i * 20_000 + 19_999));
            assertThat(r[1]).isEqualTo(text(movie, i * 20_000, (i + 1) * 20_000));
        }
        await().atMost(WAIT).until(() -> disk.index().partial(key) != null
                && disk.index().partial(key).bytes() == 100_000);
        int before = origin.total();
        String[] across = hostGet("/movie", "bytes=15000-84999");
        assertThat(across[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 15000-84999/" + size);
        assertThat(across[1]).isEqualTo(text(movie, 15_000, 85_000));
        assertThat(origin.total()).as("answered from the parts on disk").isEqualTo(before);

        restart(settings(100L << 20));
        assertThat(proxy.context().store.disk().corrupt.sum()).isZero();
        assertThat(hostGet("/movie", "bytes=15000-84999")[1]).isEqualTo(text(movie, 15_000, 85_000));
        assertThat(hostGet("/movie", "bytes=99990-99999")[1]).isEqualTo(text(movie, 99_990, 100_000));
        assertThat(origin.total()).as("answered from the parts recovered").isEqualTo(before);
    }

    @Test
    void partLargerThanMemory_writtenToDiskAsItStreams_brokenOrLyingOnesNotKept() throws Exception {
        int size = 400_000;
        byte[] movie = object(size, 13);
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress())) {
            // 200 without Range; 206 for bytes=a-b, broken off halfway for a = 300000, with a Content-Range
            // that claims another length than it sends for a = 100000.
            Thread t = new Thread(() -> {
                while (!raw.isClosed()) {
                    try (java.net.Socket s = raw.accept()) {
                        InputStream in = s.getInputStream();
                        StringBuilder head = new StringBuilder();
                        for (int b; !head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0; ) {
                            head.append((char) b);
                        }
                        requests.incrementAndGet();
                        var out = s.getOutputStream();
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Range: bytes=(\\d+)-(\\d+)")
                                .matcher(head);
                        if (!m.find()) {
                            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\nCache-Control: max-age=3600"
                                    + "\r\nETag: \"m3\"\r\nConnection: close\r\n\r\n").getBytes());
                            out.write(movie);
                            continue;
                        }
                        int a = Integer.parseInt(m.group(1));
                        int b = Integer.parseInt(m.group(2));
                        int claimedLast = a == 100_000 ? b + 10 : b;
                        out.write(("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + a + "-" + claimedLast + "/"
                                + size + "\r\nContent-Length: " + (b - a + 1) + "\r\nCache-Control: max-age=3600"
                                + "\r\nETag: \"m3\"\r\nConnection: close\r\n\r\n").getBytes());
                        out.write(movie, a, a == 300_000 ? (b - a + 1) / 2 : b - a + 1);
                        out.flush();
                    } catch (IOException e) {
                        // closed at the end of the test
                    }
                }
            }, "raw-origin");
            t.setDaemon(true);
            t.start();
            DiskTier disk = startProxy(CacheProxySettings.builder().origin(URI.create("http://127.0.0.1:"
                    + raw.getLocalPort())).threads(1).preopen(0).storeBytes(64 << 10, 32 << 10)
                    .diskTier(dir, 100L << 20));
            io.slipstream.worker.cache.policy.CacheKey key = io.slipstream.worker.cache.policy.CacheKey.of(
                    URI.create("http://movies.example/movie"));
            // 60 000 bytes, more than memory holds of one object: cut from the 200 and written to disk.
            assertThat(hostGet("/movie", "bytes=0-59999")[1]).isEqualTo(text(movie, 0, 60_000));
            await().atMost(WAIT).until(() -> disk.index().partial(key) != null);
            // Passed through as the origin's 206, written to disk too and combined.
            assertThat(hostGet("/movie", "bytes=200000-259999")[1]).isEqualTo(text(movie, 200_000, 260_000));
            await().atMost(WAIT).until(() -> disk.index().partial(key).held().ranges().size() == 2);
            int before = requests.get();
            assertThat(hostGet("/movie", "bytes=10000-49999")[1]).isEqualTo(text(movie, 10_000, 50_000));
            assertThat(hostGet("/movie", "bytes=259000-259999")[1]).isEqualTo(text(movie, 259_000, 260_000));
            assertThat(requests.get()).as("answered from the parts on disk").isEqualTo(before);

            // A 206 whose body breaks off, and one whose Content-Range disagrees with its length: relayed as
            // they come, nothing of them kept, no file left behind.
            String[] broken = hostGet("/movie", "bytes=300000-359999");
            assertThat(broken[1].length()).isLessThan(60_000);
            String[] lying = hostGet("/movie", "bytes=100000-159999");
            assertThat(lying[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 100000-160009/");
            await().atMost(WAIT).untilAsserted(() -> {
                try (Stream<Path> s = Files.list(dir)) {
                    assertThat(s.filter(f -> f.toString().endsWith(".part")).toList()).isEmpty();
                }
            });
            assertThat(disk.index().partial(key).held().ranges()).containsExactly(
                    new io.slipstream.worker.cache.policy.ByteRanges.Range(0, 59_999),
                    new io.slipstream.worker.cache.policy.ByteRanges.Range(200_000, 259_999));
            assertThat(disk.writes.sum()).isEqualTo(2);
        }
    }

    private void checkMovieRanges(byte[] movie) throws Exception {
        String[] r = hostGet("/movie", "bytes=100-199");
        assertThat(r[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 100-199/" + movie.length + "\r\n")
                .containsIgnoringCase("ETag: \"m1\"\r\n");
        assertThat(r[1]).isEqualTo(text(movie, 100, 200));
        assertThat(hostGet("/movie", "bytes=55000-59999")[1]).isEqualTo(text(movie, 55_000, 60_000));
        String[] both = hostGet("/movie", "bytes=0-9,50000-50009");
        assertThat(both[0]).startsWith("HTTP/1.1 206 ").contains("Content-Type: multipart/byteranges");
        assertThat(both[1]).contains(text(movie, 0, 10)).contains(text(movie, 50_000, 50_010));
    }

    @Test
    void objectLargerThanMemory_spooledToDisk_servedWholeAndInRanges() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20));
        HttpResponse<byte[]> first = get("/big");
        assertThat(first.body()).isEqualTo(object(BIG, 99));
        await().atMost(WAIT).until(() -> disk.writes.sum() == 1);
        HttpResponse<byte[]> second = get("/big");
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.body()).isEqualTo(object(BIG, 99));
        HttpResponse<byte[]> range = get("/big", "Range", "bytes=700000-700099");
        assertThat(range.statusCode()).isEqualTo(206);
        assertThat(range.body()).isEqualTo(Arrays.copyOfRange(object(BIG, 99), 700_000, 700_100));
        HttpResponse<byte[]> tail = get("/big", "Range", "bytes=-10");
        assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(object(BIG, 99), BIG - 10, BIG));
        assertThat(origin.count("/big")).isEqualTo(1);
        assertThat(proxy.context().store.weightedSize()).isLessThan(64 << 10);
    }

    @Test
    void corruptAndTruncatedFiles_atRestart_droppedCountedAndRefetched() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20));
        get("/big");
        fetchAll();
        await().atMost(WAIT).until(() -> disk.writes.sum() >= 3);
        proxy.close();
        proxy = null;
        List<Path> files = objectFiles();
        assertThat(files.size()).isGreaterThanOrEqualTo(3);
        try (RandomAccessFile f = new RandomAccessFile(files.get(0).toFile(), "rw")) {
            f.setLength(f.length() - 1); // truncated
        }
        try (RandomAccessFile f = new RandomAccessFile(files.get(1).toFile(), "rw")) {
            f.seek(f.length() - 5);
            int b = f.read();
            f.seek(f.length() - 5);
            f.write(b ^ 0x01); // one body bit flipped
        }
        Files.write(files.get(2), "not an object".getBytes());

        DiskTier after = startProxy(settings(100L << 20));
        assertThat(after.corrupt.sum()).isEqualTo(3);
        assertThat(after.recovered.sum()).isEqualTo(files.size() - 3);
        assertThat(objectFiles()).hasSize(files.size() - 3);
        int before = origin.total();
        fetchAll();
        assertThat(get("/big").body()).isEqualTo(object(BIG, 99));
        assertThat(origin.total() - before).isGreaterThanOrEqualTo(3);
    }

    @Test
    void restartWithSmallerLimit_evictsDownToIt_deletingFiles() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20));
        get("/big");
        fetchAll();
        await().atMost(WAIT).until(() -> disk.writes.sum() >= OBJECTS - 2);
        restart(settings(3 * (SMALL + 1024)));
        DiskTier after = proxy.context().store.disk();
        assertThat(after.bytes()).isLessThanOrEqualTo(3L * (SMALL + 1024));
        assertThat(after.corrupt.sum()).isZero();
        assertThat(after.tooLarge.sum()).isEqualTo(1); // /big no longer fits
        assertThat(objectFiles()).hasSize((int) after.entries());
        fetchAll();
    }

    @Test
    void directoryIsARegularFile_memoryServes_failuresCounted() throws Exception {
        Files.createDirectories(tmp);
        dir = tmp.resolve("taken");
        Files.writeString(dir, "a file where the directory should be");
        DiskTier disk = startProxy(settings(100L << 20));
        assertThat(disk.usable()).isFalse();
        fetchAll();
        get("/big");
        assertThat(disk.writeFailures.sum()).isPositive();
        HttpResponse<byte[]> again = get("/o" + (OBJECTS - 1));
        assertThat(again.body()).isEqualTo(object(SMALL, OBJECTS - 1));
        assertThat(Files.readString(dir)).isEqualTo("a file where the directory should be");
    }

    @Test
    void diskFull_writesFailCounted_memoryServes_noPartialFilesLeft() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20).diskOpener(FullDisk::new));
        fetchAll();
        get("/big");
        await().atMost(WAIT).until(() -> disk.writeFailures.sum() >= 2);
        assertThat(disk.writes.sum()).isZero();
        assertThat(get("/o" + (OBJECTS - 1)).body()).isEqualTo(object(SMALL, OBJECTS - 1));
        assertThat(get("/big").body()).isEqualTo(object(BIG, 99));
        await().atMost(WAIT).untilAsserted(() -> {
            try (Stream<Path> s = Files.list(dir)) {
                assertThat(s.toList()).isEmpty();
            }
        });
    }

    @Test
    void originBreaksMidBody_spoolAbandoned_nothingStoredNoPartialFile() throws Exception {
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket broken = new java.net.ServerSocket(0, 16, java.net.InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!broken.isClosed()) {
                    try (java.net.Socket s = broken.accept()) {
                        InputStream in = s.getInputStream();
                        int matched = 0;
                        for (int b; matched < 4 && (b = in.read()) >= 0; ) {
                            matched = (b == '\r' && matched % 2 == 0) || (b == '\n' && matched % 2 == 1) ? matched + 1 : 0;
                        }
                        requests.incrementAndGet();
                        var out = s.getOutputStream();
                        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + BIG
                                + "\r\nCache-Control: max-age=3600\r\n\r\n").getBytes());
                        out.write(object(300_000, 1)); // then the connection drops
                        out.flush();
                    } catch (IOException e) {
                        // closed at the end of the test
                    }
                }
            }, "broken-origin");
            t.setDaemon(true);
            t.start();
            DiskTier disk = startProxy(CacheProxySettings.builder().origin(URI.create("http://127.0.0.1:"
                    + broken.getLocalPort())).threads(1).preopen(0).storeBytes(64 << 10, 32 << 10)
                    .diskTier(dir, 100L << 20));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> get("/big")).isInstanceOf(IOException.class);
            await().atMost(WAIT).untilAsserted(() -> {
                try (Stream<Path> s = Files.list(dir)) {
                    assertThat(s.toList()).isEmpty();
                }
            });
            assertThat(disk.writes.sum()).isZero();
            assertThat(disk.entries()).isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> get("/big")).isInstanceOf(IOException.class);
            assertThat(requests.get()).isEqualTo(2);
        }
    }

    @Test
    void manyClientsStreamingALargeObjectFromDisk_directMemoryStaysBounded() throws Exception {
        DiskTier disk = startProxy(settings(100L << 20));
        get("/big");
        await().atMost(WAIT).until(() -> disk.writes.sum() == 1);
        int clients = 100;
        long baseline = usedDirect();
        AtomicLong peak = new AtomicLong();
        List<CompletableFuture<HttpResponse<InputStream>>> streams = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            streams.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + proxy.address().getPort() + "/big")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofInputStream()));
        }
        byte[] want = object(BIG, 99);
        List<InputStream> bodies = new ArrayList<>();
        for (CompletableFuture<HttpResponse<InputStream>> f : streams) {
            bodies.add(f.get(20, TimeUnit.SECONDS).body());
        }
        // Every client is connected and the proxy has written what the sockets take; read them in turn.
        peak.accumulateAndGet(usedDirect() - baseline, Math::max);
        for (InputStream in : bodies) {
            try (in) {
                assertThat(in.readAllBytes()).isEqualTo(want);
            }
            peak.accumulateAndGet(usedDirect() - baseline, Math::max);
        }
        // 100 copies would be 100 MiB; slices of the mapping hold none.
        assertThat(peak.get()).isLessThan(16L << 20);
        assertThat(origin.count("/big")).isEqualTo(1);
    }

    private static long usedDirect() {
        return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() + PlatformDependent.usedDirectMemory();
    }

    /** A file channel on a full disk: every write fails as ENOSPC would. */
    private static final class FullDisk extends FileChannel {
        FullDisk(Path p) throws IOException {
            Files.createFile(p);
        }

        private static IOException full() {
            return new IOException("No space left on device");
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            throw full();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            throw full();
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            throw full();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            throw full();
        }

        @Override
        public long position() {
            return 0;
        }

        @Override
        public FileChannel position(long newPosition) {
            return this;
        }

        @Override
        public long size() {
            return 0;
        }

        @Override
        public FileChannel truncate(long size) {
            return this;
        }

        @Override
        public void force(boolean metaData) {
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            throw full();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw full();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            throw full();
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            throw full();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw full();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            throw full();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            throw full();
        }

        @Override
        protected void implCloseChannel() {
        }
    }
}
