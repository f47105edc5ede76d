package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.state.StateConflictException;
import io.slipstream.controller.state.StateRecord;
import io.slipstream.controller.state.StateUnavailableException;
import io.slipstream.proto.v1.FleetPolicy;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * {@code /api/policy} and {@code /api/policy/history} (issue 23).
 *
 * <p>{@code GET /api/policy}: the policy in force as plain JSON, with {@code ETag} (its version),
 * {@code Slipstream-Policy-Version} and {@code Slipstream-Policy-Source} ({@code values}: the start-up
 * {@code --policy}; {@code runtime}: a change through this API). {@code PUT} needs {@code If-Match} with the
 * ETag it replaces: 428 without, 412 (and the current ETag) when it is stale, 400 for a bad policy, 503 when
 * ZooKeeper cannot be reached (nothing written). Putting back an older version's body is a rollback: a new
 * version. {@code GET /api/policy/history} lists the kept versions (newest first, without the policy);
 * {@code ?version=N} serves one of them like {@code GET /api/policy} does.
 */
final class PolicyRoute implements RequestRoute {

    static final String VERSION_HEADER = "Slipstream-Policy-Version";
    static final String SOURCE_HEADER = "Slipstream-Policy-Source";

    private final DurableState state;
    private final FleetController fleet;

    PolicyRoute(DurableState state, FleetController fleet) {
        this.state = state;
        this.fleet = fleet;
    }

    @Override
    public Response handle(Request request) throws Exception {
        if (request.path().equals("/api/policy/history")) {
            return history(request);
        }
        if ("GET".equals(request.method())) {
            StateRecord record = state.policyRecord();
            if (record == null) {
                // ZooKeeper never reached since start: the start-up values, unversioned (PUT waits for ZooKeeper).
                return Response.json(200, FleetPolicies.toJson(fleet.snapshot().policy()))
                        .withHeader(SOURCE_HEADER, StateRecord.VALUES);
            }
            return withVersion(Response.json(200, record.content()), record);
        }
        if (!"PUT".equals(request.method())) {
            return error(405, "method " + request.method() + " not allowed (expected: GET or PUT)");
        }
        String ifMatch = request.header("If-Match");
        StateRecord current = state.policyRecord();
        if (ifMatch == null) {
            Response r = error(428, "If-Match required (expected: the ETag of GET /api/policy, e.g. If-Match: "
                    + (current == null ? "\"1\"" : current.etag()) + ")");
            return current == null ? r : withVersion(r, current);
        }
        long expected;
        try {
            expected = parseEtag(ifMatch);
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        FleetPolicy policy;
        try {
            policy = FleetPolicies.parse(new String(request.body(), StandardCharsets.UTF_8));
        } catch (PolicyException e) {
            ObjectNode error = FleetJson.mapper().createObjectNode().put("error", e.getMessage());
            e.problems().forEach(error.putArray("problems")::add);
            return Response.json(400, FleetJson.write(error));
        }
        StateRecord written;
        try {
            written = state.policyStore().write(expected, FleetPolicies.toJson(policy),
                    AdminAccess.principal(request), request.remoteAddress());
        } catch (StateConflictException e) {
            return withVersion(Response.json(412, FleetJson.write(FleetJson.mapper().createObjectNode()
                    .put("error", e.getMessage()).put("version", e.current().version()))), e.current());
        } catch (StateUnavailableException e) {
            return error(503, e.getMessage()).withHeader("Retry-After", "5");
        }
        long generation = state.applyPolicy(written);
        return withVersion(Response.json(200, FleetJson.write(FleetJson.mapper().createObjectNode()
                .put("version", written.version()).put("generation", generation))), written);
    }

    private Response history(Request request) throws StateUnavailableException {
        if (!"GET".equals(request.method())) {
            return error(405, "method " + request.method() + " not allowed (expected: GET)");
        }
        String query = request.query();
        try {
            if (query != null && query.startsWith("version=")) {
                long version;
                try {
                    version = Long.parseLong(query.substring("version=".length()));
                } catch (NumberFormatException e) {
                    return error(400, "version: '" + query.substring("version=".length())
                            + "' (expected: a version number from GET /api/policy/history)");
                }
                Optional<StateRecord> record = state.policyStore().version(version);
                return record.map(r -> withVersion(Response.json(200, r.content()), r))
                        .orElseGet(() -> error(404, "version " + version + " is not kept (expected: one of GET "
                                + "/api/policy/history; the newest " + io.slipstream.controller.state.StateStore.HISTORY
                                + " are kept)"));
            }
            if (query != null && !query.isEmpty()) {
                return error(400, "query: '" + query + "' (expected: none, or version=N)");
            }
            ObjectNode out = FleetJson.mapper().createObjectNode();
            StateRecord current = state.policyRecord();
            out.put("current", current == null ? 0 : current.version());
            ArrayNode versions = out.putArray("versions");
            state.policyStore().history().forEach(r -> versions.add(r.summary()));
            return Response.json(200, FleetJson.write(out));
        } catch (StateUnavailableException e) {
            return error(503, e.getMessage()).withHeader("Retry-After", "5");
        }
    }

    static Response withVersion(Response response, StateRecord record) {
        return response.withHeader("ETag", record.etag())
                .withHeader(VERSION_HEADER, Long.toString(record.version()))
                .withHeader(SOURCE_HEADER, record.source());
    }

    /** The version in an entity tag: {@code "7"}, {@code W/"7"} or {@code 7}. */
    static long parseEtag(String value) {
        String v = value.strip();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        try {
            long version = Long.parseLong(v);
            if (version >= 0) {
                return version;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("If-Match: '" + value + "' (expected: the ETag of a GET, e.g. \"7\"; "
                + "one version, not a list or *)");
    }

    static Response error(int status, String message) {
        return Response.json(status, FleetJson.write(FleetJson.mapper().createObjectNode().put("error", message)));
    }
}
