package io.slipstream.controller.standalone;

import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.state.Leadership;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Writes go to the leader (issue 23): a request other than GET or HEAD reaches {@code inner} only while this
 * controller leads; otherwise it is answered {@code 307 Temporary Redirect} with {@code Location} at the same
 * path on the leader (a 307 keeps the method and body: {@code curl -L} repeats the PUT there), or {@code 503}
 * with {@code Retry-After} while no leader is known. Reads are served by every controller.
 */
final class LeaderOnly implements RequestRoute {

    private final BooleanSupplier leading;
    private final Supplier<Leadership.Leader> leader;
    private final RequestRoute inner;

    LeaderOnly(BooleanSupplier leading, Supplier<Leadership.Leader> leader, RequestRoute inner) {
        this.leading = leading;
        this.leader = leader;
        this.inner = inner;
    }

    @Override
    public Response handle(Request request) throws Exception {
        String method = request.method();
        if ("GET".equals(method) || "HEAD".equals(method) || leading.getAsBoolean()) {
            return inner.handle(request);
        }
        Leadership.Leader l = leader.get();
        if (l == null || l.self() || l.url().isEmpty()) {
            return Response.json(503, FleetJson.write(FleetJson.mapper().createObjectNode()
                    .put("error", "no controller leads right now (an election in progress, or ZooKeeper unreachable); "
                            + "nothing was changed, retry shortly")))
                    .withHeader("Retry-After", "2");
        }
        String location = l.url() + request.path() + (request.query() == null ? "" : "?" + request.query());
        return Response.json(307, FleetJson.write(FleetJson.mapper().createObjectNode()
                        .put("error", "this controller does not lead; send " + method + " to the leader")
                        .put("leader", l.name()).put("location", location)))
                .withHeader("Location", location);
    }
}
