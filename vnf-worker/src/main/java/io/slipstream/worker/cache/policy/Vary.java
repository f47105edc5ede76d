package io.slipstream.worker.cache.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The {@code Vary} of a stored response and the secondary cache key it implies (RFC 9111 §4.1).
 *
 * <p>A stored response matches a new request only if, for every field named in {@code Vary}, the normalised
 * value in the new request equals the normalised value in the request that produced the stored response;
 * a field absent from both matches, absent from one only does not; {@code Vary: *} never matches.
 *
 * <p>Normalisation of a request field's value (§4.1 allows "normalizing both header field values in a way
 * that is known to have identical semantics"):
 * <ul>
 *   <li>every field: each field line is trimmed of leading/trailing whitespace and the lines are joined with
 *       {@code ", "} (RFC 9110 §5.3); absent is distinct from empty;</li>
 *   <li>{@code Accept}, {@code Accept-Charset}, {@code Accept-Encoding}, {@code Accept-Language}
 *       (case-insensitive list fields): additionally lower-cased, split into list members, each member trimmed,
 *       whitespace around {@code ;} and {@code =} removed, empty members dropped, rejoined with {@code ,};</li>
 *   <li>{@code Accept-Encoding} only: members also de-duplicated and sorted, since their order carries no
 *       meaning (preference is by q-value). Other Accept-* keep member order.</li>
 * </ul>
 * Nothing else is normalised (no q-value reinterpretation, no {@code identity} defaulting).
 */
public final class Vary {

    private static final Vary NONE = new Vary(false, List.of());
    private static final Vary ANY = new Vary(true, List.of());
    private static final Set<String> CASE_INSENSITIVE_LISTS =
            Set.of("accept", "accept-charset", "accept-encoding", "accept-language");

    private final boolean any;
    private final List<String> fieldNames;

    private Vary(boolean any, List<String> fieldNames) {
        this.any = any;
        this.fieldNames = fieldNames;
    }

    /** The Vary of {@code response}: all its Vary field lines, names lower-cased and de-duplicated. */
    public static Vary of(ResponseHead response) {
        Set<String> names = new LinkedHashSet<>();
        for (String line : response.headers().all("Vary")) {
            for (String member : line.split(",", -1)) {
                String name = member.strip().toLowerCase(Locale.ROOT);
                if (name.equals("*")) {
                    return ANY;
                }
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
        }
        return names.isEmpty() ? NONE : new Vary(false, List.copyOf(names));
    }

    /** Whether the response has {@code Vary: *}. */
    public boolean isAny() {
        return any;
    }

    /** The varied field names, lower-cased, in first-seen order; empty for none and for {@code *}. */
    public List<String> fieldNames() {
        return fieldNames;
    }

    /**
     * The secondary key of a request with {@code requestHeaders}: field name to normalised value
     * ({@code null} value when absent), sorted by name.
     *
     * @throws IllegalStateException for {@code Vary: *}, which has no secondary key
     */
    public Map<String, String> secondaryKey(HttpHeaders requestHeaders) {
        if (any) {
            throw new IllegalStateException("Vary: * has no secondary key (such a response never matches)");
        }
        Map<String, String> key = new TreeMap<>();
        for (String name : fieldNames) {
            key.put(name, normalise(name, requestHeaders.all(name)));
        }
        return Collections.unmodifiableMap(key);
    }

    /** Whether a response stored for a request with {@code storedRequestHeaders} matches {@code newRequestHeaders}. */
    public boolean matches(HttpHeaders storedRequestHeaders, HttpHeaders newRequestHeaders) {
        return !any && secondaryKey(storedRequestHeaders).equals(secondaryKey(newRequestHeaders));
    }

    /** Only the varied fields of {@code requestHeaders} — what a store must keep of the original request. */
    public HttpHeaders retain(HttpHeaders requestHeaders) {
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (String[] line : requestHeaders.lines()) {
            if (fieldNames.contains(line[0].toLowerCase(Locale.ROOT))) {
                b.add(line[0], line[1]);
            }
        }
        return b.build();
    }

    /** The normalised value of field {@code name} given its field lines, or {@code null} when there are none. */
    public static String normalise(String name, List<String> fieldLines) {
        if (fieldLines.isEmpty()) {
            return null;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        List<String> trimmed = new ArrayList<>(fieldLines.size());
        for (String line : fieldLines) {
            trimmed.add(line.strip());
        }
        String joined = String.join(", ", trimmed);
        if (!CASE_INSENSITIVE_LISTS.contains(lower)) {
            return joined;
        }
        List<String> members = new ArrayList<>();
        for (String member : joined.toLowerCase(Locale.ROOT).split(",")) {
            String m = member.strip().replaceAll("\\s*([;=])\\s*", "$1");
            if (!m.isEmpty()) {
                members.add(m);
            }
        }
        if (lower.equals("accept-encoding")) {
            members = new ArrayList<>(new TreeSet<>(members));
        }
        return String.join(",", members);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vary && ((Vary) o).any == any && ((Vary) o).fieldNames.equals(fieldNames);
    }

    @Override
    public int hashCode() {
        return Objects.hash(any, fieldNames);
    }

    @Override
    public String toString() {
        return any ? "Vary: *" : "Vary: " + String.join(", ", fieldNames);
    }
}
