package io.slipstream.worker.cache.policy;

import io.slipstream.worker.cache.policy.Lookup.Action;
import io.slipstream.worker.cache.policy.Storability.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The HTTP caching decision (RFC 9111, RFC 5861) as a pure function of (request, stored response, now), in
 * the shape of OkHttp's {@code CacheStrategy}: no I/O, no clock of its own. Immutable and thread-safe.
 *
 * <p>Configuration: whether the cache is shared (default: yes, a proxy), and the heuristic freshness fraction
 * (default 10% of the time since {@code Last-Modified}, §4.2.2) and its cap (default 24 hours).
 */
public final class CacheStrategy {

    /** Status codes heuristically cacheable (RFC 9110 §15.1), without 206: this cache does not store ranges. */
    static final Set<Integer> HEURISTICALLY_CACHEABLE = Set.of(200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501);

    /** Status codes whose caching semantics this cache implements, for {@code must-understand} (§5.2.2.3). */
    static final Set<Integer> UNDERSTOOD;

    static {
        Set<Integer> s = new HashSet<>(List.of(200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308,
                421, 422, 426, 500, 501, 502, 503, 504, 505));
        for (int i = 400; i <= 417; i++) {
            s.add(i);
        }
        UNDERSTOOD = Set.copyOf(s);
    }

    /** Hop-by-hop and proxy-specific fields that are never stored (§3.1, RFC 9110 §7.6.1). */
    static final Set<String> NOT_STORED = Set.of("connection", "keep-alive", "proxy-connection", "te",
            "transfer-encoding", "upgrade", "proxy-authenticate", "proxy-authentication-info", "proxy-authorization");

    private static final CacheStrategy SHARED = builder().build();

    private final boolean shared;
    private final double heuristicFraction;
    private final Duration heuristicMax;
    private final List<String> targets;

    private CacheStrategy(Builder b) {
        this.shared = b.shared;
        this.heuristicFraction = b.heuristicFraction;
        this.heuristicMax = b.heuristicMax;
        List<String> t = new ArrayList<>(b.targets);
        if (b.shared) {
            t.add(TargetedCacheControl.CDN);
        }
        this.targets = TargetedCacheControl.checkTargets(t);
    }

    /**
     * The targeted cache-control fields this cache obeys, first match wins (RFC 9213): the configured own
     * ones, then {@code CDN-Cache-Control} for a shared cache; none for a private one.
     */
    public List<String> targets() {
        return targets;
    }

    /**
     * {@code response} as this cache reads it: Cache-Control and Expires replaced by the first targeted
     * field with a valid, non-empty value ({@link TargetedCacheControl#apply}). Every decision here reads
     * responses through this; what is stored and forwarded keeps the original fields.
     */
    public ResponseHead policyView(ResponseHead response) {
        return TargetedCacheControl.apply(response, targets);
    }

    /** A shared cache with the default heuristics: what the cache worker is. */
    public static CacheStrategy shared() {
        return SHARED;
    }

    public static Builder builder() {
        return new Builder();
    }

    public boolean isShared() {
        return shared;
    }

    // ---------------------------------------------------------------------------------------------- storing

