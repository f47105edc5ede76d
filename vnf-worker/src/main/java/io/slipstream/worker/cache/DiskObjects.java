package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.HttpHeaders;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The file format of one object of the disk tier (docs/cache.md, "Disk tier"): a fixed preamble (magic,
 * header length, CRC32C of the header), the header (cache key, the stored request and response heads with
 * their times, secondary key, tags, soft-purge mark, body length and the body's CRC32C), then the body.
 * A file whose preamble, header checksum, length or body checksum does not match is rejected by
 * {@link #decode} / {@link #bodyMatches}: never served. A partial object's file ({@link #encodeParts}) has the
 * same preamble with its own magic and a header naming the held ranges, whose bytes follow in order.
 */
final class DiskObjects {

    static final byte[] MAGIC = "SLPCACH1".getBytes(StandardCharsets.US_ASCII);
    /** The magic of a partial object's file (the ranges held of a representation, {@link PartsHeader}). */
    static final byte[] PARTS_MAGIC = "SLPPART1".getBytes(StandardCharsets.US_ASCII);
    /** Magic, header length, header CRC32C. */
    static final int PREAMBLE = MAGIC.length + 8;
    /** Headers are at most a few tens of KiB (the request guard's limits); anything larger is corrupt. */
    static final int MAX_HEADER = 1 << 20;

    private DiskObjects() {
    }

    /** What a file's header says. */
    record Header(String key, StoredResponse stored, Map<String, String> secondaryKey, Set<String> tags,
                  boolean softPurged, long bodyLength, int bodyCrc) {
    }

    /** The preamble and header of an object file; {@code bodyCrc} may be patched later with {@link #patchBodyCrc}. */
    static byte[] encode(Header h) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(h.key());
        writeStored(out, h.stored());
        out.writeInt(h.secondaryKey().size());
        for (Map.Entry<String, String> e : h.secondaryKey().entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
        out.writeInt(h.tags().size());
        for (String t : h.tags()) {
            out.writeUTF(t);
        }
        out.writeBoolean(h.softPurged());
        out.writeLong(h.bodyLength());
        out.writeInt(h.bodyCrc());
        out.flush();
        return withPreamble(MAGIC, bytes.toByteArray());
    }

    private static byte[] withPreamble(byte[] magic, byte[] header) {
        ByteBuffer file = ByteBuffer.allocate(PREAMBLE + header.length).order(ByteOrder.BIG_ENDIAN);
        file.put(magic).putInt(header.length).putInt(crc(header, 0, header.length)).put(header);
        return file.array();
    }

    /** The header bytes after a preamble with {@code magic}, their checksum checked; throws naming what is wrong. */
    private static byte[] checkedHeader(ByteBuffer preambleAndHeader, byte[] magic) throws IOException {
        int n = headerLength(preambleAndHeader, magic);
        if (preambleAndHeader.remaining() < PREAMBLE + n) {
            throw new IOException("truncated header: " + (preambleAndHeader.remaining() - PREAMBLE) + " of " + n
                    + " bytes");
        }
        byte[] header = new byte[n];
        int expectedCrc = preambleAndHeader.getInt(preambleAndHeader.position() + magic.length + 4);
        preambleAndHeader.duplicate().position(preambleAndHeader.position() + PREAMBLE).get(header);
        if (crc(header, 0, n) != expectedCrc) {
            throw new IOException("header checksum mismatch");
        }
        return header;
    }

    private static void writeStored(DataOutputStream out, StoredResponse stored) throws IOException {
        RequestHead rq = stored.request();
        out.writeUTF(rq.method());
        out.writeUTF(rq.uri().toString());
        writeHeaders(out, rq.headers());
        ResponseHead rs = stored.response();
        out.writeInt(rs.status());
        writeHeaders(out, rs.headers());
        writeInstant(out, stored.requestTime());
        writeInstant(out, stored.responseTime());
    }

    private static StoredResponse readStored(DataInputStream in) throws IOException {
        String method = in.readUTF();
        URI uri = URI.create(in.readUTF());
        HttpHeaders rqHeaders = readHeaders(in);
        int status = in.readInt();
        HttpHeaders rsHeaders = readHeaders(in);
        Instant requestTime = readInstant(in);
        Instant responseTime = readInstant(in);
        return StoredResponse.of(RequestHead.of(method, uri, rqHeaders), ResponseHead.of(status, rsHeaders),
                requestTime, responseTime);
    }

    // ------------------------------------------------------------------------------------ partial objects

    /**
     * What a partial object's file says: the combined head (a 200) and its times, tags, the strong validator,
     * complete length and held ranges ({@link PartialContent.Held}), then the body: the held ranges' bytes one
     * after another in order, {@code bodyLength} (their total) bytes with checksum {@code bodyCrc}.
     */
    record PartsHeader(String key, StoredResponse stored, Set<String> tags, PartialContent.Held held, long bodyLength,
                       int bodyCrc) {
    }

    /** The preamble ({@link #PARTS_MAGIC}) and header of a partial object's file. */
    static byte[] encodeParts(PartsHeader h) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(h.key());
        writeStored(out, h.stored());
        out.writeInt(h.tags().size());
        for (String t : h.tags()) {
            out.writeUTF(t);
        }
        out.writeUTF(h.held().validator());
        out.writeLong(h.held().completeLength());
        out.writeInt(h.held().ranges().size());
        for (Range r : h.held().ranges()) {
            out.writeLong(r.first());
            out.writeLong(r.last());
        }
        out.writeLong(h.bodyLength());
        out.writeInt(h.bodyCrc());
        out.flush();
        return withPreamble(PARTS_MAGIC, bytes.toByteArray());
    }

    /**
     * Decodes and checks the header of a partial object's file of {@code fileSize} bytes: the header checksum;
     * a stored 200 whose strong validator ({@link PartialContent#strongValidator}) is the one recorded; at least
     * one range, each inside the complete length, sorted, neither overlapping nor adjacent (as
     * {@link PartialContent#combine} keeps them); a body length that is their total; the exact file length.
     *
     * @throws IOException naming the first mismatch (a corrupt or truncated file)
     */
    static PartsHeader decodeParts(ByteBuffer preambleAndHeader, long fileSize) throws IOException {
        byte[] header = checkedHeader(preambleAndHeader, PARTS_MAGIC);
        PartsHeader h;
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(header));
            String key = in.readUTF();
            StoredResponse stored = readStored(in);
            Set<String> tags = new LinkedHashSet<>();
            int nt = count(in.readInt());
            for (int i = 0; i < nt; i++) {
                tags.add(in.readUTF());
            }
            String validator = in.readUTF();
            long completeLength = in.readLong();
            int nr = count(in.readInt());
            List<Range> ranges = new ArrayList<>(nr);
            long total = 0;
            for (int i = 0; i < nr; i++) {
                long first = in.readLong();
                long last = in.readLong();
                if (first < 0 || last < first || last >= completeLength) {
                    throw new IOException("range " + first + "-" + last + " (expected: inside 0.."
                            + (completeLength - 1) + ")");
                }
                if (!ranges.isEmpty() && first <= ranges.get(ranges.size() - 1).last() + 1) {
                    throw new IOException("range " + first + "-" + last + " overlaps or touches the one before"
                            + " (expected: sorted, disjoint, not adjacent)");
                }
                ranges.add(new Range(first, last));
                total += last - first + 1;
            }
            long bodyLength = in.readLong();
            int bodyCrc = in.readInt();
            if (in.available() != 0) {
                throw new IOException(in.available() + " trailing header bytes");
            }
            if (ranges.isEmpty()) {
                throw new IOException("no ranges (expected: at least one)");
            }
            if (bodyLength != total) {
                throw new IOException("body of " + bodyLength + " bytes (expected: the ranges' " + total + ")");
            }
            if (stored.response().status() != 200
                    || !validator.equals(PartialContent.strongValidator(stored.response()))) {
                throw new IOException("validator " + validator + " is not the stored head's strong validator");
            }
            h = new PartsHeader(key, stored, Set.copyOf(tags), new PartialContent.Held(validator, completeLength,
                    ranges), bodyLength, bodyCrc);
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException("undecodable header: " + e.getMessage(), e);
        }
        long expected = (long) PREAMBLE + header.length + h.bodyLength();
        if (fileSize != expected) {
            throw new IOException("file is " + fileSize + " bytes (expected: " + expected + ", body "
                    + h.bodyLength() + ")");
        }
        return h;
    }

    /** The offset in an encoded preamble+header where the body CRC (the last 4 header bytes) sits. */
    static void patchBodyCrc(byte[] encoded, int bodyCrc) {
        ByteBuffer b = ByteBuffer.wrap(encoded);
        b.putInt(encoded.length - 4, bodyCrc);
        int headerLength = encoded.length - PREAMBLE;
        b.putInt(MAGIC.length + 4, crc(encoded, PREAMBLE, headerLength));
    }

    /** The header length announced by a preamble of a complete object's file; throws naming what is wrong. */
    static int headerLength(ByteBuffer preamble) throws IOException {
        return headerLength(preamble, MAGIC);
    }

    /** The header length announced by a preamble starting with {@code expectedMagic}; throws naming what is wrong. */
    static int headerLength(ByteBuffer preamble, byte[] expectedMagic) throws IOException {
        if (preamble.remaining() < PREAMBLE) {
            throw new IOException("truncated preamble: " + preamble.remaining() + " bytes (expected: " + PREAMBLE + ")");
        }
        byte[] magic = new byte[expectedMagic.length];
        preamble.duplicate().get(magic);
        if (!java.util.Arrays.equals(magic, expectedMagic)) {
            throw new IOException("bad magic (expected: " + new String(expectedMagic, StandardCharsets.US_ASCII) + ")");
        }
        int n = preamble.getInt(preamble.position() + MAGIC.length);
        if (n < 1 || n > MAX_HEADER) {
            throw new IOException("header length " + n + " (expected: 1.." + MAX_HEADER + ")");
        }
        return n;
    }

    /**
     * Decodes the header of a file of {@code fileSize} bytes from {@code preambleAndHeader} (exactly
     * {@code PREAMBLE + headerLength} bytes); checks the header's checksum and that the file is exactly as
     * long as the header says.
     *
     * @throws IOException naming the mismatch (a corrupt or truncated file)
     */
    static Header decode(ByteBuffer preambleAndHeader, long fileSize) throws IOException {
        byte[] header = checkedHeader(preambleAndHeader, MAGIC);
        int n = header.length;
        Header h;
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(header));
            String key = in.readUTF();
            StoredResponse stored = readStored(in);
            Map<String, String> secondary = new LinkedHashMap<>();
            int sk = count(in.readInt());
            for (int i = 0; i < sk; i++) {
                secondary.put(in.readUTF(), in.readUTF());
            }
            Set<String> tags = new LinkedHashSet<>();
            int nt = count(in.readInt());
            for (int i = 0; i < nt; i++) {
                tags.add(in.readUTF());
            }
            boolean softPurged = in.readBoolean();
            long bodyLength = in.readLong();
            int bodyCrc = in.readInt();
            if (in.available() != 0) {
                throw new IOException(in.available() + " trailing header bytes");
            }
            h = new Header(key, stored, Map.copyOf(secondary), Set.copyOf(tags), softPurged, bodyLength, bodyCrc);
        } catch (IOException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException("undecodable header: " + e.getMessage(), e);
        }
        long expected = (long) PREAMBLE + n + h.bodyLength();
        if (h.bodyLength() < 0 || fileSize != expected) {
            throw new IOException("file is " + fileSize + " bytes (expected: " + expected + ", body "
                    + h.bodyLength() + ")");
        }
        return h;
    }

    /** Whether {@code body} (the mapped body) has the checksum the header recorded. */
    static boolean bodyMatches(ByteBuffer body, int expectedCrc) {
        return crc(body) == expectedCrc;
    }

    static int crc(ByteBuffer data) {
        CRC32C c = new CRC32C();
        c.update(data.duplicate());
        return (int) c.getValue();
    }

    static int crc(byte[] data, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(data, off, len);
        return (int) c.getValue();
    }

    private static int count(int n) throws IOException {
        if (n < 0 || n > 10_000) {
            throw new IOException("count " + n + " (expected: 0..10000)");
        }
        return n;
    }

    private static void writeHeaders(DataOutputStream out, HttpHeaders headers) throws IOException {
        out.writeInt(headers.lines().size());
        for (String[] line : headers.lines()) {
            out.writeUTF(line[0]);
            out.writeUTF(line[1]);
        }
    }

    private static HttpHeaders readHeaders(DataInputStream in) throws IOException {
        int n = count(in.readInt());
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (int i = 0; i < n; i++) {
            b.add(in.readUTF(), in.readUTF());
        }
        return b.build();
    }

    private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
        out.writeLong(t.getEpochSecond());
        out.writeInt(t.getNano());
    }

    private static Instant readInstant(DataInputStream in) throws IOException {
        return Instant.ofEpochSecond(in.readLong(), in.readInt());
    }
}
