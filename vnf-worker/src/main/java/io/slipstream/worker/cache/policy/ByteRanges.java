package io.slipstream.worker.cache.policy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Range requests (RFC 9110 §14) answered from a stored complete response: parsing of {@code Range}, the
 * {@code If-Range} precondition (§13.1.5) and the decision whether to answer 200 (the whole
 * representation), 206 (one range, or several as {@code multipart/byteranges}) or 416. Pure functions.
 *
 * <p>Ranges not worth honouring are ignored (the whole representation is served with 200, which §14.2
 * allows): more than {@link #MAX_RANGES} range-specs, or satisfiable ranges whose lengths add up to more
 * than the representation (overlap abuse, e.g. {@code 0-,0-,0-}). Satisfiable ranges are sorted and those
 * that overlap or lie closer than {@link #COALESCE_GAP} bytes are coalesced (§14.6 allows this regardless
 * of the order requested), so a multipart answer never repeats a byte.
 */
public final class ByteRanges {

    /** More range-specs than this and the header is ignored. */
    public static final int MAX_RANGES = 100;
    /** Ranges separated by fewer bytes than this (about one part's header) are coalesced. */
    public static final long COALESCE_GAP = 80;

    private ByteRanges() {
    }

    /** What to answer. */
    public enum Outcome {
        /** Serve the whole representation with its own status (Range ignored or absent). */
        FULL,
        /** 206 with {@link Decision#ranges()} (one: a single part; several: multipart/byteranges). */
        PARTIAL,
        /** 416 with {@code Content-Range: bytes *}{@code /length}. */
        NOT_SATISFIABLE
    }

    /** Why. */
    public enum Reason {
        NO_RANGE, NOT_GET, STATUS_NOT_200, INVALID, UNKNOWN_UNIT, TOO_MANY_RANGES, OVERLAP_ABUSE,
        IF_RANGE_FALSE, EMPTY_REPRESENTATION, SATISFIABLE, UNSATISFIABLE
    }

    /** A resolved, satisfiable byte range: {@code first..last} inclusive, both within the representation. */
    public record Range(long first, long last) {
        public Range {
            if (first < 0 || last < first) {
                throw new IllegalArgumentException("range " + first + "-" + last + " (expected: 0 <= first <= last)");
            }
        }

        public long length() {
            return last - first + 1;
        }

        /** The {@code Content-Range} value of this range of a representation of {@code completeLength} bytes. */
        public String contentRange(long completeLength) {
            return "bytes " + first + "-" + last + "/" + completeLength;
        }
    }

    /**
     * One range-spec as written (RFC 9110 §14.1.1): {@code first-last}, {@code first-} ({@code last} =
     * -1) or the suffix {@code -n} ({@code first} = -1, {@code last} = n). Numbers too large for a long are
     * {@link Long#MAX_VALUE}.
     */
    public record Spec(long first, long last) {
        boolean suffix() {
            return first < 0;
        }

        /** The satisfiable part of this spec against {@code length} bytes, or null (§14.1.2). */
        Range resolve(long length) {
            if (suffix()) {
                if (last == 0 || length == 0) {
                    return null;
                }
                return new Range(Math.max(0, length - last), length - 1);
            }
            if (first >= length) {
                return null;
            }
            return new Range(first, last < 0 ? length - 1 : Math.min(last, length - 1));
        }
    }

    /** The answer: outcome, the ranges to send (sorted, coalesced; empty unless PARTIAL) and why. */
    public record Decision(Outcome outcome, List<Range> ranges, Reason reason) {
        public Decision {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
            ranges = List.copyOf(ranges);
        }

        static Decision full(Reason reason) {
            return new Decision(Outcome.FULL, List.of(), reason);
        }

        /** The total length of the ranges. */
        public long bytes() {
            long n = 0;
            for (Range r : ranges) {
                n += r.length();
            }
            return n;
        }
    }

    /** Parse result: the specs, or why the header is not usable. */
    public record Parsed(List<Spec> specs, Reason failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    /**
     * Parses one {@code Range} field value: {@code bytes=} and a list of range-specs (OWS around commas and
     * empty list elements allowed, as for any list; nothing else). A spec whose last-pos is below its
     * first-pos makes the whole header invalid (§14.1.1); a unit other than {@code bytes} is
     * {@link Reason#UNKNOWN_UNIT}; more than {@link #MAX_RANGES} specs {@link Reason#TOO_MANY_RANGES} (the
     * rest is not read).
     */
    public static Parsed parse(String value) {
        if (value == null) {
            return new Parsed(List.of(), Reason.NO_RANGE);
        }
        int eq = value.indexOf('=');
        if (eq <= 0) {
            return new Parsed(List.of(), Reason.INVALID);
        }
        for (int i = 0; i < eq; i++) {
            if (!isTokenChar(value.charAt(i))) {
                return new Parsed(List.of(), Reason.INVALID);
            }
        }
        if (!value.substring(0, eq).equalsIgnoreCase("bytes")) {
            return new Parsed(List.of(), Reason.UNKNOWN_UNIT);
        }
        List<Spec> specs = new ArrayList<>();
        int i = eq + 1;
        int n = value.length();
        while (i <= n) {
            int comma = value.indexOf(',', i);
            int end = comma < 0 ? n : comma;
            int s = i;
            int e = end;
            while (s < e && isOws(value.charAt(s))) {
                s++;
            }
            while (e > s && isOws(value.charAt(e - 1))) {
                e--;
            }
            if (s < e) {
                if (specs.size() == MAX_RANGES) {
                    return new Parsed(List.of(), Reason.TOO_MANY_RANGES);
                }
                Spec spec = spec(value, s, e);
                if (spec == null) {
                    return new Parsed(List.of(), Reason.INVALID);
                }
                specs.add(spec);
            }
            i = end + 1;
        }
        if (specs.isEmpty()) {
            return new Parsed(List.of(), Reason.INVALID);
        }
        return new Parsed(specs, null);
    }

    private static Spec spec(String v, int s, int e) {
        int dash = v.indexOf('-', s);
        if (dash < 0 || dash >= e) {
            return null;
        }
        if (dash == s) {
            long suffix = digits(v, s + 1, e);
            return suffix < 0 ? null : new Spec(-1, suffix);
        }
        long first = digits(v, s, dash);
        if (first < 0) {
            return null;
        }
        if (dash + 1 == e) {
            return new Spec(first, -1);
        }
        long last = digits(v, dash + 1, e);
        if (last < 0 || last < first) {
            return null;
        }
        return new Spec(first, last);
    }

    /** The non-empty run of digits v[s..e) as a long saturating at Long.MAX_VALUE, or -1. */
    private static long digits(String v, int s, int e) {
        if (s >= e) {
            return -1;
        }
        long x = 0;
        for (int i = s; i < e; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            int d = c - '0';
            x = x > (Long.MAX_VALUE - d) / 10 ? Long.MAX_VALUE : x * 10 + d;
        }
        return x;
    }

    /** As {@link #decide(String, List, List, ResponseHead, long)} for a request in the policy's model. */
    public static Decision decide(RequestHead request, ResponseHead stored, long length) {
        return decide(request.method(), request.headers().all("Range"), request.headers().all("If-Range"), stored,
                length);
    }

    /**
     * How to answer a request with {@code method} and the given {@code Range} / {@code If-Range} field lines
     * from a stored {@code stored} response whose content is {@code length} bytes.
     *
     * <p>In order: no Range → FULL; not GET (§14.2: Range is only defined for GET) → FULL; stored status
     * not 200 → FULL; several Range lines or an invalid value → FULL; unit not bytes → FULL; If-Range
     * present and false (§13.1.5, strong comparison only) → FULL; empty representation → FULL; no spec
     * satisfiable → NOT_SATISFIABLE; satisfiable bytes adding up to more than the representation → FULL
     * (overlap abuse); else PARTIAL with the ranges sorted and coalesced.
     */
    public static Decision decide(String method, List<String> rangeLines, List<String> ifRangeLines,
                                  ResponseHead stored, long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 0)");
        }
        if (rangeLines.isEmpty()) {
            return Decision.full(Reason.NO_RANGE);
        }
        if (!method.equals("GET")) {
            return Decision.full(Reason.NOT_GET);
        }
        if (stored.status() != 200) {
            return Decision.full(Reason.STATUS_NOT_200);
        }
        if (rangeLines.size() != 1) {
            return Decision.full(Reason.INVALID);
        }
        Parsed parsed = parse(rangeLines.get(0));
        if (!parsed.ok()) {
            return Decision.full(parsed.failure());
        }
        if (!ifRangeLines.isEmpty() && !ifRangeHolds(ifRangeLines, stored)) {
            return Decision.full(Reason.IF_RANGE_FALSE);
        }
        if (length == 0) {
            return Decision.full(Reason.EMPTY_REPRESENTATION);
        }
        List<Range> ranges = new ArrayList<>();
        long total = 0;
        for (Spec spec : parsed.specs()) {
            Range r = spec.resolve(length);
            if (r != null) {
                ranges.add(r);
                total += r.length();
                if (total > length) {
                    return Decision.full(Reason.OVERLAP_ABUSE);
                }
            }
        }
        if (ranges.isEmpty()) {
            return new Decision(Outcome.NOT_SATISFIABLE, List.of(), Reason.UNSATISFIABLE);
        }
        return new Decision(Outcome.PARTIAL, coalesce(ranges), Reason.SATISFIABLE);
    }

    /** Sorted by first byte; overlapping ranges and ranges less than {@link #COALESCE_GAP} apart merged. */
    static List<Range> coalesce(List<Range> ranges) {
        if (ranges.size() == 1) {
            return ranges;
        }
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(Range::first));
        List<Range> out = new ArrayList<>();
        Range cur = sorted.get(0);
        for (int i = 1; i < sorted.size(); i++) {
            Range r = sorted.get(i);
            if (r.first() - cur.last() <= COALESCE_GAP) {
                cur = new Range(cur.first(), Math.max(cur.last(), r.last()));
            } else {
                out.add(cur);
                cur = r;
            }
        }
        out.add(cur);
        return out;
    }

    /**
     * If-Range (RFC 9110 §13.1.5): an entity-tag holds when it strongly matches the stored {@code ETag}
     * (a weak tag never does); an HTTP-date holds when it equals the stored {@code Last-Modified} and that
     * is a strong validator (at least one second before {@code Date}, §8.8.2.2). Several lines or anything
     * unparseable do not hold.
     */
    public static boolean ifRangeHolds(List<String> ifRangeLines, ResponseHead stored) {
        if (ifRangeLines.size() != 1) {
            return false;
        }
        String v = ifRangeLines.get(0).strip();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return isEntityTag(v) && Validation.strongMatch(v, stored.headers().get("ETag"));
        }
        Instant date = HttpDates.parse(v);
        Instant modified = HttpDates.parse(stored.headers().get("Last-Modified"));
        Instant responseDate = HttpDates.parse(stored.headers().get("Date"));
        return date != null && modified != null && responseDate != null && date.equals(modified)
                && !modified.plusSeconds(1).isAfter(responseDate);
    }

    /** An entity-tag (RFC 9110 §8.8.3), weak ({@code W/"..."}) or strong. */
    static boolean isEntityTag(String v) {
        String s = v.startsWith("W/") ? v.substring(2) : v;
        if (s.length() < 2 || s.charAt(0) != '"' || s.charAt(s.length() - 1) != '"') {
            return false;
        }
        for (int i = 1; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '"' || c < 0x21 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /**
     * The framing of a {@code multipart/byteranges} body (RFC 9110 §14.6) for {@code ranges} of a
     * representation of {@code completeLength} bytes with {@code contentType} (null: parts carry none).
     * The body is {@code partHeader(0)}, the bytes of range 0, {@code partHeader(1)}, ..., {@code trailer()}.
     */
    public record Multipart(String boundary, String contentType, List<Range> ranges, long completeLength) {
        public Multipart {
            if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
                throw new IllegalArgumentException("boundary: '" + boundary + "' (expected: 1..70 characters)");
            }
            ranges = List.copyOf(ranges);
        }

        /** The response's Content-Type. */
        public String mediaType() {
            return "multipart/byteranges; boundary=" + boundary;
        }

        /** The delimiter and part header before range {@code i}. */
        public String partHeader(int i) {
            return (i == 0 ? "" : "\r\n") + "--" + boundary + "\r\n"
                    + (contentType != null ? "Content-Type: " + contentType + "\r\n" : "")
                    + "Content-Range: " + ranges.get(i).contentRange(completeLength) + "\r\n\r\n";
        }

        /** The close delimiter. */
        public String trailer() {
            return "\r\n--" + boundary + "--\r\n";
        }

        /** The exact body length. */
        public long contentLength() {
            long n = trailer().length();
            for (int i = 0; i < ranges.size(); i++) {
                n += partHeader(i).length() + ranges.get(i).length();
            }
            return n;
        }
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isTokenChar(char c) {
        return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
}
