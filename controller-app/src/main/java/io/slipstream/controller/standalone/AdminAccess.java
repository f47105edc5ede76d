package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import java.time.Clock;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may use the controller's admin API, and the audit trail of what they did.
 *
 * <p>Reads ({@code GET}, {@code HEAD}) are open unless {@code requireAuthForReads}; then any valid
 * token will do. Every other method needs an {@code operator} token in {@code Authorization: Bearer};
 * without one the answer is 401 (no or unknown token) or 403 (a viewer token), as JSON. With no
 * tokens configured, mutating requests are refused (403) unless {@code insecure} (development), when
 * they run as {@code anonymous}. Every mutating request, allowed or not, writes one line to the
 * {@value #AUDIT_LOGGER} logger (time, principal, remote address, method, path, outcome, status and a
 * digest of the body -- never the token), and every request counts in
 * {@code slipstream.admin.requests{route,outcome}}.
 */
public final class AdminAccess {

    /** The logger audit lines go to. */
    public static final String AUDIT_LOGGER = "io.slipstream.audit";

    private static final String PRINCIPAL = "slipstream.admin.principal";

    private static final Logger auditLog = LoggerFactory.getLogger(AUDIT_LOGGER);
    private static final Logger log = LoggerFactory.getLogger(AdminAccess.class);

    /** The outcome of the access check alone. */
    static final class Decision {
        final boolean allowed;
        final String principal;
        final String outcome;
        final int status;
        final String error;

        private Decision(boolean allowed, String principal, String outcome, int status, String error) {
            this.allowed = allowed;
            this.principal = principal;
            this.outcome = outcome;
            this.status = status;
            this.error = error;
        }

        static Decision allow(String principal) {
            return new Decision(true, principal, "allowed", 0, null);
        }

        static Decision deny(String principal, String outcome, int status, String error) {
            return new Decision(false, principal, outcome, status, error);
        }
    }

    private final AdminTokens tokens;
    private final boolean insecure;
    private final boolean requireAuthForReads;
    private final Clock clock;
    private final Consumer<String> audit;

