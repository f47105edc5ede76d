package io.slipstream.worker.cache.policy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Validation (RFC 9111 §4.3): building conditional requests, applying a 304 to stored responses, and answering
 * a client's own conditional request from a stored response.
 */
public final class Validation {

    /**
     * Fields a 304 (or a HEAD response, §4.3.5) never overwrites in a stored response (§3.2): those never
     * stored (§3.1), {@code Content-Length}, and the fields that describe the stored bytes and that this cache
     * does not re-derive ({@code Content-Encoding}, {@code Content-Range}).
     */
    static final Set<String> NOT_UPDATED;

    static {
        Set<String> s = new HashSet<>(CacheStrategy.NOT_STORED);
        s.add("content-length");
        s.add("content-encoding");
        s.add("content-range");
        NOT_UPDATED = Set.copyOf(s);
    }

    private Validation() {
    }

    /**
     * The request that validates {@code stored} (§4.3.1): {@code request} with the stored method (so that a
     * 200 can replace the stored response), its own {@code If-None-Match} / {@code If-Modified-Since} replaced
     * by {@code If-None-Match: <ETag>} and {@code If-Modified-Since: <Last-Modified>} from the stored response.
     * Empty when the stored response has neither validator.
     */
    public static Optional<RequestHead> conditionalRequest(RequestHead request, ResponseHead stored) {
        String etag = stored.headers().get("ETag");
        String lastModified = stored.headers().get("Last-Modified");
        if (etag == null && lastModified == null) {
            return Optional.empty();
        }
        HttpHeaders.Builder b = request.headers().toBuilder().remove("If-None-Match").remove("If-Modified-Since");
        if (etag != null) {
            b.add("If-None-Match", etag.strip());
        }
        if (lastModified != null) {
            b.add("If-Modified-Since", lastModified.strip());
        }
        return Optional.of(RequestHead.of("GET", request.uri(), b.build()));
    }

    /**
     * {@code stored} with its header fields updated from {@code update} (§3.2): every field in the update
     * replaces all lines of that field in the stored response (in place of the first one), new fields are
     * appended, and the fields in {@link #NOT_UPDATED} and those named by the update's {@code Connection} are
     * left as stored. The status stays the stored one.
     */
    public static ResponseHead updateHeaders(ResponseHead stored, ResponseHead update) {
        Set<String> skip = new HashSet<>(NOT_UPDATED);
        for (String line : update.headers().all("Connection")) {
            for (String name : line.split(",")) {
                skip.add(name.strip().toLowerCase(Locale.ROOT));
            }
        }
        Map<String, List<String[]>> replacements = new LinkedHashMap<>();
        for (String[] line : update.headers().lines()) {
            String key = line[0].toLowerCase(Locale.ROOT);
            if (!skip.contains(key)) {
                replacements.computeIfAbsent(key, k -> new ArrayList<>()).add(line);
            }
        }
        HttpHeaders.Builder b = HttpHeaders.builder();
        Set<String> done = new HashSet<>();
        for (String[] line : stored.headers().lines()) {
            String key = line[0].toLowerCase(Locale.ROOT);
            List<String[]> replacement = replacements.get(key);
            if (replacement == null) {
                b.add(line[0], line[1]);
            } else if (done.add(key)) {
                replacement.forEach(r -> b.add(r[0], r[1]));
            }
        }
        replacements.forEach((key, lines) -> {
            if (done.add(key)) {
                lines.forEach(r -> b.add(r[0], r[1]));
            }
        });
        return stored.withHeaders(b.build());
    }

    /**
     * The stored responses a 304 applies to (§4.3.4): with a strong {@code ETag} in the 304, every candidate
     * with the same strong ETag; else with a weak ETag or a {@code Last-Modified}, the most recent candidate
     * whose validator matches (weak comparison); else, with no validator, the only candidate if it has none
     * either. An empty result means the 304 updates nothing and the request must be retried unconditionally.
     */
    public static List<StoredResponse> notModifiedTargets(ResponseHead notModified, List<StoredResponse> candidates) {
        String etag = notModified.headers().get("ETag");
        String lastModified = notModified.headers().get("Last-Modified");
        List<StoredResponse> out = new ArrayList<>();
        if (etag != null && !isWeak(etag)) {
            for (StoredResponse c : candidates) {
                if (strongMatch(etag, c.response().headers().get("ETag"))) {
                    out.add(c);
                }
            }
            return List.copyOf(out);
        }
        if (etag != null || lastModified != null) {
            for (StoredResponse c : candidates) {
                boolean matches = etag != null
                        ? weakMatch(etag, c.response().headers().get("ETag"))
                        : sameDate(lastModified, c.response().headers().get("Last-Modified"));
                if (matches) {
                    out.add(c);
                }
            }
            return out.stream()
                    .max(Comparator.comparing(StoredResponse::date).thenComparing(StoredResponse::responseTime))
                    .map(List::of).orElse(List.of());
        }
        if (candidates.size() == 1 && !candidates.get(0).response().headers().contains("ETag")
                && !candidates.get(0).response().headers().contains("Last-Modified")) {
            return List.of(candidates.get(0));
        }
        return List.of();
    }

