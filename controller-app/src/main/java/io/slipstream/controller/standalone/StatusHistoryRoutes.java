package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.AdminHttpServer.Request;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.scale.Autoscaler;
import io.slipstream.controller.scale.ScaleDecision;
import io.slipstream.controller.status.EventDigest;
import io.slipstream.controller.status.StatusHistory;
import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.io.Closeable;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status page's history, readable events and worker pages (issue 19): samples the fleet into a
 * {@link StatusHistory} once a second and serves {@code GET /api/status/history}, {@code GET
 * /api/status/events[?worker=&role=&kind=]} ({@link EventDigest}) and {@code GET /api/status/workers/{id}}
 * (the worker as in {@code /api/status}, its configuration generation, counters and load history).
 */
final class StatusHistoryRoutes implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(StatusHistoryRoutes.class);
    private static final Pattern WORKER = Pattern.compile("/api/status/workers/([A-Za-z0-9._-]{1,64})");
    /** Compact JSON: the history is read every second. */
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private final FleetController fleet;
    private final Supplier<Autoscaler> autoscaler;
    private final StatusHistory history;
    private final ScheduledExecutorService sampler;
    /** Received bytes/s by role, as the status page charts it, for the Grafana dashboard's matching panel. */
    private final MultiGauge received;

    private StatusHistoryRoutes(FleetController fleet, Supplier<Autoscaler> autoscaler, StatusHistory history,
                                MeterRegistry meters) {
        this.received = MultiGauge.builder("slipstream.controller.received.bytes.per.second")
                .description("Data-plane bytes/s the workers of a role received, from their load reports")
                .register(meters);
        this.fleet = fleet;
        this.autoscaler = autoscaler;
        this.history = history;
        this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "status-history");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts sampling every second and adds the routes, each behind the read access check. */
    static StatusHistoryRoutes start(AdminHttpServer http, AdminAccess access, MeterRegistry meters,
                                     FleetController fleet, Supplier<Autoscaler> autoscaler) {
        StatusHistoryRoutes routes = new StatusHistoryRoutes(fleet, autoscaler, new StatusHistory(Clock.systemUTC()),
                meters);
        Gauge.builder("slipstream.controller.status.history.bytes", routes.history, StatusHistory::memoryBytes)
                .description("bytes the status page's 15-minute history holds").baseUnit("bytes").register(meters);
        routes.sampler.scheduleAtFixedRate(routes::sample, 0, 1, TimeUnit.SECONDS);
        http.route("/api/status/history", access.guardReadOnly("status_history", meters, routes::historyRoute));
        http.route("/api/status/events", access.guardReadOnly("status_events", meters, routes::eventsRoute));
        http.route("/api/status/workers/", access.guardReadOnly("status_worker", meters, routes::workerRoute));
        return routes;
    }

    private void sample() {
        try {
            FleetSnapshot snapshot = fleet.snapshot();
            history.sample(snapshot.workers(), snapshot.generation(), snapshot.events(), decisions());
            Map<String, Double> byRole = new TreeMap<>();
            for (WorkerView w : snapshot.workers()) {
                byRole.merge(w.record().role(), w.load().getBytesInPerSecond(), Double::sum);
            }
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            byRole.forEach((role, value) -> rows.add(MultiGauge.Row.of(Tags.of("role", role), value)));
            received.register(rows, true);
        } catch (RuntimeException e) {
            // The timer must survive a bad sample; the next one tries again.
            log.warn("status history sample failed", e);
        }
    }

    private List<ScaleDecision> decisions() {
        Autoscaler a = autoscaler.get();
        return a == null ? List.of() : a.decisions();
    }

    private Response historyRoute(Request request) {
        if (!"GET".equals(request.method())) {
            return notAllowed(request.method());
        }
        if (request.query() != null && !request.query().isEmpty()) {
            return error(400, "query: '" + request.query() + "' (expected: none)");
        }
        return json(200, history.toJson());
    }

    private Response eventsRoute(Request request) {
        if (!"GET".equals(request.method())) {
            return notAllowed(request.method());
        }
        EventDigest.Filter filter;
        try {
            filter = EventDigest.Filter.parse(request.query());
        } catch (IllegalArgumentException e) {
            return error(400, e.getMessage());
        }
        FleetSnapshot snapshot = fleet.snapshot();
        return json(200, EventDigest.toJson(snapshot.events(), decisions(), id -> {
            WorkerView w = snapshot.worker(id);
            return w != null ? w.record().role() : history.roleOf(id);
        }, filter));
    }

    private Response workerRoute(Request request) {
        Matcher m = WORKER.matcher(request.path());
        if (!m.matches()) {
            return error(404, "no such route: " + request.path() + " (expected: /api/status/workers/{id}, id of 1 to 64"
                    + " of A-Z a-z 0-9 . _ -)");
        }
        if (!"GET".equals(request.method())) {
            return notAllowed(request.method());
        }
        String id = m.group(1);
        WorkerView w = fleet.snapshot().worker(id);
        ObjectNode load = history.workerJson(id);
        if (w == null && load == null) {
            return error(404, "worker " + id + ": not in the fleet and not seen in the last 15 minutes"
                    + " (expected: the id of a worker listed by /api/status)");
        }
        ObjectNode root = COMPACT.createObjectNode().put("id", id).put("in_fleet", w != null);
        if (w != null) {
            root.set("worker", FleetJson.worker(w));
            LoadReport r = w.load();
            root.put("config_generation", r.getConfigGeneration());
            root.put("config_digest", r.getConfigDigest());
            ObjectNode counters = root.putObject("counters");
            counters.put("wanopt_app_bytes", r.getWanoptAppBytes()).put("wanopt_wan_bytes", r.getWanoptWanBytes())
                    .put("cache_hits", r.getCacheHits()).put("cache_lookups", r.getCacheLookups())
                    .put("cache_origin_requests", r.getCacheOriginRequests())
                    .put("cache_origin_bytes", r.getCacheOriginBytes()).put("active_flows", r.getActiveFlows())
                    .put("queue_depth", r.getQueueDepth());
            long fallbacks = 0;
            for (CompressionProviderState p : r.getCompressionList()) {
                fallbacks += p.getFallbacks();
            }
            counters.put("compression_fallbacks", fallbacks);
            if (r.getTimestampMillis() > 0) {
                root.put("reported_at", r.getTimestampMillis());
            }
        }
        if (load != null) {
            root.set("history", load);
        }
        return json(200, root);
    }

    private static Response json(int status, Object node) {
        try {
            return Response.json(status, COMPACT.writeValueAsString(node));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Response notAllowed(String method) {
        return error(405, "method " + method + " not allowed (expected: GET)");
    }

    private static Response error(int status, String message) {
        return json(status, COMPACT.createObjectNode().put("error", message));
    }

    @Override
    public void close() {
        sampler.shutdownNow();
    }
}
