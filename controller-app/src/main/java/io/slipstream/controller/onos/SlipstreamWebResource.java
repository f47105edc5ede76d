package io.slipstream.controller.onos;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.LoadReport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import javax.ws.rs.Consumes;
import javax.ws.rs.GET;
import javax.ws.rs.POST;
import javax.ws.rs.PUT;
import javax.ws.rs.Path;
import javax.ws.rs.Produces;
import javax.ws.rs.core.MediaType;
import javax.ws.rs.core.Response;
import org.onosproject.rest.AbstractWebResource;

/**
 * REST API of the app, under {@code /onos/slipstream/}: {@code GET|POST|PUT policies} (the fleet policy;
 * a bad one gets 400 with every problem by JSON path), {@code GET workers}, {@code GET placement}.
 */
@Path("/")
public class SlipstreamWebResource extends AbstractWebResource {

    /** The largest policy document accepted. */
    static final int MAX_POLICY_BYTES = 1 << 20;

    /** The fleet policy in force. */
    @GET
    @Path("policies")
    @Produces(MediaType.APPLICATION_JSON)
    public Response getPolicies() {
        return json(FleetPolicies.toJson(get(SlipstreamService.class).policy()));
    }

    /** Validates and puts a fleet policy in force. */
    @POST
    @Path("policies")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response postPolicies(InputStream body) {
        String json;
        try {
            byte[] bytes = body.readNBytes(MAX_POLICY_BYTES + 1);
            if (bytes.length > MAX_POLICY_BYTES) {
                return badRequest("policy: larger than " + MAX_POLICY_BYTES + " bytes (expected: a smaller JSON document)");
            }
            json = new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return badRequest("policy: could not be read: " + e.getMessage());
        }
        FleetPolicy applied;
        try {
            applied = get(SlipstreamService.class).applyPolicy(json);
        } catch (IllegalArgumentException e) {
            ObjectNode error = mapper().createObjectNode();
            error.put("error", e.getMessage());
            ArrayNode errors = error.putArray("errors");
            if (e instanceof PolicyException) {
                ((PolicyException) e).problems().forEach(errors::add);
            } else {
                errors.add(e.getMessage());
            }
            return Response.status(Response.Status.BAD_REQUEST).entity(error).build();
        }
        ObjectNode result = mapper().createObjectNode();
        result.put("policies", applied.getPoliciesCount());
        return Response.ok(result).build();
    }

    /** Same as POST. */
    @PUT
    @Path("policies")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response putPolicies(InputStream body) {
        return postPolicies(body);
    }

    /** The workers the controller sees. */
    @GET
    @Path("workers")
    @Produces(MediaType.APPLICATION_JSON)
    public Response getWorkers() {
        SlipstreamService service = get(SlipstreamService.class);
        ObjectNode root = mapper().createObjectNode();
        root.put("leader", service.isLeader());
        ArrayNode workers = root.putArray("workers");
        for (WorkerView w : service.workers()) {
            ObjectNode node = workers.addObject();
            node.put("id", w.id());
            node.put("role", w.record().role());
            node.put("site", w.record().site());
            node.put("health", w.health().label());
            node.put("registered", w.registered());
            if (w.reason() != null && !w.reason().isEmpty()) {
                node.put("reason", w.reason());
            }
            node.put("controlEndpoint", w.record().controlEndpoint());
            node.put("dataEndpoint", w.record().dataEndpoint());
            node.put("steeredEndpoint", w.record().steeredEndpoint());
            node.put("capacityBytesPerSecond", w.record().capacityBytesPerSecond());
            LoadReport load = w.load();
            node.put("cpu", load.getCpu());
            node.put("activeFlows", load.getActiveFlows());
            node.put("draining", load.getDraining());
        }
        return Response.ok(root).build();
    }

    /** The placement, and what was programmed on the edge switches. */
    @GET
    @Path("placement")
    @Produces(MediaType.APPLICATION_JSON)
    public Response getPlacement() {
        SlipstreamService service = get(SlipstreamService.class);
        ObjectNode root = mapper().createObjectNode();
        root.put("leader", service.isLeader());
        try {
            root.set("table", mapper().readTree(com.google.protobuf.util.JsonFormat.printer()
                    .includingDefaultValueFields().print(service.placement())));
        } catch (IOException e) {
            throw new IllegalStateException("printing the placement", e);
        }
        SteeringProgrammer.Program program = service.program();
        root.put("groups", program.groups().size());
        root.put("rules", program.rules().size());
        ArrayNode problems = root.putArray("problems");
        program.problems().forEach(problems::add);
        return Response.ok(root).build();
    }

    private Response json(String text) {
        try {
            return Response.ok(mapper().readTree(text)).build();
        } catch (IOException e) {
            throw new IllegalStateException("re-reading printed JSON", e);
        }
    }

    private Response badRequest(String message) {
        ObjectNode error = mapper().createObjectNode();
        error.put("error", message);
        error.putArray("errors").add(message);
        return Response.status(Response.Status.BAD_REQUEST).entity(error).build();
    }
}