    private AdminAccess(AdminTokens tokens, boolean insecure, boolean requireAuthForReads, Clock clock,
                        Consumer<String> audit) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.insecure = insecure;
        this.requireAuthForReads = requireAuthForReads;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.audit = Objects.requireNonNull(audit, "audit");
    }

    /** No tokens, not insecure: reads open, every mutating request refused. */
    public static AdminAccess disabled() {
        return of(AdminTokens.none(), false, false);
    }

    /** The given tokens; audit lines to {@value #AUDIT_LOGGER}. */
    public static AdminAccess of(AdminTokens tokens, boolean insecure, boolean requireAuthForReads) {
        return new AdminAccess(tokens, insecure, requireAuthForReads, Clock.systemUTC(), auditLog::info);
    }

    /** As {@link #of}, with audit lines also handed to {@code alsoTo} (tests, shipping elsewhere). */
    public AdminAccess auditingAlsoTo(Consumer<String> alsoTo) {
        Consumer<String> both = audit.andThen(alsoTo);
        return new AdminAccess(tokens, insecure, requireAuthForReads, clock, both);
    }

    /** Says at start-up how the API is protected. */
    void logMode() {
        if (!tokens.isEmpty()) {
            log.info("admin API: {} token(s); mutating routes need an operator token{}", tokens.size(),
                    requireAuthForReads ? ", reads any token" : ", reads are open");
        } else if (insecure) {
            log.warn("admin API: --insecure-admin and no tokens: anyone who reaches the HTTP port can change policy, "
                    + "drain workers and purge caches; use this only for development");
        } else {
            log.warn("admin API: no tokens configured (--admin-tokens-file): mutating routes are disabled");
        }
    }

    /** The access check for one request (pure). */
    Decision decide(String method, String authorization) {
        boolean read = "GET".equals(method) || "HEAD".equals(method);
        Optional<AdminTokens.Principal> principal = bearer(authorization).flatMap(tokens::authenticate);
        String name = principal.map(AdminTokens.Principal::name).orElse("anonymous");
        if (read && !requireAuthForReads) {
            return Decision.allow(name);
        }
        if (tokens.isEmpty()) {
            if (insecure) {
                return Decision.allow("anonymous");
            }
            return Decision.deny(name, "disabled", 403, "admin API disabled: no tokens configured");
        }
        if (principal.isEmpty()) {
            return Decision.deny(name, "unauthenticated", 401,
                    authorization == null ? "authentication required: send Authorization: Bearer <token>"
                            : "invalid token");
        }
        if (!read && principal.get().role() != AdminTokens.Role.OPERATOR) {
            return Decision.deny(name, "forbidden", 403,
                    "token '" + name + "' has role viewer (expected: operator for " + method + ")");
        }
        return Decision.allow(name);
    }

    private static Optional<String> bearer(String authorization) {
        if (authorization == null) {
            return Optional.empty();
        }
        String a = authorization.strip();
        if (a.length() > 7 && a.substring(0, 7).equalsIgnoreCase("bearer ")) {
            return Optional.of(a.substring(7).strip());
        }
        return Optional.empty();
    }

    /** Wraps {@code inner} in the access check, audit line and counter; {@code route} names it in metrics. */
    public RequestRoute guard(String route, MeterRegistry meters, RequestRoute inner) {
        return guard(route, meters, inner, false);
    }

    /**
     * As {@link #guard(String, MeterRegistry, RequestRoute)} for a route that changes nothing whatever the
     * method: other methods than GET and HEAD reach it unchecked (it answers 405) and are not audited.
     */
    public RequestRoute guardReadOnly(String route, MeterRegistry meters, RequestRoute inner) {
        return guard(route, meters, inner, true);
    }

    private RequestRoute guard(String route, MeterRegistry meters, RequestRoute inner, boolean readOnly) {
        return request -> {
            boolean read = "GET".equals(request.method()) || "HEAD".equals(request.method());
            if (readOnly && !read) {
                Response refused = inner.handle(request);
                Counter.builder("slipstream.admin.requests").description("Admin API requests by route and outcome")
                        .tag("route", route).tag("outcome", "rejected").register(meters).increment();
                return refused;
            }
            Decision d = decide(request.method(), request.header("Authorization"));
            Response response;
            String outcome;
            if (!d.allowed) {
                ObjectNode error = FleetJson.mapper().createObjectNode().put("error", d.error);
                response = Response.json(d.status, FleetJson.write(error));
                outcome = d.outcome;
            } else {
                request.attribute(PRINCIPAL, d.principal);
                response = inner.handle(request);
                outcome = response.status() < 400 ? "ok" : response.status() < 500 ? "rejected" : "failed";
            }
            Counter.builder("slipstream.admin.requests").description("Admin API requests by route and outcome")
                    .tag("route", route).tag("outcome", outcome).register(meters).increment();
            if (!read) {
                audit.accept(auditLine(request, d.principal, outcome, response.status()));
            }
            return response;
        };
    }

    /** Who the access check let through for this request ({@code anonymous} when nobody authenticated). */
    static String principal(Request request) {
        Object p = request.attribute(PRINCIPAL);
        return p == null ? "anonymous" : p.toString();
    }

    private String auditLine(Request request, String principal, String outcome, int status) {
        String sha = AdminTokens.sha256Hex(request.body());
        return String.format(Locale.ROOT,
                "time=%s principal=%s remote=%s method=%s path=%s outcome=%s status=%d body=%d bytes sha256:%s",
                clock.instant(), principal, request.remoteAddress(), clean(request.method()), clean(request.path()),
                outcome, status, request.body().length, sha.substring(0, 16));
    }

    /** Keeps a request's own text from forging audit lines (no spaces or control characters). */
    private static String clean(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 200));
        for (int i = 0; i < s.length() && i < 200; i++) {
            char c = s.charAt(i);
            sb.append(c <= ' ' || c == 127 ? '_' : c);
        }
        return sb.toString();
    }
}