    /**
     * Whether {@code response} to {@code request} may be stored (RFC 9111 §3), checked in this order: method
     * GET or HEAD; final status; 206 and 304 are not stored; request {@code no-store} (§5.2.1.5);
     * {@code must-understand} (§5.2.2.3: unknown status - not stored, known status - {@code no-store} ignored);
     * response {@code no-store} (§5.2.2.5); {@code private} in a shared cache (§5.2.2.7); {@code Authorization}
     * in a shared cache without {@code public}, {@code s-maxage} or {@code must-revalidate} (§3.5);
     * {@code Vary: *} (§4.1); and finally at least one of explicit freshness ({@code max-age}, {@code s-maxage}
     * when shared, {@code Expires} - even an invalid one), {@code public}, {@code private} in a private cache,
     * or a heuristically cacheable status.
     */
    public Storability storable(RequestHead request, ResponseHead response) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(response, "response");
        if (!request.isGetOrHead()) {
            return Storability.of(Reason.METHOD_NOT_CACHEABLE);
        }
        int status = response.status();
        if (status < 200) {
            return Storability.of(Reason.STATUS_NOT_FINAL);
        }
        if (status == 206 || status == 304) {
            return Storability.of(Reason.STATUS_NOT_SUPPORTED);
        }
        response = policyView(response);
        CacheControl req = CacheControl.of(request.headers());
        CacheControl res = CacheControl.of(response.headers());
        if (req.noStore()) {
            return Storability.of(Reason.REQUEST_NO_STORE);
        }
        if (res.mustUnderstand()) {
            if (!UNDERSTOOD.contains(status)) {
                return Storability.of(Reason.MUST_UNDERSTAND_UNKNOWN_STATUS);
            }
        } else if (res.noStore()) {
            return Storability.of(Reason.RESPONSE_NO_STORE);
        }
        if (shared && res.isPrivate()) {
            return Storability.of(Reason.PRIVATE);
        }
        if (shared && request.headers().contains("Authorization")
                && !(res.isPublic() || res.sMaxAge() != CacheControl.ABSENT || res.mustRevalidate())) {
            return Storability.of(Reason.AUTHORIZATION);
        }
        if (Vary.of(response).isAny()) {
            return Storability.of(Reason.VARY_ANY);
        }
        if (res.maxAge() != CacheControl.ABSENT || shared && res.sMaxAge() != CacheControl.ABSENT
                || response.headers().contains("Expires")) {
            return Storability.of(Reason.EXPLICIT_FRESHNESS);
        }
        if (res.isPublic()) {
            return Storability.of(Reason.PUBLIC);
        }
        if (!shared && res.isPrivate()) {
            return Storability.of(Reason.PRIVATE_IN_PRIVATE_CACHE);
        }
        if (HEURISTICALLY_CACHEABLE.contains(status)) {
            return Storability.of(Reason.HEURISTICALLY_CACHEABLE_STATUS);
        }
        return Storability.of(Reason.NOT_CACHEABLE);
    }

    /**
     * The headers to store with a response: without the fields that §3.1 excludes - {@code Connection} and
     * the fields it names, {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}, {@code Transfer-Encoding},
     * {@code Upgrade}, {@code Proxy-Authenticate}, {@code Proxy-Authentication-Info}, {@code Proxy-Authorization}.
     */
    public static ResponseHead forStorage(ResponseHead response) {
        Set<String> drop = new HashSet<>(NOT_STORED);
        for (String line : response.headers().all("Connection")) {
            for (String name : line.split(",")) {
                drop.add(name.strip().toLowerCase(Locale.ROOT));
            }
        }
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (String[] line : response.headers().lines()) {
            if (!drop.contains(line[0].toLowerCase(Locale.ROOT))) {
                b.add(line[0], line[1]);
            }
        }
        return response.withHeaders(b.build());
    }

    // -------------------------------------------------------------------------------------- freshness, age

    /**
     * The freshness lifetime of {@code stored} (RFC 9111 §4.2.1), first rule that applies:
     * {@code s-maxage} in a shared cache; {@code max-age}; {@code Expires} minus {@code Date} (Date, or
     * response_time when Date is absent or invalid; an invalid Expires such as {@code 0}, or several
     * different Expires lines, mean already expired, §5.3 and §4.2.1); heuristic (§4.2.2): when the status is
     * heuristically cacheable or the response is {@code public}, and {@code Last-Modified} is valid and before
     * Date: {@code fraction * (Date - Last-Modified)}, capped; otherwise zero.
     */
    public Freshness freshness(StoredResponse stored) {
        ResponseHead response = policyView(stored.response());
        CacheControl cc = CacheControl.of(response.headers());
        if (shared && cc.sMaxAge() != CacheControl.ABSENT) {
            return Freshness.of(Duration.ofSeconds(cc.sMaxAge()), Freshness.Source.S_MAXAGE);
        }
        if (cc.maxAge() != CacheControl.ABSENT) {
            return Freshness.of(Duration.ofSeconds(cc.maxAge()), Freshness.Source.MAX_AGE);
        }
        Instant date = stored.date();
        List<String> expires = response.headers().all("Expires");
        if (!expires.isEmpty()) {
            Instant at = HttpDates.parse(expires.get(0));
            if (at == null || expires.stream().distinct().count() > 1) {
                return Freshness.of(Duration.ZERO, Freshness.Source.EXPIRES);
            }
            return Freshness.of(Duration.between(date, at), Freshness.Source.EXPIRES);
        }
        if (HEURISTICALLY_CACHEABLE.contains(response.status()) || cc.isPublic()) {
            Instant lastModified = HttpDates.parse(response.headers().get("Last-Modified"));
            if (lastModified != null && lastModified.isBefore(date)) {
                long millis = (long) (Duration.between(lastModified, date).toMillis() * heuristicFraction);
                Duration lifetime = Duration.ofMillis(millis);
                return Freshness.of(lifetime.compareTo(heuristicMax) > 0 ? heuristicMax : lifetime,
                        Freshness.Source.HEURISTIC);
            }
        }
        return Freshness.of(Duration.ZERO, Freshness.Source.NONE);
    }

    /**
     * The current age of {@code stored} at {@code now} (RFC 9111 §4.2.3):
     * <pre>
     *   apparent_age = max(0, response_time - date_value)
     *   response_delay = response_time - request_time
     *   corrected_age_value = age_value + response_delay
     *   corrected_initial_age = max(apparent_age, corrected_age_value)
     *   resident_time = now - response_time
     *   current_age = corrected_initial_age + resident_time
     * </pre>
     * {@code age_value} is the first member of the {@code Age} header; an invalid one is ignored (0) as §5.1
     * says. {@code date_value} is response_time when Date is absent or invalid. A {@code now} before
     * response_time counts as no resident time.
     */
    public static Duration currentAge(StoredResponse stored, Instant now) {
        Duration apparentAge = max(Duration.ZERO, Duration.between(stored.date(), stored.responseTime()));
        Duration responseDelay = Duration.between(stored.requestTime(), stored.responseTime());
        Duration correctedAgeValue = Duration.ofSeconds(ageValue(stored.response())).plus(responseDelay);
        Duration correctedInitialAge = max(apparentAge, correctedAgeValue);
        Duration residentTime = max(Duration.ZERO, Duration.between(stored.responseTime(), now));
        return correctedInitialAge.plus(residentTime);
    }

    /** The {@code Age} field value for a response of this age (§5.1): whole seconds, at most 2^31. */
    public static String ageHeaderValue(Duration age) {
        return Long.toString(Math.min(Math.max(0, age.getSeconds()), DeltaSeconds.MAX));
    }

    /** The {@code Age} field value to send when serving {@code stored} at {@code now}. */
    public static String ageHeaderValue(StoredResponse stored, Instant now) {
        return ageHeaderValue(currentAge(stored, now));
    }

    private static long ageValue(ResponseHead response) {
        String age = response.headers().get("Age");
        if (age == null) {
            return 0;
        }
        int comma = age.indexOf(',');
        long v = DeltaSeconds.parse((comma >= 0 ? age.substring(0, comma) : age).strip());
        return v == DeltaSeconds.INVALID ? 0 : v;
    }

    // ---------------------------------------------------------------------------------------------- reusing

    /**
     * Chooses, among the responses stored under a request's primary key, the one that may answer it (§4.1):
     * method-compatible (a stored GET answers GET and HEAD, a stored HEAD only HEAD), matching every Vary
     * field, and, among several, the most recent by {@code Date} (then by response_time). {@code null} if none.
     */
    public StoredResponse select(RequestHead request, List<StoredResponse> candidates) {
        List<StoredResponse> usable = new ArrayList<>();
        for (StoredResponse c : candidates) {
            if (methodCompatible(request, c) && Vary.of(c.response()).matches(c.request().headers(), request.headers())) {
                usable.add(c);
            }
        }
        return usable.stream()
                .max(Comparator.comparing(StoredResponse::date).thenComparing(StoredResponse::responseTime))
                .orElse(null);
    }

    /**
     * What to do with {@code request} given {@code stored} (may be {@code null}) at {@code now}.
     *
     * <ol>
     *   <li>Only GET and HEAD are answered from the cache; anything else is a MISS (§4).</li>
     *   <li>Nothing stored, a method mismatch, or a Vary mismatch (§4.1): MISS.</li>
     *   <li>Request {@code no-cache} (§5.2.1.4; also {@code Pragma: no-cache} when the request has no
     *       Cache-Control, §5.4) or response {@code no-cache} (§5.2.2.4): REVALIDATE.</li>
     *   <li>Request {@code max-age} (§5.2.1.1) smaller than the current age: REVALIDATE.</li>
     *   <li>Fresh (lifetime &gt; age, §4.2): FRESH unless request {@code min-fresh} (§5.2.1.3) is not met.</li>
     *   <li>Stale, and {@code must-revalidate} (§5.2.2.2) or, shared, {@code proxy-revalidate} (§5.2.2.8),
     *       or request {@code min-fresh}: REVALIDATE.</li>
     *   <li>Stale by no more than response {@code stale-while-revalidate} (RFC 5861 §3):
     *       STALE_WHILE_REVALIDATE.</li>
     *   <li>Stale by no more than request {@code max-stale} (§5.2.1.2), unless a shared cache sees
     *       {@code s-maxage} (which implies proxy-revalidate, §5.2.2.10): STALE.</li>
     *   <li>Otherwise REVALIDATE if the stored response has a validator, else MISS (keeping the stored
     *       response for stale-if-error).</li>
     * </ol>
     * With request {@code only-if-cached} (§5.2.1.7) every REVALIDATE or MISS becomes GATEWAY_TIMEOUT.
     *
     * @throws IllegalArgumentException if {@code stored} is for another primary cache key
     */
    public Lookup lookup(RequestHead request, StoredResponse stored, Instant now) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(now, "now");
        CacheControl req = CacheControl.of(request.headers());
        boolean onlyIfCached = req.onlyIfCached();
        if (!request.isGetOrHead()) {
            return Lookup.of(Action.MISS, null, null, null, "method " + request.method() + " is not answered from cache");
        }
        if (stored == null) {
            return miss(onlyIfCached, null, null, "nothing stored");
        }
        if (!CacheKey.of(request).equals(CacheKey.of(stored.request()))) {
            throw new IllegalArgumentException("stored: response for " + CacheKey.of(stored.request())
                    + " (expected: one stored under the request's key " + CacheKey.of(request) + ")");
        }
        if (!methodCompatible(request, stored)) {
            return miss(onlyIfCached, null, null, "a stored HEAD response cannot answer GET");
        }
        if (!Vary.of(stored.response()).matches(stored.request().headers(), request.headers())) {
            return miss(onlyIfCached, null, null, "Vary does not match");
        }
        CacheControl res = CacheControl.of(policyView(stored.response()).headers());
        Duration age = currentAge(stored, now);
        Duration lifetime = freshness(stored).lifetime();
        boolean pragmaNoCache = req.isEmpty() && request.headers().all("Pragma").stream()
                .anyMatch(p -> p.toLowerCase(Locale.ROOT).contains("no-cache"));
        if (req.noCache() || pragmaNoCache) {
            return revalidate(onlyIfCached, request, stored, age, "request no-cache");
        }
        if (res.noCache()) {
            return revalidate(onlyIfCached, request, stored, age, "response no-cache");
        }
        if (req.maxAge() != CacheControl.ABSENT && age.compareTo(Duration.ofSeconds(req.maxAge())) > 0) {
            return revalidate(onlyIfCached, request, stored, age, "age exceeds request max-age");
        }
        if (lifetime.compareTo(age) > 0) {
            if (req.minFresh() != CacheControl.ABSENT
                    && lifetime.minus(age).compareTo(Duration.ofSeconds(req.minFresh())) < 0) {
                return revalidate(onlyIfCached, request, stored, age, "fresh for less than request min-fresh");
            }
            return Lookup.of(Action.FRESH, stored, age, null, "fresh");
        }
        Duration staleness = age.minus(lifetime);
        if (res.mustRevalidate()) {
            return revalidate(onlyIfCached, request, stored, age, "stale and must-revalidate");
        }
        if (shared && res.proxyRevalidate()) {
            return revalidate(onlyIfCached, request, stored, age, "stale and proxy-revalidate");
        }
        if (req.minFresh() != CacheControl.ABSENT) {
            return revalidate(onlyIfCached, request, stored, age, "stale and request min-fresh");
        }
        long swr = res.staleWhileRevalidate();
        if (swr != CacheControl.ABSENT && staleness.compareTo(Duration.ofSeconds(swr)) <= 0) {
            Optional<RequestHead> conditional = Validation.conditionalRequest(request, stored.response());
            return Lookup.of(Action.STALE_WHILE_REVALIDATE, stored, age, conditional.orElse(request),
                    "stale within stale-while-revalidate");
        }
        long maxStale = req.maxStale();
        boolean sMaxAge = shared && res.sMaxAge() != CacheControl.ABSENT;
        if (maxStale != CacheControl.ABSENT && !sMaxAge
                && (maxStale == CacheControl.ANY || staleness.compareTo(Duration.ofSeconds(maxStale)) <= 0)) {
            return Lookup.of(Action.STALE, stored, age, null, "stale within request max-stale");
        }
        return revalidate(onlyIfCached, request, stored, age, "stale");
    }

    /**
     * After the origin answered a forwarded or conditional request with {@code originStatus}: whether to
     * serve the stale {@code stored} response instead (RFC 5861 §4, {@code stale-if-error}). Only 500, 502,
     * 503 and 504 count as errors. Present: serve it (action STALE); empty: forward the origin's response.
     */
    public Optional<Lookup> onOriginError(RequestHead request, StoredResponse stored, Instant now, int originStatus) {
        if (originStatus != 500 && originStatus != 502 && originStatus != 503 && originStatus != 504) {
            return Optional.empty();
        }
        return staleIfError(request, stored, now, "origin answered " + originStatus);
    }

    /**
     * When the origin could not be reached (connect failure, reset, timeout): whether to serve the stale
     * {@code stored} response (RFC 5861 §4). Empty: answer 502 or 504 as the proxy sees fit.
     */
    public Optional<Lookup> onOriginUnreachable(RequestHead request, StoredResponse stored, Instant now) {
        return staleIfError(request, stored, now, "origin unreachable");
    }

    /*
     * stale-if-error: the response's window, narrowed by the request's if both have one. Never when the
     * response has no-cache, must-revalidate or (shared) proxy-revalidate: RFC 9111 §4.2.4 forbids serving stale
     * then. A shared cache with s-maxage honours the origin's own stale-if-error, not the client's alone.
     */
    private Optional<Lookup> staleIfError(RequestHead request, StoredResponse stored, Instant now, String why) {
        if (stored == null) {
            return Optional.empty();
        }
        CacheControl res = CacheControl.of(policyView(stored.response()).headers());
        if (res.noCache() || res.mustRevalidate() || shared && res.proxyRevalidate()) {
            return Optional.empty();
        }
        long fromResponse = res.staleIfError();
        long fromRequest = CacheControl.of(request.headers()).staleIfError();
        long window;
        if (fromResponse != CacheControl.ABSENT) {
            window = fromRequest != CacheControl.ABSENT ? Math.min(fromRequest, fromResponse) : fromResponse;
        } else if (fromRequest != CacheControl.ABSENT && !(shared && res.sMaxAge() != CacheControl.ABSENT)) {
            window = fromRequest;
        } else {
            return Optional.empty();
        }
        Duration age = currentAge(stored, now);
        Duration staleness = max(Duration.ZERO, age.minus(freshness(stored).lifetime()));
        if (staleness.compareTo(Duration.ofSeconds(window)) > 0) {
            return Optional.empty();
        }
        return Optional.of(Lookup.of(Action.STALE, stored, age, null, why + ", within stale-if-error"));
    }

    private static boolean methodCompatible(RequestHead request, StoredResponse stored) {
        return stored.request().method().equals("GET") || request.method().equals(stored.request().method());
    }

    private static Lookup miss(boolean onlyIfCached, StoredResponse stored, Duration age, String reason) {
        return onlyIfCached
                ? Lookup.of(Action.GATEWAY_TIMEOUT, stored, age, null, reason + ", only-if-cached")
                : Lookup.of(Action.MISS, stored, age, null, reason);
    }

    private static Lookup revalidate(boolean onlyIfCached, RequestHead request, StoredResponse stored, Duration age,
                                     String reason) {
        if (onlyIfCached) {
            return Lookup.of(Action.GATEWAY_TIMEOUT, stored, age, null, reason + ", only-if-cached");
        }
        Optional<RequestHead> conditional = Validation.conditionalRequest(request, stored.response());
        return conditional.isPresent()
                ? Lookup.of(Action.REVALIDATE, stored, age, conditional.get(), reason)
                : Lookup.of(Action.MISS, stored, age, null, reason + ", no validator");
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** Builds a {@link CacheStrategy}. */
    public static final class Builder {
        private boolean shared = true;
        private double heuristicFraction = 0.1;
        private Duration heuristicMax = Duration.ofHours(24);
        private List<String> targets = List.of();

        private Builder() {
        }

        /**
         * This cache's own targeted cache-control fields (RFC 9213), most specific first, e.g.
         * {@code Slipstream-Cache-Control}; they take precedence over {@code CDN-Cache-Control}, which a
         * shared cache always obeys. Default: none.
         */
        public Builder targets(List<String> ownTargets) {
            this.targets = TargetedCacheControl.checkTargets(ownTargets);
            return this;
        }

        /** Shared (a proxy: default) or private (a user agent's own cache). */
        public Builder shared(boolean isShared) {
            this.shared = isShared;
            return this;
        }

        /** The fraction of (Date - Last-Modified) used as heuristic lifetime; default 0.1 (§4.2.2). */
        public Builder heuristicFraction(double fraction) {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("heuristicFraction: " + fraction + " (expected: 0..1)");
            }
            this.heuristicFraction = fraction;
            return this;
        }

        /** The longest heuristic lifetime; default 24 hours. */
        public Builder heuristicMax(Duration max) {
            Objects.requireNonNull(max, "max");
            if (max.isNegative()) {
                throw new IllegalArgumentException("heuristicMax: " + max + " (expected: >= 0)");
            }
            this.heuristicMax = max;
            return this;
        }

        public CacheStrategy build() {
            return new CacheStrategy(this);
        }
    }
}
