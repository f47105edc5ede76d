package io.slipstream.worker.cache.policy;

import io.slipstream.worker.cache.policy.ByteRanges.Range;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Partial content kept by the cache (RFC 9111 §3.3 and §3.4, RFC 9110 §14.4 and §15.3.7.3): whether a part
 * (a 206 of one range, or a range cut from a 200) may be stored, how it combines with the parts already held
 * of the same representation, and whether the held parts answer a range or make up the whole
 * representation. Pure functions.
 *
 * <p>A part is stored only when it names its representation by a <em>strong</em> validator (RFC 9110
 * §8.8.1): a strong {@code ETag}; or, without any {@code ETag}, a {@code Last-Modified} at least
 * {@link #LAST_MODIFIED_MARGIN_SECONDS} seconds before {@code Date} (the rule for a client's cache entry,
 * §8.8.2.2). A weak {@code ETag} disqualifies the part even when a {@code Last-Modified} is present. Its
 * {@code Content-Range} must be one satisfied range with a known complete length, its {@code Content-Length}
 * (and the bytes that arrived) exactly that range's length, and its response must not vary
 * ({@code Vary}: the parts would need a secondary key). Parts are combined only when their validators are
 * identical (strong comparison) and their complete lengths agree; a part with another validator replaces
 * what is held (the representation changed); the same validator with another complete length is a lying
 * origin: everything held is dropped and nothing is stored.
 */
public final class PartialContent {

    /** How far before {@code Date} a {@code Last-Modified} must lie to be used as a strong validator. */
    public static final long LAST_MODIFIED_MARGIN_SECONDS = 60;

    private PartialContent() {
    }

    /** A {@code Content-Range} of a satisfied range: {@code first-last/completeLength} (-1: {@code *}). */
    public record ContentRange(long first, long last, long completeLength) {
        public Range range() {
            return new Range(first, last);
        }

        public long length() {
            return last - first + 1;
        }
    }

    /**
     * Parses a {@code Content-Range} value {@code bytes first-last/complete} (RFC 9110 §14.4; complete may be
     * {@code *}, then -1): the unit case-insensitive, exactly one space after it, no other whitespace inside;
     * last not below first and below the complete length. {@code null} for anything else (including the
     * unsatisfied form {@code bytes *}{@code /len}).
     */
    public static ContentRange parseContentRange(String value) {
        if (value == null) {
            return null;
        }
        String v = value.strip();
        if (v.length() < 6 || !v.regionMatches(true, 0, "bytes ", 0, 6)) {
            return null;
        }
        int dash = v.indexOf('-', 6);
        int slash = v.indexOf('/', 6);
        if (dash < 0 || slash < dash) {
            return null;
        }
        long first = digits(v, 6, dash);
        long last = digits(v, dash + 1, slash);
        boolean unknown = v.length() == slash + 2 && v.charAt(slash + 1) == '*';
        long complete = unknown ? -1 : digits(v, slash + 1, v.length());
        if (first < 0 || last < first || (complete < 0 && !unknown)) {
            return null;
        }
        if (complete >= 0 && last >= complete) {
            return null;
        }
        return new ContentRange(first, last, complete);
    }

    /** The digits v[s..e) as a long, or -1 (empty, not digits, or more than a long holds). */
    private static long digits(String v, int s, int e) {
        if (s >= e || e - s > 18) {
            return -1;
        }
        long x = 0;
        for (int i = s; i < e; i++) {
            char c = v.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            x = x * 10 + (c - '0');
        }
        return x;
    }

    /**
     * The strong validator naming the representation {@code response} belongs to (as a comparable string),
     * or {@code null}: a strong {@code ETag}; without an ETag, a {@code Last-Modified} at least
     * {@link #LAST_MODIFIED_MARGIN_SECONDS} before {@code Date}. A weak ETag gives none.
     */
    public static String strongValidator(ResponseHead response) {
        List<String> etags = response.headers().all("ETag");
        if (!etags.isEmpty()) {
            String etag = etags.get(0).strip();
            return etags.size() == 1 && isStrongEntityTag(etag) ? "ETag " + etag : null;
        }
        List<String> modified = response.headers().all("Last-Modified");
        if (modified.size() != 1) {
            return null;
        }
        Instant lm = HttpDates.parse(modified.get(0));
        Instant date = HttpDates.parse(response.headers().get("Date"));
        if (lm == null || date == null || lm.plusSeconds(LAST_MODIFIED_MARGIN_SECONDS).isAfter(date)) {
            return null;
        }
        return "Last-Modified " + HttpDates.format(lm);
    }

    private static boolean isStrongEntityTag(String s) {
        return !s.startsWith("W/") && ByteRanges.isEntityTag(s);
    }

