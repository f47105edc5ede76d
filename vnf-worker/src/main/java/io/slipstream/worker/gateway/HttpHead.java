package io.slipstream.worker.gateway;

import io.netty.buffer.ByteBuf;
import io.slipstream.worker.cache.policy.CacheKey;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The first HTTP/1.x request head of a connection, as far as the gateway needs it: where the head ends,
 * and its cache key, computed as the cache worker computes it ({@link CacheKey#targetUri}). Pure; the
 * bytes themselves are replayed unchanged to the chosen cache worker.
 *
 * @param method the request method
 * @param target the request-target
 * @param cacheKey the cache key ({@link CacheKey#value()})
 */
public record HttpHead(String method, String target, String cacheKey) {

    /** Default bound on a request head. */
    public static final int DEFAULT_MAX_BYTES = 16 * 1024;

    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._~%!$&'()*+,;=-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+](:[0-9]{1,5})?");

    /**
     * The length of the head at the start of {@code buf} (up to and including the empty line), or -1 while
     * it is incomplete. Reads {@code buf} without moving its indices.
     */
    public static int headLength(ByteBuf buf) {
        int start = buf.readerIndex();
        int end = buf.writerIndex();
        for (int i = start; i < end; i++) {
            if (buf.getByte(i) != '\n') {
                continue;
            }
            if (i + 1 < end && buf.getByte(i + 1) == '\n') {
                return i + 2 - start;
            }
            if (i + 2 < end && buf.getByte(i + 1) == '\r' && buf.getByte(i + 2) == '\n') {
                return i + 3 - start;
            }
        }
        return -1;
    }

    /**
     * Parses a complete head.
     *
     * @param fallbackHost the authority to key an HTTP/1.0 request without Host by (the original destination)
     * @throws IllegalArgumentException saying what is wrong (the gateway answers 400 with it)
     */
    public static HttpHead parse(String head, String fallbackHost) {
        String[] lines = head.split("\r?\n", -1);
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3) {
            throw new IllegalArgumentException("request line: '" + printable(lines[0])
                    + "' (expected: METHOD SP TARGET SP HTTP/1.x)");
        }
        String method = requestLine[0];
        String target = requestLine[1];
        String version = requestLine[2];
        if (!TOKEN.matcher(method).matches()) {
            throw new IllegalArgumentException("method: '" + printable(method) + "' (expected: an HTTP token)");
        }
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw new IllegalArgumentException("version: '" + printable(version) + "' (expected: HTTP/1.1 or HTTP/1.0)");
        }
        if (target.isEmpty() || target.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
            throw new IllegalArgumentException("request target: '" + printable(target)
                    + "' (expected: visible ASCII, origin-form /path or absolute http://)");
        }
        String host = null;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0 || !TOKEN.matcher(line.substring(0, colon)).matches()) {
                throw new IllegalArgumentException("header line: '" + printable(line) + "' (expected: NAME: VALUE)");
            }
            if (line.regionMatches(true, 0, "Host", 0, 4) && colon == 4) {
                if (host != null) {
                    throw new IllegalArgumentException("more than one Host field");
                }
                host = line.substring(colon + 1).strip();
            }
        }
        if (host == null && version.equals("HTTP/1.1") && target.startsWith("/")) {
            throw new IllegalArgumentException("HTTP/1.1 request without Host");
        }
        if (host != null && !HOST.matcher(host).matches()) {
            throw new IllegalArgumentException("Host: '" + printable(host) + "' (expected: host[:port])");
        }
        URI uri = CacheKey.targetUri(target, host != null ? host : fallbackHost);
        return new HttpHead(method, target, CacheKey.of(uri).value());
    }

    /** The head's bytes as text (ISO-8859-1, one char per byte). */
    public static String text(ByteBuf buf, int length) {
        return buf.toString(buf.readerIndex(), length, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length() && sb.length() < 120; i++) {
            char c = s.charAt(i);
            sb.append(c >= ' ' && c < 127 ? c : '?');
        }
        return sb.toString();
    }
}
