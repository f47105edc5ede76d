package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.CacheKey;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Partial responses stored and combined (RFC 9111 §3.3, §3.4) on real sockets: an origin serving a 1 MiB
 * object with a strong ETag and honouring Range, a proxy whose range pass-through size (64 KiB) is below
 * the object, so ranges are never fetched whole. The first range is cut from a 200, the others pass
 * through as the origin's 206s; each is kept, ranges the parts cover are hits, and once the parts cover the
 * object it is a complete stored response.
 */
@ExtendWith(NettyLeakCheck.class)
class CachePartialIT {

    private static final int SIZE = 1 << 20;
    private static final int PART = SIZE / 4;

    private TestOrigin origin;
    private CacheServer proxy;
    private final AtomicReference<String> etag = new AtomicReference<>("\"v1\"");
    /** A total the origin claims in Content-Range instead of the true one (0: the truth). */
    private volatile long lyingTotal;
    /** The origin's 206s say {@code Vary: Accept-Encoding}. */
    private volatile boolean vary;
    /** The ranges the origin was asked for, in order ({@code null} for a request without Range). */
    private final List<String> asked = new CopyOnWriteArrayList<>();

    private static byte[] object(String version) {
        byte[] b = new byte[SIZE];
        int salt = version.hashCode();
        for (int i = 0; i < SIZE; i++) {
            b[i] = (byte) ((i * 31 + i / 251 + salt) % 251);
        }
        return b;
    }

