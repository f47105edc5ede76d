package io.slipstream.worker.cache.policy;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.greenbytes.http.sfv.BooleanItem;
import org.greenbytes.http.sfv.Dictionary;
import org.greenbytes.http.sfv.IntegerItem;
import org.greenbytes.http.sfv.ListElement;
import org.greenbytes.http.sfv.Parser;

/**
 * Targeted cache-control fields (RFC 9213): a cache with a target list (most specific first, e.g.
 * {@code Slipstream-Cache-Control}, then {@code CDN-Cache-Control}) uses the first listed field with a
 * valid, non-empty value instead of {@code Cache-Control} and {@code Expires} (§2.1). The fields are RFC
 * 8941 Dictionaries (§2.2); one that does not parse, or is empty, is ignored as if absent. Pure functions.
 *
 * <p>Directives keep their Cache-Control meaning (RFC 9111 §5.2): a Boolean {@code true} member is the bare
 * directive, {@code false} leaves it out; the delta-seconds directives take a non-negative Integer, anything
 * else (a String, a Decimal, an Inner List, a negative number) makes that directive invalid, which
 * {@link CacheControl} resolves conservatively (e.g. an invalid {@code max-age} is 0); the argument of any
 * other directive is dropped (qualified {@code private}/{@code no-cache} are treated as unqualified anyway).
 * Parameters are ignored.
 */
public final class TargetedCacheControl {

    /** The target every CDN-like shared cache has (RFC 9213 §3.1). */
    public static final String CDN = "CDN-Cache-Control";

    private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");
    private static final Set<String> DELTA_SECONDS = Set.of("max-age", "s-maxage", "stale-while-revalidate",
            "stale-if-error", "max-stale", "min-fresh");

    private TargetedCacheControl() {
    }

    /**
     * Checks a target list: field names (tokens of at most 64 characters), not {@code Cache-Control} itself,
     * no duplicates (case-insensitive).
     *
     * @throws IllegalArgumentException naming the first bad entry
     */
    public static List<String> checkTargets(List<String> targets) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String t : targets) {
            if (t == null || !FIELD_NAME.matcher(t).matches()) {
                throw new IllegalArgumentException("cache target: '" + t
                        + "' (expected: a header field name, e.g. Slipstream-Cache-Control)");
            }
            if (t.equalsIgnoreCase("Cache-Control")) {
                throw new IllegalArgumentException("cache target: '" + t
                        + "' (expected: a targeted field, not Cache-Control itself)");
            }
            if (!seen.add(t.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("cache target: '" + t + "' listed twice");
            }
        }
        return List.copyOf(targets);
    }

    /**
     * The Cache-Control value equivalent to the first field of {@code targets} in {@code headers} with a
     * valid, non-empty Dictionary value (several lines of one field are one value, RFC 8941 §4.2), or
     * {@code null} when there is none (then Cache-Control and Expires apply as usual).
     */
    public static String select(HttpHeaders headers, List<String> targets) {
        for (String target : targets) {
            List<String> lines = headers.all(target);
            if (lines.isEmpty()) {
                continue;
            }
            String value = toCacheControl(lines);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    /**
     * {@code response} as this cache must read it: when a target applies, with its Cache-Control replaced
     * by the target's directives and without Expires; else unchanged.
     */
    public static ResponseHead apply(ResponseHead response, List<String> targets) {
        if (targets.isEmpty()) {
            return response;
        }
        String value = select(response.headers(), targets);
        if (value == null) {
            return response;
        }
        HttpHeaders.Builder b = response.headers().toBuilder().remove("Cache-Control").remove("Expires");
        if (!value.isEmpty()) {
            b.add("Cache-Control", value);
        }
        return response.withHeaders(b.build());
    }

    /** The Cache-Control value for a Dictionary made of {@code lines}, or null when it is invalid or empty. */
    static String toCacheControl(List<String> lines) {
        Map<String, ListElement<? extends Object>> members;
        try {
            Dictionary d = new Parser(lines).parseDictionary();
            members = d.get();
        } catch (IllegalArgumentException e) {
            return null; // ParseException: the field is ignored (RFC 9213 §2.2)
        }
        if (members.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, ListElement<? extends Object>> m : members.entrySet()) {
            String name = m.getKey();
            ListElement<? extends Object> v = m.getValue();
            String directive;
            if (v instanceof BooleanItem) {
                directive = ((BooleanItem) v).get() ? name : null;
            } else if (DELTA_SECONDS.contains(name)) {
                directive = v instanceof IntegerItem && ((IntegerItem) v).getAsLong() >= 0
                        ? name + "=" + ((IntegerItem) v).getAsLong()
                        : name + "=invalid";
            } else {
                directive = name;
            }
            if (directive != null) {
                sb.append(sb.length() == 0 ? "" : ", ").append(directive);
            }
        }
        return sb.toString();
    }
}
