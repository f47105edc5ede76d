package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.scale.Autoscaler;
import io.slipstream.controller.state.StateConflictException;
import io.slipstream.controller.state.StateRecord;
import io.slipstream.controller.state.StateUnavailableException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code /api/scaling/overrides}: an operator pins the replica range of one role and site over the
 * autoscaler's rule. {@code GET} lists the pins; {@code PUT {"role","site","minReplicas","maxReplicas"}}
 * sets one; {@code DELETE {"role","site"}} (or {@code ?role=..&site=..}) clears it. 409 while scaling is off.
 *
 * <p>The overrides are one versioned record in ZooKeeper (issue 23; {@link DurableState}): {@code GET} says its
 * version ({@code ETag}, {@code Slipstream-Overrides-Version}); {@code PUT} and {@code DELETE} need
 * {@code If-Match} with it (428 without, 412 when stale) and write a new version (503 when ZooKeeper cannot be
 * reached: nothing written). Every controller applies the record, so overrides survive a restart and a change
 * of leader.
 */
final class ScalingOverridesRoute implements RequestRoute {

    private static final Set<String> FIELDS = Set.of("role", "site", "minReplicas", "maxReplicas");

    static final String VERSION_HEADER = "Slipstream-Overrides-Version";

    private final Supplier<Autoscaler> autoscaler;
    private final DurableState state;

    ScalingOverridesRoute(Supplier<Autoscaler> autoscaler, DurableState state) {
        this.autoscaler = autoscaler;
        this.state = state;
    }

    @Override
    public Response handle(Request request) throws Exception {
        Autoscaler a = autoscaler.get();
        if (a == null) {
            return error(409, "scaling is off (expected: a controller started with a \"scaling\" section in --config)");
        }
        switch (request.method()) {
            case "GET":
                return list(a);
            case "PUT":
            case "DELETE":
                break;
            default:
                return error(405, "method " + request.method() + " not allowed (expected: GET, PUT or DELETE)");
        }
        JsonNode body;
        if (request.body().length == 0 && "DELETE".equals(request.method())) {
            body = fromQuery(request.query());
        } else {
            try {
                body = FleetJson.mapper().readTree(new String(request.body(), StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                return error(400, "body: not JSON (expected: {\"role\", \"site\", \"minReplicas\", \"maxReplicas\"})");
            }
        }
        if (body == null || !body.isObject()) {
            return error(400, "body: expected a JSON object with role and site");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                return error(400, "$." + name + ": unknown field (expected: role, site, minReplicas, maxReplicas)");
            }
        }
        if (!body.path("role").isTextual() || !body.path("site").isTextual()) {
            return error(400, "$.role, $.site: expected strings naming a scaled role and site");
        }
        String role = body.get("role").asText();
        String site = body.get("site").asText();
        StateRecord current = state.overridesRecord();
        String ifMatch = request.header("If-Match");
        if (ifMatch == null) {
            Response r = error(428, "If-Match required (expected: the ETag of GET /api/scaling/overrides, e.g. "
                    + "If-Match: " + (current == null ? "\"1\"" : current.etag()) + ")");
            return current == null ? r : withVersion(r, current);
        }
        long expected;
        try {
            expected = PolicyRoute.parseEtag(ifMatch);
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        if (current == null) {
            return error(503, "the scaling overrides were not read from ZooKeeper yet; nothing was changed, retry "
                    + "when it is reachable").withHeader("Retry-After", "5");
        }
        if (expected != current.version()) {
            return withVersion(Response.json(412, FleetJson.write(FleetJson.mapper().createObjectNode()
                    .put("error", "scaling overrides: version " + expected + " is not the current one (expected: "
                            + "If-Match " + current.etag() + ")").put("version", current.version()))), current);
        }
        Map<String, int[]> pins = new java.util.TreeMap<>(DurableState.parseOverrides(current.content()));
        String key = role + "@" + site;
        boolean had = pins.containsKey(key);
        try {
            if ("DELETE".equals(request.method())) {
                if (!a.covers(role, site)) {
                    return error(400, "role '" + role + "' at site '" + site + "' (expected: one the scaling rules "
                            + "cover)");
                }
                pins.remove(key);
            } else {
                if (!body.path("minReplicas").isInt() || !body.path("maxReplicas").isInt()) {
                    return error(400, "$.minReplicas, $.maxReplicas: expected integers");
                }
                int min = body.get("minReplicas").asInt();
                int max = body.get("maxReplicas").asInt();
                a.checkOverride(role, site, min, max);
                pins.put(key, new int[] {min, max});
            }
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        StateRecord written;
        try {
            written = state.overridesStore().write(expected, DurableState.overridesJson(pins),
                    AdminAccess.principal(request), request.remoteAddress());
        } catch (StateConflictException e) {
            return withVersion(Response.json(412, FleetJson.write(FleetJson.mapper().createObjectNode()
                    .put("error", e.getMessage()).put("version", e.current().version()))), e.current());
        } catch (StateUnavailableException e) {
            return error(503, e.getMessage()).withHeader("Retry-After", "5");
        }
        state.applyOverrides(written);
        if ("DELETE".equals(request.method())) {
            return withVersion(Response.json(200, FleetJson.write(FleetJson.mapper().createObjectNode()
                    .put("role", role).put("site", site).put("cleared", had))), written);
        }
        return list(a);
    }

    private Response withVersion(Response response, StateRecord record) {
        return response.withHeader("ETag", record.etag())
                .withHeader(VERSION_HEADER, Long.toString(record.version()))
                .withHeader("Slipstream-Overrides-Source", record.source());
    }

    private static JsonNode fromQuery(String query) {
        ObjectNode node = FleetJson.mapper().createObjectNode();
        if (query != null) {
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    node.put(java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return node;
    }

    private Response list(Autoscaler a) {
        ObjectNode out = FleetJson.mapper().createObjectNode();
        var array = out.putArray("overrides");
        for (Map.Entry<String, int[]> e : a.overrides().entrySet()) {
            int at = e.getKey().indexOf('@');
            array.addObject().put("role", e.getKey().substring(0, at)).put("site", e.getKey().substring(at + 1))
                    .put("minReplicas", e.getValue()[0]).put("maxReplicas", e.getValue()[1]);
        }
        StateRecord current = state.overridesRecord();
        Response r = Response.json(200, FleetJson.write(out));
        return current == null ? r : withVersion(r, current);
    }

    private static Response error(int status, String message) {
        return Response.json(status, FleetJson.write(FleetJson.mapper().createObjectNode().put("error", message)));
    }
}
