package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.scale.Autoscaler;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code /api/scaling/overrides}: an operator pins the replica range of one role and site over the
 * autoscaler's rule. {@code GET} lists the pins; {@code PUT {"role","site","minReplicas","maxReplicas"}}
 * sets one; {@code DELETE {"role","site"}} (or {@code ?role=..&site=..}) clears it. 409 while scaling is off.
 */
final class ScalingOverridesRoute implements RequestRoute {

    private static final Set<String> FIELDS = Set.of("role", "site", "minReplicas", "maxReplicas");

    private final Supplier<Autoscaler> autoscaler;

    ScalingOverridesRoute(Supplier<Autoscaler> autoscaler) {
        this.autoscaler = autoscaler;
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
        try {
            if ("DELETE".equals(request.method())) {
                boolean had = a.clearOverride(role, site);
                return Response.json(200, FleetJson.write(FleetJson.mapper().createObjectNode()
                        .put("role", role).put("site", site).put("cleared", had)));
            }
            if (!body.path("minReplicas").isInt() || !body.path("maxReplicas").isInt()) {
                return error(400, "$.minReplicas, $.maxReplicas: expected integers");
            }
            a.override(role, site, body.get("minReplicas").asInt(), body.get("maxReplicas").asInt());
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        return list(a);
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

    private static Response list(Autoscaler a) {
        ObjectNode out = FleetJson.mapper().createObjectNode();
        var array = out.putArray("overrides");
        for (Map.Entry<String, int[]> e : a.overrides().entrySet()) {
            int at = e.getKey().indexOf('@');
            array.addObject().put("role", e.getKey().substring(0, at)).put("site", e.getKey().substring(at + 1))
                    .put("minReplicas", e.getValue()[0]).put("maxReplicas", e.getValue()[1]);
        }
        return Response.json(200, FleetJson.write(out));
    }

    private static Response error(int status, String message) {
        return Response.json(status, FleetJson.write(FleetJson.mapper().createObjectNode().put("error", message)));
    }
}
