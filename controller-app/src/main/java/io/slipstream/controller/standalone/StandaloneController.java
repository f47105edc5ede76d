package io.slipstream.controller.standalone;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.controller.fleet.ControlChannels;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.fleet.MembershipWatcher;
import io.slipstream.controller.local.LocalProcessScaleTarget;
import io.slipstream.controller.scale.Autoscaler;
import io.slipstream.controller.scale.ScaleTarget;
import io.slipstream.proto.v1.FleetPolicy;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller as a plain JVM process, for clusters without ONOS and for the demo. Composition
 * root: Curator client, controller core, membership watcher, HTTP API, started in that order and
 * closed in reverse.
 *
 * <p>HTTP API: {@code GET /api/fleet} (directory as JSON), {@code GET|PUT /api/policy} (fleet
 * policy as JSON; a bad policy gets 400 with every problem and its JSON path), {@code GET /api/placement}
 * (the steering table: which worker serves which flow buckets), {@code POST /api/workers/{id}/drain},
 * {@code POST /api/cache/purge}, {@code GET|PUT|DELETE /api/scaling/overrides} (admin routes behind
 * {@link AdminAccess}), {@code GET /api/scaling} (the
 * autoscaler's latest decision per role and site, when scaling is on), {@code GET /api/status} (everything
 * the status page shows), {@code GET /api/status/history}, {@code /api/status/events} and
 * {@code /api/status/workers/{id}} ({@link StatusHistoryRoutes}), the status page at {@code /} and
 * {@code /status}, {@code /metrics}, {@code /healthz}.
 */
