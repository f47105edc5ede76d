package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.HttpHeaders;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Conversions between Netty's header blocks and the policy model, and hop-by-hop stripping (RFC 9110 §7.6.1). */
final class HttpMessages {

    /** Fields that only concern one connection, never forwarded or stored. */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "te", "trailer", "transfer-encoding",
            "upgrade", "proxy-connection", "proxy-authenticate", "proxy-authorization", "proxy-authentication-info");

    static final String VIA = "1.1 slipstream";

    private HttpMessages() {
    }

    /**
     * The end-to-end fields of {@code headers}: without the hop-by-hop ones, any {@code Proxy-*}, and every
     * field that {@code Connection} names.
     */
    static HttpHeaders endToEnd(io.netty.handler.codec.http.HttpHeaders headers) {
        Set<String> drop = new HashSet<>();
        for (String connection : headers.getAll("Connection")) {
            for (String token : connection.split(",")) {
                String t = token.strip().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    drop.add(t);
                }
            }
        }
        HttpHeaders.Builder b = HttpHeaders.builder();
        for (Map.Entry<String, String> e : headers) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(name) || name.startsWith("proxy-") || drop.contains(name)) {
                continue;
            }
            b.add(e.getKey(), e.getValue());
        }
        return b.build();
    }

    /** Copies a policy header block into Netty's. */
    static void copy(HttpHeaders from, io.netty.handler.codec.http.HttpHeaders to) {
        for (String[] line : from.lines()) {
            to.add(line[0], line[1]);
        }
    }

    /** {@code Surrogate-Key} tags of a response: whitespace-separated, across all its lines. */
    static Set<String> tags(HttpHeaders headers) {
        Set<String> tags = new HashSet<>();
        for (String line : headers.all("Surrogate-Key")) {
            for (String t : line.strip().split("\\s+")) {
                if (!t.isEmpty()) {
                    tags.add(t);
                }
            }
        }
        return Set.copyOf(tags);
    }
}