    /** Why a part is or is not storable. */
    public enum Reason {
        /** Storable. */
        PART,
        /** Not a 206 (and not a 200 cut to a range). */
        NOT_PARTIAL,
        /** No Content-Range in a 206. */
        NO_CONTENT_RANGE,
        /** Several Content-Range lines, or one that does not parse. */
        INVALID_CONTENT_RANGE,
        /** {@code bytes a-b/*}: the complete length is unknown, so the parts can never be known complete. */
        UNKNOWN_LENGTH,
        /** A multipart/byteranges 206 (not kept; its parts would have to be parsed). */
        MULTIPART,
        /** Content-Length, or the bytes that arrived, differ from the range's length. */
        LENGTH_MISMATCH,
        /** The ETag is weak (or several, or malformed): never combined. */
        WEAK_ETAG,
        /** Neither a strong ETag nor a Last-Modified usable as strong. */
        NO_STRONG_VALIDATOR,
        /** The response varies: its parts would need a secondary key. */
        VARY
    }

    /** A part of a representation that may be stored ({@link #ok()}), or why not. */
    public record Part(ContentRange contentRange, String validator, Reason reason) {
        public boolean ok() {
            return reason == Reason.PART;
        }

        static Part no(Reason reason) {
            return new Part(null, null, reason);
        }
    }

    /**
     * May the 206 {@code response}, whose content is {@code bodyLength} bytes (the declared Content-Length
     * before the content arrives, or what arrived; -1: not known yet), be stored as a part?
     */
    public static Part of206(ResponseHead response, long bodyLength) {
        if (response.status() != 206) {
            return Part.no(Reason.NOT_PARTIAL);
        }
        List<String> lines = response.headers().all("Content-Range");
        String type = response.headers().get("Content-Type");
        if (lines.isEmpty()) {
            return Part.no(type != null && type.strip().toLowerCase(Locale.ROOT).startsWith("multipart/byteranges")
                    ? Reason.MULTIPART : Reason.NO_CONTENT_RANGE);
        }
        ContentRange cr = lines.size() == 1 ? parseContentRange(lines.get(0)) : null;
        if (cr == null) {
            return Part.no(Reason.INVALID_CONTENT_RANGE);
        }
        if (cr.completeLength() < 0) {
            return Part.no(Reason.UNKNOWN_LENGTH);
        }
        if (!lengthsAgree(response, cr.length(), bodyLength)) {
            return Part.no(Reason.LENGTH_MISMATCH);
        }
        return withValidator(response, cr);
    }

    /**
     * May {@code range} of the 200 {@code response} (a representation of {@code completeLength} bytes, as
     * its Content-Length said), cut from the stream for a range client, be stored as a part?
     */
    public static Part ofComplete(ResponseHead response, long completeLength, Range range) {
        if (response.status() != 200) {
            return Part.no(Reason.NOT_PARTIAL);
        }
        if (completeLength < 0 || range.last() >= completeLength
                || !lengthsAgree(response, completeLength, completeLength)) {
            return Part.no(Reason.LENGTH_MISMATCH);
        }
        return withValidator(response, new ContentRange(range.first(), range.last(), completeLength));
    }

    private static boolean lengthsAgree(ResponseHead response, long expected, long bodyLength) {
        List<String> cl = response.headers().all("Content-Length");
        for (String v : cl) {
            if (digits(v.strip(), 0, v.strip().length()) != expected) {
                return false;
            }
        }
        return bodyLength < 0 || bodyLength == expected;
    }

    private static Part withValidator(ResponseHead response, ContentRange cr) {
        if (!response.headers().all("Vary").isEmpty()) {
            return Part.no(Reason.VARY);
        }
        String validator = strongValidator(response);
        if (validator == null) {
            return Part.no(response.headers().contains("ETag") ? Reason.WEAK_ETAG : Reason.NO_STRONG_VALIDATOR);
        }
        return new Part(cr, validator, Reason.PART);
    }

    /** What is held of one representation: its validator, complete length and the held ranges (merged). */
    public record Held(String validator, long completeLength, List<Range> ranges) {
        public Held {
            Objects.requireNonNull(validator, "validator");
            ranges = List.copyOf(ranges);
        }

        /** Total bytes held. */
        public long bytes() {
            long n = 0;
            for (Range r : ranges) {
                n += r.length();
            }
            return n;
        }
    }

    /** What to do with a new part. */
    public enum Action {
        /** Store the part alone (nothing held, or what was held is of another representation: drop it). */
        REPLACE,
        /** Add {@link Combination#added()} to what is held (may be empty: the part was held already). */
        COMBINE,
        /**
         * Drop everything held, store nothing: the same validator with another complete length, or another
         * validator (the representation changed) on a part too large to hold.
         */
        DROP_ALL,
        /** The combination would hold more than allowed: keep what is held (of the same representation), store nothing of the part. */
        TOO_LARGE
    }

