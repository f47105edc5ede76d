package io.slipstream.worker.cache.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parsed {@code Cache-Control} directives (RFC 9111 §5.2) of one message, request or response.
 *
 * <p>Grammar (§5.2, RFC 9110 §5.6): a comma-separated list of {@code token [ "=" ( token / quoted-string ) ]};
 * all field lines are read as one list; directive names are case-insensitive; commas inside quoted strings
 * do not split; backslash escapes in quoted strings are honoured; empty list members are skipped. Both the
 * token and the quoted form of an argument are accepted (§5.2: "a recipient SHOULD accept both").
 *
 * <p>Invalid and duplicate arguments are resolved conservatively, as §4.2.1 encourages:
 * <ul>
 *   <li>{@code max-age}, {@code s-maxage}: an invalid argument (missing, negative, non-numeric), or two
 *       occurrences with different values, yield {@code 0} — the message is treated as already stale.
 *       Equal duplicates are harmless.</li>
 *   <li>{@code max-stale}, {@code stale-while-revalidate}, {@code stale-if-error} (permissions to use stale
 *       responses): invalid occurrences are ignored; among several valid ones the smallest wins.
 *       {@code max-stale} without an argument means any staleness ({@link #ANY}).</li>
 *   <li>{@code min-fresh}: invalid occurrences are ignored; among several valid ones the largest wins.</li>
 *   <li>Arguments larger than 2^31 become 2^31 (§1.2.2).</li>
 *   <li>{@code no-cache} and {@code private} with a field-name list are treated as the unqualified
 *       directives (a deliberate simplification that §5.2.2.4 and §5.2.2.7 allow: "MAY ... as if unqualified"
 *       for private; for no-cache the qualified form only permits more reuse, so refusing it is safe).</li>
 * </ul>
 * Accessors for delta-seconds directives return {@link #ABSENT} when the directive is not present.
 */
public final class CacheControl {

    /** Returned by delta-seconds accessors when the directive is absent. */
    public static final long ABSENT = -1;

    /** {@link #maxStale()} of a bare {@code max-stale}: any staleness is acceptable. */
    public static final long ANY = Long.MAX_VALUE;

    private static final CacheControl NONE = new CacheControl(Map.of());

    private final Map<String, List<String>> directives;

    private CacheControl(Map<String, List<String>> directives) {
        this.directives = directives;
    }

    /** The directives of all {@code Cache-Control} field lines of {@code headers}. */
    public static CacheControl of(HttpHeaders headers) {
        return parse(headers.all("Cache-Control"));
    }

    /** Parses one field value. */
    public static CacheControl parse(String fieldValue) {
        return fieldValue == null ? NONE : parse(List.of(fieldValue));
    }

    /** Parses several field lines as one list. */
    public static CacheControl parse(List<String> fieldLines) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String line : fieldLines) {
            parseInto(line, out);
        }
        if (out.isEmpty()) {
            return NONE;
        }
        out.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return new CacheControl(Collections.unmodifiableMap(out));
    }

    private static void parseInto(String s, Map<String, List<String>> out) {
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && (s.charAt(i) == ',' || isWhitespace(s.charAt(i)))) {
                i++;
            }
            int nameStart = i;
            while (i < n && s.charAt(i) != ',' && s.charAt(i) != '=' && !isWhitespace(s.charAt(i))) {
                i++;
            }
            String name = s.substring(nameStart, i).toLowerCase(Locale.ROOT);
            while (i < n && isWhitespace(s.charAt(i))) {
                i++;
            }
            String value = null;
            if (i < n && s.charAt(i) == '=') {
                i++;
                while (i < n && isWhitespace(s.charAt(i))) {
                    i++;
                }
                if (i < n && s.charAt(i) == '"') {
                    StringBuilder sb = new StringBuilder();
                    i++;
                    while (i < n && s.charAt(i) != '"') {
                        if (s.charAt(i) == '\\' && i + 1 < n) {
                            i++;
                        }
                        sb.append(s.charAt(i++));
                    }
                    if (i < n) {
                        i++; // closing quote; an unterminated string runs to the end
                    }
                    value = sb.toString();
                    // Anything between the closing quote and the next comma is kept, so that it invalidates a number.
                    int garbageStart = i;
                    while (i < n && s.charAt(i) != ',') {
                        i++;
                    }
                    value = value + s.substring(garbageStart, i).strip();
                } else {
                    int valueStart = i;
                    while (i < n && s.charAt(i) != ',') {
                        i++;
                    }
                    value = s.substring(valueStart, i).strip();
                }
            } else {
                // Skip anything up to the next comma: "no-store garbage" keeps no-store, drops the garbage.
                while (i < n && s.charAt(i) != ',') {
                    i++;
                }
            }
            if (!name.isEmpty()) {
                out.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
            }
        }
    }

    private static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t';
    }

    /** Whether the directive {@code name} (any case) is present, with or without an argument. */
    public boolean has(String name) {
        return directives.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /** The arguments of every occurrence of {@code name}; {@code null} entries for occurrences without one. */
    public List<String> arguments(String name) {
        return directives.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    /** All directives, names lower-cased, in first-seen order. */
    public Map<String, List<String>> directives() {
        return directives;
    }

    public boolean isEmpty() {
        return directives.isEmpty();
    }

    public boolean noStore() {
        return has("no-store");
    }

    /** {@code no-cache}, qualified or not (a qualified one is treated as unqualified). */
    public boolean noCache() {
        return has("no-cache");
    }

    /** {@code private}, qualified or not (a qualified one is treated as unqualified). */
    public boolean isPrivate() {
        return has("private");
    }

    public boolean isPublic() {
        return has("public");
    }

    public boolean mustRevalidate() {
        return has("must-revalidate");
    }

    public boolean proxyRevalidate() {
        return has("proxy-revalidate");
    }

    public boolean mustUnderstand() {
        return has("must-understand");
    }

    public boolean onlyIfCached() {
        return has("only-if-cached");
    }

    public boolean noTransform() {
        return has("no-transform");
    }

    /** {@code max-age} in seconds; 0 when invalid or conflicting; {@link #ABSENT} when absent. */
    public long maxAge() {
        return strictDelta("max-age");
    }

    /** {@code s-maxage} in seconds; 0 when invalid or conflicting; {@link #ABSENT} when absent. */
    public long sMaxAge() {
        return strictDelta("s-maxage");
    }

    /** {@code max-stale}: {@link #ANY} without argument, else the smallest valid argument, else {@link #ABSENT}. */
    public long maxStale() {
        List<String> args = arguments("max-stale");
        if (args.isEmpty()) {
            return ABSENT;
        }
        long smallest = ABSENT;
        boolean bare = false;
        for (String a : args) {
            if (a == null) {
                bare = true;
                continue;
            }
            long v = DeltaSeconds.parse(a);
            if (v != DeltaSeconds.INVALID && (smallest == ABSENT || v < smallest)) {
                smallest = v;
            }
        }
        return smallest != ABSENT ? smallest : bare ? ANY : ABSENT;
    }

    /** {@code min-fresh}: the largest valid argument, or {@link #ABSENT}. */
    public long minFresh() {
        long largest = ABSENT;
        for (String a : arguments("min-fresh")) {
            long v = DeltaSeconds.parse(a);
            if (v != DeltaSeconds.INVALID && v > largest) {
                largest = v;
            }
        }
        return largest;
    }

    /** {@code stale-while-revalidate} (RFC 5861 §3): the smallest valid argument, or {@link #ABSENT}. */
    public long staleWhileRevalidate() {
        return smallestValid("stale-while-revalidate");
    }

    /** {@code stale-if-error} (RFC 5861 §4): the smallest valid argument, or {@link #ABSENT}. */
    public long staleIfError() {
        return smallestValid("stale-if-error");
    }

    private long smallestValid(String name) {
        long smallest = ABSENT;
        for (String a : arguments(name)) {
            long v = DeltaSeconds.parse(a);
            if (v != DeltaSeconds.INVALID && (smallest == ABSENT || v < smallest)) {
                smallest = v;
            }
        }
        return smallest;
    }

    private long strictDelta(String name) {
        List<String> args = arguments(name);
        if (args.isEmpty()) {
            return ABSENT;
        }
        long first = DeltaSeconds.parse(args.get(0));
        for (String a : args) {
            long v = DeltaSeconds.parse(a);
            if (v == DeltaSeconds.INVALID || v != first) {
                return 0;
            }
        }
        return first;
    }

    @Override
    public String toString() {
        return directives.toString();
    }
}