    /** The multipart/byteranges body (boundary {@code B}) of {@code range} ({@code bytes=a-b,c-d,...}). */
    private static byte[] multipart(byte[] body, String range) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (String spec : range.substring("bytes=".length()).split(",")) {
            String[] ab = spec.strip().split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            out.writeBytes(("--B\r\nContent-Type: video/mp4\r\nContent-Range: bytes " + a + "-" + b + "/" + SIZE
                    + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, a, b - a + 1);
            out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        out.writeBytes("--B--\r\n".getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        origin.route("/video", ex -> {
            String tag = etag.get();
            byte[] body = object(tag);
            String range = ex.getRequestHeaders().getFirst("Range");
            asked.add(range);
            if (range == null) {
                return new TestOrigin.Reply(200, Map.of("ETag", tag, "Cache-Control", "max-age=600",
                        "Content-Type", "video/mp4"), body);
            }
            if (range.contains(",")) {
                return new TestOrigin.Reply(206, Map.of("ETag", tag, "Cache-Control", "max-age=600",
                        "Content-Type", "multipart/byteranges; boundary=B"), multipart(body, range));
            }
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            byte[] part = java.util.Arrays.copyOfRange(body, a, b + 1);
            long total = lyingTotal > 0 ? lyingTotal : SIZE;
            Map<String, String> fields = new java.util.HashMap<>(Map.of("ETag", tag, "Cache-Control", "max-age=600",
                    "Content-Type", "video/mp4", "Content-Range", "bytes " + a + "-" + b + "/" + total));
            if (vary) {
                fields.put("Vary", "Accept-Encoding");
            }
            return new TestOrigin.Reply(206, fields, part);
        });
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).threads(1).preopen(0)
                .storeBytes(8 << 20, 2 << 20).rangePassthroughBytes(64 * 1024).build()).start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    /** One request on its own connection: head and body of the answer. */
    private String[] request(String method, String range) throws IOException {
        return request(method, range, "");
    }

    /** As above, with {@code fields} (complete lines, each ending in CRLF) added to the request. */
    private String[] request(String method, String range, String fields) throws IOException {
        try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((method + " /video HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + (range != null ? "Range: " + range + "\r\n" : "") + fields + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int split = all.indexOf("\r\n\r\n");
            return new String[] {all.substring(0, split + 2), all.substring(split + 4)};
        }
    }

    private static String bytes(String version, int from, int toExclusive) {
        return new String(object(version), from, toExclusive - from, StandardCharsets.ISO_8859_1);
    }

    private static String part(int i) {
        return "bytes=" + (i * PART) + "-" + ((i + 1) * PART - 1);
    }

    private String[] getPart(int i, String version) throws IOException {
        String[] r = request("GET", part(i));
        assertThat(r[0]).startsWith("HTTP/1.1 206 ") // a relayed head keeps the origin's field-name case
                .containsIgnoringCase("Content-Range: bytes " + (i * PART) + "-" + ((i + 1) * PART - 1) + "/" + SIZE + "\r\n");
        assertThat(r[1]).isEqualTo(bytes(version, i * PART, (i + 1) * PART));
        return r;
    }

    private PartialObject held() {
        return proxy.context().store.partial(CacheKey.of(URI.create("http://x/video")));
    }

    @Test
    void rangesAbovePassthrough_partsCombinedServedAndPromoted_originAskedEachByteOnce() throws Exception {
        CacheContext c = proxy.context();
        getPart(0, "\"v1\"");
        assertThat(asked).as("the first range is cut from a whole-object fetch").containsExactly((String) null);
        getPart(2, "\"v1\"");
        assertThat(c.partsStored.sum()).isEqualTo(2);
        assertThat(held().held().ranges()).containsExactly(new Range(0, PART - 1), new Range(2 * PART, 3 * PART - 1));

        // Covered ranges are hits: inside one part, and several ranges as multipart/byteranges.
        int originRequests = origin.total();
        String[] inside = request("GET", "bytes=100-199");
        assertThat(inside[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 100-199/" + SIZE + "\r\n")
                .containsIgnoringCase("ETag: \"v1\"\r\n");
        assertThat(inside[1]).isEqualTo(bytes("\"v1\"", 100, 200));
        String[] multi = request("GET", "bytes=0-9," + (2 * PART) + "-" + (2 * PART + 9));
        assertThat(multi[0]).startsWith("HTTP/1.1 206 ").contains("Content-Type: multipart/byteranges; boundary=");
        assertThat(multi[1]).contains("Content-Range: bytes 0-9/" + SIZE + "\r\n\r\n" + bytes("\"v1\"", 0, 10))
                .contains(bytes("\"v1\"", 2 * PART, 2 * PART + 10));
        String[] unsatisfiable = request("GET", "bytes=" + SIZE + "-");
        assertThat(unsatisfiable[0]).startsWith("HTTP/1.1 416 ").contains("Content-Range: bytes */" + SIZE);
        assertThat(origin.total()).as("answered from the parts").isEqualTo(originRequests);
        assertThat(c.partialHits.sum()).isEqualTo(2);

        // A range across the gap is not covered: it goes to the origin (and fills the gap).
        getPart(1, "\"v1\"");
        assertThat(held().held().ranges()).containsExactly(new Range(0, 3 * PART - 1));
        String[] across = request("GET", "bytes=" + (PART - 10) + "-" + (2 * PART + 9));
        assertThat(across[1]).isEqualTo(bytes("\"v1\"", PART - 10, 2 * PART + 10));
        assertThat(c.partialHits.sum()).isEqualTo(3);

        getPart(3, "\"v1\"");
        assertThat(c.partialPromotions.sum()).isEqualTo(1);
        assertThat(held()).as("promoted: no partial object left").isNull();

        // The origin was asked for each byte once: the first range (cut from the 200) and three Range requests.
        List<Range> fetched = new ArrayList<>(List.of(new Range(0, PART - 1)));
        for (String a : asked.subList(1, asked.size())) {
            String[] ab = a.substring("bytes=".length()).split("-");
            fetched.add(new Range(Long.parseLong(ab[0]), Long.parseLong(ab[1])));
        }
        fetched.sort(Comparator.comparingLong(Range::first));
        assertThat(asked).hasSize(4);
        long next = 0;
        for (Range r : fetched) {
            assertThat(r.first()).as("no byte asked twice, none left out").isEqualTo(next);
            next = r.last() + 1;
        }
        assertThat(next).isEqualTo(SIZE);

        // Complete: a full GET, a HEAD and any range are served from the store, byte-exact.
        int before = origin.total();
        long hits = c.hits.sum();
        String[] whole = request("GET", null);
        assertThat(whole[0]).startsWith("HTTP/1.1 200 ").contains("Content-Length: " + SIZE + "\r\n")
                .containsIgnoringCase("ETag: \"v1\"\r\n").doesNotContain("Content-Range");
        assertThat(whole[1]).isEqualTo(bytes("\"v1\"", 0, SIZE));
        String[] head = request("HEAD", null);
        assertThat(head[0]).startsWith("HTTP/1.1 200 ").contains("Content-Length: " + SIZE + "\r\n");
        String[] tail = request("GET", "bytes=-5");
        assertThat(tail[1]).isEqualTo(bytes("\"v1\"", SIZE - 5, SIZE));
        assertThat(origin.total()).isEqualTo(before);
        assertThat(c.hits.sum()).isEqualTo(hits + 3);
    }

    @Test
    void onlyIfCached_rangeTheHeldPartsCover_isAnsweredFromThem_otherwise504() throws Exception {
        getPart(0, "\"v1\"");
        int before = origin.total();
        String[] covered = request("GET", "bytes=10-19", "Cache-Control: only-if-cached\r\n");
        assertThat(covered[0]).startsWith("HTTP/1.1 206 ").contains("Content-Range: bytes 10-19/" + SIZE + "\r\n");
        assertThat(covered[1]).isEqualTo(bytes("\"v1\"", 10, 20));
        String[] uncovered = request("GET", part(1), "Cache-Control: only-if-cached\r\n");
        assertThat(uncovered[0]).startsWith("HTTP/1.1 504 ");
        assertThat(origin.total()).as("only-if-cached never reaches the origin").isEqualTo(before);
    }

    @Test
    void changedEtag_dropsTheHeldParts() throws Exception {
        getPart(0, "\"v1\"");
        getPart(2, "\"v1\"");
        etag.set("\"v2\"");
        getPart(1, "\"v2\"");
        assertThat(held().held().validator()).isEqualTo("ETag \"v2\"");
        assertThat(held().held().ranges()).containsExactly(new Range(PART, 2 * PART - 1));

        int before = origin.total();
        getPart(0, "\"v2\"");
        assertThat(origin.total()).as("the v1 part is gone: asked again").isEqualTo(before + 1);
        assertThat(held().held().ranges()).containsExactly(new Range(0, 2 * PART - 1));
    }

    @Test
    void lyingTotalUnderTheSameEtag_dropsEverythingHeld() throws Exception {
        getPart(0, "\"v1\"");
        lyingTotal = 2L * SIZE;
        String[] r = request("GET", part(2));
        assertThat(r[0]).as("relayed as the origin sent it").containsIgnoringCase("Content-Range: bytes " + (2 * PART) + "-"
                + (3 * PART - 1) + "/" + (2 * SIZE) + "\r\n");
        assertThat(held()).isNull();
        assertThat(proxy.context().partsRefused.sum()).isEqualTo(1);

        lyingTotal = 0;
        int before = origin.total();
        getPart(0, "\"v1\"");
        assertThat(origin.total()).as("nothing was kept of the liar").isEqualTo(before + 1);
    }

    @Test
    void changedToAWeakEtag_heldPartsOfTheOldRepresentationAreNotServed() throws Exception {
        getPart(0, "\"v1\"");
        getPart(2, "\"v1\"");
        etag.set("W/\"v2\"");
        getPart(1, "W/\"v2\"");
        assertThat(held()).as("v2's part is not kept, and v1's must not be served beside it").isNull();

        int before = origin.total();
        getPart(0, "W/\"v2\"");
        assertThat(origin.total()).as("asked again, not answered from v1's part").isEqualTo(before + 1);
    }

    @Test
    void weakEtag_partsNeverStored() throws Exception {
        etag.set("W/\"w\"");
        getPart(0, "W/\"w\"");
        getPart(1, "W/\"w\"");
        int before = origin.total();
        getPart(1, "W/\"w\"");
        assertThat(origin.total()).isEqualTo(before + 1);
        assertThat(held()).isNull();
        assertThat(proxy.context().partsStored.sum()).isZero();
    }

    @Test
    void multipartAndVary206_relayedUnchangedNeverKept_heldPartsKeptOnlyUnderTheSameValidator() throws Exception {
        CacheContext c = proxy.context();
        getPart(0, "\"v1\"");
        assertThat(c.partsStored.sum()).isEqualTo(1);

        // Several ranges of a large object pass through; the origin answers multipart/byteranges.
        String two = "bytes=300000-300009,700000-700009";
        String[] multi = request("GET", two);
        assertThat(multi[0]).startsWith("HTTP/1.1 206 ").containsIgnoringCase("Content-Type: multipart/byteranges; boundary=B\r\n");
        assertThat(multi[1]).isEqualTo(new String(multipart(object("\"v1\""), two), StandardCharsets.ISO_8859_1));
        assertThat(c.partsStored.sum()).as("a multipart 206 is not kept").isEqualTo(1);
        assertThat(held().held().ranges()).as("the same validator: what is held stays")
                .containsExactly(new Range(0, PART - 1));
        int before = origin.total();
        request("GET", two);
        assertThat(origin.total()).as("asked again: nothing of it was stored").isEqualTo(before + 1);

        // A 206 with Vary: relayed, not kept, asked again the next time.
        vary = true;
        getPart(2, "\"v1\"");
        getPart(2, "\"v1\"");
        assertThat(origin.total()).isEqualTo(before + 3);
        assertThat(c.partsStored.sum()).as("a part with Vary is not kept").isEqualTo(1);
        vary = false;

        // A multipart 206 of another representation: the old parts go, before its body is relayed.
        etag.set("\"v2\"");
        String[] changed = request("GET", two);
        assertThat(changed[1]).isEqualTo(new String(multipart(object("\"v2\""), two), StandardCharsets.ISO_8859_1));
        assertThat(held()).isNull();
    }
}
