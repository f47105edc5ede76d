package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.proto.v1.PurgeRequest;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /api/cache/purge} with {@code {"url": ...} | {"prefix": ...} | {"tags": [...]}}, optionally
 * {@code "soft": true} (mark stale instead of removing) and {@code "site"} (only that site's caches):
 * asks every matching cache worker over gRPC ({@code WorkerControl.Purge}) and answers each one's count,
 * {@code {"purged": total, "workers": {"cache-a1": 3, ...}}}. 404 when no cache worker matches.
 */
final class PurgeRoute implements RequestRoute {

    private static final Set<String> FIELDS = Set.of("url", "prefix", "tags", "soft", "site");

    private final FleetController fleet;

    PurgeRoute(FleetController fleet) {
        this.fleet = fleet;
    }

    @Override
    public Response handle(Request request) throws Exception {
        if (!"POST".equals(request.method())) {
            return error(405, "method " + request.method() + " not allowed (expected: POST)");
        }
        JsonNode body;
        try {
            body = FleetJson.mapper().readTree(new String(request.body(), StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            return error(400, "body: not JSON (expected: {\"url\"|\"prefix\"|\"tags\": ..., \"soft\": bool, \"site\": name})");
        }
        if (body == null || !body.isObject()) {
            return error(400, "body: expected a JSON object with one of url, prefix or tags");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                return error(400, "$." + name + ": unknown field (expected: url, prefix, tags, soft, site)");
            }
        }
        PurgeRequest.Builder purge = PurgeRequest.newBuilder();
        int given = 0;
        if (body.has("url")) {
            if (!body.get("url").isTextual()) {
                return error(400, "$.url: expected a string");
            }
            purge.setUrl(body.get("url").asText());
            if (!absoluteHttp(purge.getUrl())) {
                return error(400, "$.url: '" + purge.getUrl() + "' (expected: an absolute http:// or https:// URL)");
            }
            given++;
        }
        if (body.has("prefix")) {
            if (!body.get("prefix").isTextual()) {
                return error(400, "$.prefix: expected a string");
            }
            purge.setPrefix(body.get("prefix").asText());
            if (!absoluteHttp(purge.getPrefix())) {
                return error(400, "$.prefix: '" + purge.getPrefix() + "' (expected: http://host[:port][/path...])");
            }
            given++;
        }
        if (body.has("tags")) {
            if (!body.get("tags").isArray() || body.get("tags").isEmpty()) {
                return error(400, "$.tags: expected a non-empty array of strings");
            }
            for (JsonNode tag : body.get("tags")) {
                if (!tag.isTextual() || tag.asText().isBlank()) {
                    return error(400, "$.tags: " + tag + " (expected: a non-empty string)");
                }
                purge.addTags(tag.asText());
            }
            given++;
        }
        if (given != 1) {
            return error(400, "expected exactly one of url, prefix or tags (got " + given + ")");
        }
        if (body.has("soft") && !body.get("soft").isBoolean()) {
            return error(400, "$.soft: expected true or false");
        }
        purge.setSoft(body.path("soft").asBoolean(false));
        String site = body.path("site").asText("");
        Map<String, Object> answers = fleet.purge(site, purge.build()).get(15, TimeUnit.SECONDS);
        if (answers.isEmpty()) {
            return error(404, "no cache worker in the directory" + (site.isEmpty() ? "" : " at site '" + site + "'"));
        }
        ObjectNode out = FleetJson.mapper().createObjectNode();
        ObjectNode workers = out.putObject("workers");
        long total = 0;
        boolean failed = false;
        for (Map.Entry<String, Object> e : answers.entrySet()) {
            if (e.getValue() instanceof Integer) {
                workers.put(e.getKey(), (Integer) e.getValue());
                total += (Integer) e.getValue();
            } else {
                workers.put(e.getKey(), String.valueOf(e.getValue()));
                failed = true;
            }
        }
        out.put("purged", total);
        // 502 when a worker refused or was unreachable: the caller must know some caches may still serve it.
        return Response.json(failed ? 502 : 200, FleetJson.write(out));
    }

    private static boolean absoluteHttp(String url) {
        try {
            java.net.URI uri = new java.net.URI(url);
            return uri.getScheme() != null && uri.getScheme().matches("(?i)https?") && uri.getHost() != null;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static Response error(int status, String message) {
        return Response.json(status, FleetJson.write(FleetJson.mapper().createObjectNode().put("error", message)));
    }
}
