package io.slipstream.controller.standalone;

import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.DrainResponse;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code POST /api/workers/{id}/drain[?timeoutMillis=N]}: asks one worker to drain (stop taking new
 * flows, leave the directory once its flows finished or the timeout passed). Answers
 * {@code {"worker":id,"activeFlows":n,"started":bool}}; 404 for a worker not in the directory.
 */
final class DrainRoute implements RequestRoute {

    private static final Pattern PATH = Pattern.compile("/api/workers/([A-Za-z0-9._-]{1,64})/drain");
    private static final Pattern TIMEOUT = Pattern.compile("timeoutMillis=([0-9]{1,7})");

    private final FleetController fleet;

    DrainRoute(FleetController fleet) {
        this.fleet = fleet;
    }

    @Override
    public Response handle(Request request) throws Exception {
        Matcher m = PATH.matcher(request.path());
        if (!m.matches()) {
            return error(404, "no such route: " + request.path() + " (expected: /api/workers/{id}/drain)");
        }
        if (!"POST".equals(request.method())) {
            return error(405, "method " + request.method() + " not allowed (expected: POST)");
        }
        DrainRequest.Builder drain = DrainRequest.newBuilder();
        if (request.query() != null && !request.query().isEmpty()) {
            Matcher t = TIMEOUT.matcher(request.query());
            if (!t.matches() || Integer.parseInt(t.group(1)) > 3_600_000) {
                return error(400, "query: '" + request.query() + "' (expected: timeoutMillis=0..3600000)");
            }
            drain.setTimeoutMillis(Integer.parseInt(t.group(1)));
        }
        String id = m.group(1);
        DrainResponse response;
        try {
            response = fleet.drain(id, drain.build()).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IllegalArgumentException) {
                return error(404, e.getCause().getMessage());
            }
            return error(502, "worker " + id + " did not accept the drain: " + e.getCause());
        }
        return Response.json(200, FleetJson.write(FleetJson.mapper().createObjectNode()
                .put("worker", id).put("activeFlows", response.getActiveFlows()).put("started", response.getStarted())));
    }

    private static Response error(int status, String message) {
        return Response.json(status, FleetJson.write(FleetJson.mapper().createObjectNode().put("error", message)));
    }
}
