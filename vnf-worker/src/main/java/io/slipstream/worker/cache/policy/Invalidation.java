package io.slipstream.worker.cache.policy;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Invalidation after unsafe requests (RFC 9111 §4.4). */
public final class Invalidation {

    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    private Invalidation() {
    }

    /**
     * The keys to invalidate after {@code response} to {@code request}: none for a safe method (RFC 9110 §9.2.1)
     * or an error status; otherwise the target URI, and the URIs in {@code Location} and
     * {@code Content-Location} (resolved against the target) when they have the same origin as the target.
     * Unknown methods count as unsafe. Unparseable Location values are ignored.
     */
    public static List<CacheKey> targets(RequestHead request, ResponseHead response) {
        if (SAFE.contains(request.method()) || response.status() < 200 || response.status() >= 400) {
            return List.of();
        }
        List<CacheKey> out = new ArrayList<>(3);
        out.add(CacheKey.of(request));
        for (String field : List.of("Location", "Content-Location")) {
            String value = response.headers().get(field);
            if (value == null) {
                continue;
            }
            URI resolved;
            try {
                resolved = request.uri().resolve(value.strip());
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (CacheKey.sameOrigin(request.uri(), resolved)) {
                CacheKey key = CacheKey.of(resolved);
                if (!out.contains(key)) {
                    out.add(key);
                }
            }
        }
        return List.copyOf(out);
    }
}