public final class StandaloneController implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(StandaloneController.class);

    private final Deque<Closeable> closeables = new ArrayDeque<>();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private FleetController fleet;
    private AdminHttpServer http;
    private Autoscaler autoscaler;
    private AdminAccess access;

    private StandaloneController() {}

    public static StandaloneController start(ControllerSettings settings) throws Exception {
        StandaloneController controller = new StandaloneController();
        try {
            controller.startParts(settings);
        } catch (Exception e) {
            controller.close();
            throw e;
        }
        return controller;
    }

    private void startParts(ControllerSettings s) throws Exception {
        new JvmMemoryMetrics().bindTo(meters);
        CuratorFramework curator = ZooKeeperClients.newClient(s.zookeeper, s.zkSessionTimeoutMillis, s.zkAuth);
        curator.start();
        closeables.push(curator);
        ControlChannels channels = controlChannels(s);
        fleet = new FleetController(Clock.systemUTC(), s.membershipGrace, s.loadIntervalMillis, s.policy, meters,
                channels);
        closeables.push(fleet);
        MembershipWatcher watcher = new MembershipWatcher(curator, fleet).start();
        closeables.push(watcher);
        http = AdminHttpServer.start(s.httpHost, s.httpPort, meters, () -> true);
        closeables.push(http);
        access = s.adminAccess;
        access.logMode();
        api("/api/fleet", "fleet", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.render(fleet.snapshot())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        http.route("/api/policy", access.guard("policy", meters, request -> policyRoute(request.method(),
                request.query(), request.body())));
        api("/api/placement", "placement", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.placement(fleet.snapshot())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        http.route("/api/workers/", access.guard("drain", meters, new DrainRoute(fleet)));
        http.route("/api/cache/purge", access.guard("purge", meters, new PurgeRoute(fleet)));
        http.route("/api/scaling/overrides", access.guard("scaling_overrides", meters,
                new ScalingOverridesRoute(() -> autoscaler)));
        startAutoscaler(s);
        api("/api/status", "status", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.status(fleet.snapshot(),
                        autoscaler == null ? java.util.List.of() : autoscaler.decisions())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        StatusPage.routes(http);
        closeables.push(StatusHistoryRoutes.start(http, access, meters, fleet, () -> autoscaler));
        log.info("controller started: ZooKeeper {}, HTTP API on {}:{}, status page http://{}:{}/", s.zookeeper,
                s.httpHost, http.port(), s.httpHost, http.port());
    }

    /** Mutual TLS (issue 10) on the control channels, reloaded on change; or plaintext, loudly. */
    private ControlChannels controlChannels(ControllerSettings s) throws java.io.IOException {
        Gauge.builder("slipstream.security.plaintext", () -> s.insecurePlaintext ? 1 : 0)
                .description("1 when control connections are plaintext (development only)").register(meters);
        if (s.insecurePlaintext) {
            log.warn("control channels to workers are PLAINTEXT (--insecure-plaintext): anyone on the network can "
                    + "read and program the fleet; for development only");
            return ControlChannels.plaintext();
        }
        io.slipstream.common.tls.TlsFiles files = s.tlsFiles;
        if (files == null) {
            files = io.slipstream.common.tls.TlsFiles.inDirectory(s.devCa.issueController("local"));
        }
        java.util.concurrent.ScheduledExecutorService reloader = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "tls-reload");
                    t.setDaemon(true);
                    return t;
                });
        closeables.push(reloader::shutdownNow);
        TlsMaterial material = TlsMaterial.load(files).bindTo(meters).reloadEvery(s.tlsReloadPeriod, reloader);
        closeables.push(material);
        log.info("control channels: mutual TLS as {} (certificate serial {}), reloading {} every {}",
                material.identity(), material.serial().toString(16), files, s.tlsReloadPeriod);
        return ControlChannels.mutualTls(material);
    }

    /** Autoscaling (issue 7): the scale target, then the loop; closed in reverse with the rest. */
    private void startAutoscaler(ControllerSettings s) throws Exception {
        if (!s.scaling.enabled()) {
            if (s.scaleTarget != null) {
                closeables.push(s.scaleTarget::close);
            }
            return;
        }
        ScaleTarget target = s.scaleTarget;
        if (target == null) {
            if (!"local".equals(s.scaling.target())) {
                throw new IllegalArgumentException("scaling.target: '" + s.scaling.target()
                        + "' (expected: local, or a scale target handed to ControllerSettings.scaleTarget)");
            }
            target = LocalProcessScaleTarget.plain(java.nio.file.Files.createTempDirectory("slipstream-workers"),
                    s.zookeeper, s.devCa, s.insecurePlaintext, s.zkAuth.file());
        }
        closeables.push(target::close);
        autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, s.scaling, meters).start();
        closeables.push(autoscaler);
        api("/api/scaling", "scaling", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.scaling(autoscaler.decisions(), autoscaler.draining())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
    }

    /** A read-only API route behind the access check for reads and the counter of {@link AdminAccess}. */
    private void api(String path, String name, AdminHttpServer.Route route) {
        http.route(path, access.guardReadOnly(name, meters, request -> route.handle(request.method(), request.query(),
                request.body())));
    }

    /** The autoscaler, or {@code null} when scaling is off. */
    public Autoscaler autoscaler() {
        return autoscaler;
    }

    private Response policyRoute(String method, String query, byte[] body) throws Exception {
        if ("GET".equals(method)) {
            return Response.json(200, FleetPolicies.toJson(fleet.snapshot().policy()));
        }
        if (!"PUT".equals(method)) {
            return Response.text(405, "method " + method + " not allowed (expected: GET or PUT)\n");
        }
        FleetPolicy policy;
        try {
            policy = FleetPolicies.parse(new String(body, StandardCharsets.UTF_8));
        } catch (PolicyException e) {
            var error = FleetJson.mapper().createObjectNode().put("error", e.getMessage());
            e.problems().forEach(error.putArray("problems")::add);
            return Response.json(400, FleetJson.write(error));
        }
        long generation = fleet.updatePolicy(policy).get(5, TimeUnit.SECONDS);
        return Response.json(200, FleetJson.write(FleetJson.mapper().createObjectNode().put("generation", generation)));
    }

    public FleetController fleet() {
        return fleet;
    }

    /** Port of the HTTP API. */
    public int httpPort() {
        return http.port();
    }

    public PrometheusMeterRegistry meters() {
        return meters;
    }

    @Override
    public void close() {
        while (!closeables.isEmpty()) {
            try {
                closeables.pop().close();
            } catch (Exception e) {
                log.debug("closing", e);
            }
        }
        meters.close();
    }
}