    /**
     * {@code stored} freshened by a 304 (§4.3.4): headers updated as {@link #updateHeaders}, and request and
     * response times replaced by those of the validation exchange, so that its age restarts from the 304.
     */
    public static StoredResponse freshen(StoredResponse stored, ResponseHead notModified, Instant requestTime,
                                         Instant responseTime) {
        return StoredResponse.of(stored.request(), updateHeaders(stored.response(), notModified), requestTime,
                responseTime);
    }

    /**
     * Whether a 200 response to HEAD may update {@code stored} (a GET response with {@code storedLength}
     * content bytes) as a 304 would (§4.3.5): every validator the HEAD response carries ({@code ETag},
     * {@code Last-Modified}) has the same value in the stored response, and its {@code Content-Length}, if
     * any, equals the stored length. When this is false for a 200 the stored response is to be considered
     * stale; other statuses update nothing.
     */
    public static boolean headUpdates(ResponseHead head, ResponseHead stored, long storedLength) {
        if (head.status() != 200) {
            return false;
        }
        for (String validator : List.of("ETag", "Last-Modified")) {
            List<String> received = head.headers().all(validator);
            if (received.isEmpty()) {
                continue;
            }
            List<String> have = stored.headers().all(validator);
            if (received.size() != 1 || have.size() != 1 || !received.get(0).strip().equals(have.get(0).strip())) {
                return false;
            }
        }
        List<String> lengths = head.headers().all("Content-Length");
        if (lengths.isEmpty()) {
            return true;
        }
        if (lengths.size() != 1) {
            return false;
        }
        String length = lengths.get(0).strip();
        return !length.isEmpty() && length.length() <= 18 && length.chars().allMatch(c -> c >= '0' && c <= '9')
                && Long.parseLong(length) == storedLength;
    }

    /**
     * Whether a client's conditional GET or HEAD can be answered 304 from {@code stored} (§4.3.2, RFC 9110
     * §13.1): {@code If-None-Match} - {@code *} or any listed entity-tag weakly matching the stored ETag;
     * without If-None-Match, {@code If-Modified-Since} - the stored Last-Modified (or Date) not after it.
     */
    public static boolean notModified(RequestHead request, ResponseHead stored) {
        if (!request.isGetOrHead()) {
            return false;
        }
        String ifNoneMatch = request.headers().combined("If-None-Match");
        if (ifNoneMatch != null) {
            String etag = stored.headers().get("ETag");
            for (String candidate : ifNoneMatch.split(",")) {
                String c = candidate.strip();
                if (c.equals("*") || etag != null && weakMatch(c, etag)) {
                    return true;
                }
            }
            return false;
        }
        Instant since = HttpDates.parse(request.headers().get("If-Modified-Since"));
        if (since == null) {
            return false;
        }
        Instant modified = HttpDates.parse(stored.headers().get("Last-Modified"));
        if (modified == null) {
            modified = HttpDates.parse(stored.headers().get("Date"));
        }
        return modified != null && !modified.isAfter(since);
    }

    /** Strong comparison (RFC 9110 §8.8.3.2): both strong and identical. */
    public static boolean strongMatch(String a, String b) {
        return a != null && b != null && !isWeak(a) && !isWeak(b) && a.strip().equals(b.strip());
    }

    /** Weak comparison (RFC 9110 §8.8.3.2): identical opaque tags, either or both may be weak. */
    public static boolean weakMatch(String a, String b) {
        return a != null && b != null && opaque(a).equals(opaque(b));
    }

    private static boolean isWeak(String etag) {
        return etag.strip().startsWith("W/");
    }

    private static String opaque(String etag) {
        String s = etag.strip();
        return s.startsWith("W/") ? s.substring(2) : s;
    }

    private static boolean sameDate(String a, String b) {
        Instant x = HttpDates.parse(a);
        return x != null && x.equals(HttpDates.parse(b));
    }
}