    /**
     * The decision: {@code ranges} is what will be held afterwards (merged; empty for DROP_ALL, the held
     * ones for TOO_LARGE), {@code added} the pieces of the part not held yet (disjoint from what stays
     * held; the whole part for REPLACE).
     */
    public record Combination(Action action, List<Range> ranges, List<Range> added) {
        public Combination {
            ranges = List.copyOf(ranges);
            added = List.copyOf(added);
        }

        /** The held ranges cover the whole representation of {@code completeLength} bytes. */
        public boolean complete(long completeLength) {
            return PartialContent.complete(ranges, completeLength);
        }
    }

    /**
     * How {@code part} (which must be {@link Part#ok()}) combines with {@code held} (null: nothing held),
     * holding at most {@code maxHeldBytes} of the representation.
     */
    public static Combination combine(Held held, Part part, long maxHeldBytes) {
        if (!part.ok()) {
            throw new IllegalArgumentException("part: " + part.reason() + " (expected: a storable part)");
        }
        Range r = part.contentRange().range();
        if (held == null || !held.validator().equals(part.validator())) {
            if (r.length() > maxHeldBytes) {
                // The held parts (if any) are of a representation the origin has replaced: never kept beside it.
                return held == null ? new Combination(Action.TOO_LARGE, List.of(), List.of())
                        : new Combination(Action.DROP_ALL, List.of(), List.of());
            }
            return new Combination(Action.REPLACE, List.of(r), List.of(r));
        }
        if (held.completeLength() != part.contentRange().completeLength()) {
            return new Combination(Action.DROP_ALL, List.of(), List.of());
        }
        List<Range> added = missing(held.ranges(), r);
        long more = 0;
        for (Range a : added) {
            more += a.length();
        }
        if (held.bytes() + more > maxHeldBytes) {
            return new Combination(Action.TOO_LARGE, held.ranges(), List.of());
        }
        return new Combination(Action.COMBINE, union(held.ranges(), r), added);
    }

    /** {@code ranges} (sorted, disjoint) with {@code r} added: overlapping and adjacent ranges merged. */
    public static List<Range> union(List<Range> ranges, Range r) {
        List<Range> all = new ArrayList<>(ranges);
        all.add(r);
        all.sort(Comparator.comparingLong(Range::first));
        List<Range> out = new ArrayList<>();
        Range cur = all.get(0);
        for (int i = 1; i < all.size(); i++) {
            Range n = all.get(i);
            if (n.first() <= cur.last() + 1) {
                cur = new Range(cur.first(), Math.max(cur.last(), n.last()));
            } else {
                out.add(cur);
                cur = n;
            }
        }
        out.add(cur);
        return out;
    }

    /** The pieces of {@code r} not inside any of {@code ranges} (sorted, disjoint), in order. */
    public static List<Range> missing(List<Range> ranges, Range r) {
        List<Range> out = new ArrayList<>();
        long next = r.first();
        for (Range h : ranges) {
            if (h.last() < next) {
                continue;
            }
            if (h.first() > r.last()) {
                break;
            }
            if (h.first() > next) {
                out.add(new Range(next, h.first() - 1));
            }
            next = h.last() + 1;
            if (next > r.last()) {
                return out;
            }
        }
        out.add(new Range(next, r.last()));
        return out;
    }

    /** Every byte of {@code r} is held. */
    public static boolean covers(List<Range> ranges, Range r) {
        return missing(ranges, r).isEmpty();
    }

    /** The held ranges are exactly the whole representation {@code 0..completeLength-1}. */
    public static boolean complete(List<Range> ranges, long completeLength) {
        return completeLength > 0 && ranges.size() == 1 && ranges.get(0).first() == 0
                && ranges.get(0).last() == completeLength - 1;
    }

    /**
     * The head of the combined response (§15.3.7.3): the held head with the new part's fields replacing
     * theirs (§3.2 update rules, so Content-Length and Content-Range are never taken over), as a 200 of the
     * whole representation without {@code Content-Range}: the form in which the parts are stored and, once
     * complete, served. {@code held} null: the new part's own fields.
     */
    public static ResponseHead combinedHead(ResponseHead held, ResponseHead part) {
        ResponseHead base = held != null ? Validation.updateHeaders(held, part) : part;
        HttpHeaders h = base.headers().toBuilder().remove("Content-Range").remove("Content-Length").build();
        return ResponseHead.of(200, h);
    }
}
