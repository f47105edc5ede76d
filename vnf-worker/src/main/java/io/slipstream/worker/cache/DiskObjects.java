package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.HttpHeaders;
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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The file format of one object of the disk tier (docs/cache.md, "Disk tier"): a fixed preamble (magic,
 * header length, CRC32C of the header), the header (cache key, the stored request and response heads with
 * their times, secondary key, tags, soft-purge mark, body length and the body's CRC32C), then the body.
 * A file whose preamble, header checksum, length or body checksum does not match is rejected by
 * {@link #decode} / {@link #bodyMatches}: never served.
 */
final class DiskObjects {

    static final byte[] MAGIC = "SLPCACH1".getBytes(StandardCharsets.US_ASCII);
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
        RequestHead rq = h.stored().request();
        out.writeUTF(rq.method());
        out.writeUTF(rq.uri().toString());
        writeHeaders(out, rq.headers());
        ResponseHead rs = h.stored().response();
        out.writeInt(rs.status());
        writeHeaders(out, rs.headers());
        writeInstant(out, h.stored().requestTime());
        writeInstant(out, h.stored().responseTime());
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
        byte[] header = bytes.toByteArray();
        ByteBuffer file = ByteBuffer.allocate(PREAMBLE + header.length).order(ByteOrder.BIG_ENDIAN);
        file.put(MAGIC).putInt(header.length).putInt(crc(header, 0, header.length)).put(header);
        return file.array();
    }

    /** The offset in an encoded preamble+header where the body CRC (the last 4 header bytes) sits. */
    static void patchBodyCrc(byte[] encoded, int bodyCrc) {
        ByteBuffer b = ByteBuffer.wrap(encoded);
        b.putInt(encoded.length - 4, bodyCrc);
        int headerLength = encoded.length - PREAMBLE;
        b.putInt(MAGIC.length + 4, crc(encoded, PREAMBLE, headerLength));
    }

    /** The header length announced by a preamble; throws naming what is wrong. */
    static int headerLength(ByteBuffer preamble) throws IOException {
        if (preamble.remaining() < PREAMBLE) {
            throw new IOException("truncated preamble: " + preamble.remaining() + " bytes (expected: " + PREAMBLE + ")");
        }
        byte[] magic = new byte[MAGIC.length];
        preamble.duplicate().get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw new IOException("bad magic (expected: SLPCACH1)");
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
        int n = headerLength(preambleAndHeader);
        if (preambleAndHeader.remaining() < PREAMBLE + n) {
            throw new IOException("truncated header: " + (preambleAndHeader.remaining() - PREAMBLE) + " of " + n
                    + " bytes");
        }
        byte[] header = new byte[n];
        int expectedCrc = preambleAndHeader.getInt(preambleAndHeader.position() + MAGIC.length + 4);
        preambleAndHeader.duplicate().position(preambleAndHeader.position() + PREAMBLE).get(header);
        if (crc(header, 0, n) != expectedCrc) {
            throw new IOException("header checksum mismatch");
        }
        Header h;
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(header));
            String key = in.readUTF();
            String method = in.readUTF();
            URI uri = URI.create(in.readUTF());
            HttpHeaders rqHeaders = readHeaders(in);
            int status = in.readInt();
            HttpHeaders rsHeaders = readHeaders(in);
            Instant requestTime = readInstant(in);
            Instant responseTime = readInstant(in);
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
            StoredResponse stored = StoredResponse.of(RequestHead.of(method, uri, rqHeaders),
                    ResponseHead.of(status, rsHeaders), requestTime, responseTime);
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
