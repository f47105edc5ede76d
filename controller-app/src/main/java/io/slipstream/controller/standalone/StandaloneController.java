package io.slipstream.controller.standalone;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.common.AdminHttpServer.RequestRoute;
import io.slipstream.controller.state.Leadership;
import io.slipstream.controller.state.StateRecord;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import io.slipstream.controller.fleet.FleetCore;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.local.LocalProcessScaleTarget;
import io.slipstream.controller.scale.Autoscaler;
import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.ScaleTarget;
import io.slipstream.controller.scale.ScalingJournal;
import io.slipstream.controller.state.FencedException;
import io.slipstream.controller.state.FencedNode;
import io.slipstream.controller.state.StateUnavailableException;
import java.io.Closeable;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller as a plain JVM process, for clusters without ONOS and for the demo. Composition
 * root: the {@link FleetCore} (Curator client, control channels, controller core, membership watcher), then
 * the HTTP API, leadership and durable state, started in that order and closed in reverse.
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
 *
 * <p>Durable state and leadership (issue 23): the policy and the scaling overrides are versioned records in
 * ZooKeeper ({@link DurableState}); controllers elect one leader ({@link Leadership}), which alone pushes
 * configurations and scales; the others serve reads and redirect writes to it ({@link LeaderOnly}).
 */
public final class StandaloneController implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(StandaloneController.class);

    private final Deque<Closeable> closeables = new ArrayDeque<>();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private FleetController fleet;
    private AdminHttpServer http;
    private Autoscaler autoscaler;
    private AdminAccess access;
    private Leadership leadership;
    private DurableState state;
    private CuratorFramework curator;
    private ScaleTarget scaleTarget;

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
        FleetCore core = fleetCore(s).start();
        closeables.push(core);
        curator = core.curator();
        fleet = core.controller();
        http = AdminHttpServer.start(s.httpHost, s.httpPort, meters, () -> true);
        closeables.push(http);
        access = s.adminAccess;
        access.logMode();
        String url = s.advertisedUrl != null ? s.advertisedUrl : advertisedUrl(s.httpHost, http.port());
        leadership = new Leadership(curator, s.name, url);
        state = new DurableState(curator, s.zkAuth, fleet, () -> autoscaler, FleetPolicies.toJson(s.policy), s.name);
        closeables.push(state);
        Gauge.builder("slipstream.controller.leader", this, c -> c.leadership.leading() ? 1 : 0)
                .description("1 while this controller leads (plans, pushes configurations, scales)").register(meters);
        api("/api/fleet", "fleet", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(withLeader(FleetJson.render(fleet.snapshot()))))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        PolicyRoute policy = new PolicyRoute(state, fleet);
        http.route("/api/policy", access.guard("policy", meters, leaderOnly(policy)));
        http.route("/api/policy/history", access.guardReadOnly("policy_history", meters, policy));
        api("/api/placement", "placement", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.placement(fleet.snapshot())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        http.route("/api/workers/", access.guard("drain", meters, leaderOnly(new DrainRoute(fleet))));
        http.route("/api/cache/purge", access.guard("purge", meters, leaderOnly(new PurgeRoute(fleet))));
        http.route("/api/scaling/overrides", access.guard("scaling_overrides", meters,
                leaderOnly(new ScalingOverridesRoute(() -> autoscaler, state))));
        startAutoscaler(s);
        api("/api/status", "status", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(withLeader(FleetJson.status(fleet.snapshot(),
                        autoscaler == null ? java.util.List.of() : autoscaler.decisions()))))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        StatusPage.routes(http);
        closeables.push(StatusHistoryRoutes.start(http, access, meters, fleet, () -> autoscaler));
        // Leadership gates: pushing, then scaling; each has taken effect when the latch's callback returns.
        leadership.gate(fleet::leading);
        if (autoscaler != null) {
            Autoscaler a = autoscaler;
            leadership.gate(a::leading);
        }
        closeables.push(leadership);
        // Joins the election only once the stored state is read: a leader always runs the stored state.
        state.start(Duration.ofSeconds(10), () -> {
            try {
                leadership.start();
            } catch (Exception e) {
                throw new IllegalStateException("joining the leader election failed", e);
            }
        });
        awaitElection(Duration.ofSeconds(5));
        log.info("controller started as {}: ZooKeeper {}, HTTP API on {}:{} ({}), status page http://{}:{}/; {}", s.name,
                s.zookeeper, s.httpHost, http.port(), url, s.httpHost, http.port(),
                leadership.leading() ? "leading" : "following " + leadership.leader());
    }

    /** Waits until this controller leads or knows another that does, at most {@code wait}. */
    private void awaitElection(Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            Leadership.Leader l = leadership.leader();
            if (leadership.leading() || (l != null && !l.self())) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    private RequestRoute leaderOnly(RequestRoute inner) {
        return new LeaderOnly(leadership::leading, leadership::leader, inner);
    }

    /** Adds who leads and which policy version is in force to a JSON answer. */
    private ObjectNode withLeader(ObjectNode root) {
        Leadership.Leader l = leadership.leader();
        ObjectNode leader = root.putObject("leader");
        leader.put("self", leadership.leading());
        leader.put("id", leadership.id());
        if (l == null) {
            leader.putNull("name");
            leader.putNull("url");
        } else {
            leader.put("name", l.name()).put("url", l.url());
        }
        StateRecord p = state.policyRecord();
        ObjectNode policy = root.putObject("policy_state");
        policy.put("version", p == null ? 0 : p.version());
        policy.put("source", p == null ? StateRecord.VALUES : p.source());
        if (p != null) {
            policy.put("principal", p.principal()).put("at", p.at().toString());
        }
        return root;
    }

    private static String advertisedUrl(String host, int port) throws java.net.UnknownHostException {
        String h = host;
        if (h.equals("0.0.0.0") || h.equals("::") || h.isEmpty()) {
            h = java.net.InetAddress.getLocalHost().getHostAddress();
        }
        return "http://" + io.slipstream.common.HostPort.of(h, port);
    }

    /**
     * The fleet core, not leading until the election says so (issue 23): the directory fills, nothing is pushed.
     * Its control channels: mutual TLS (issue 10), reloaded on change; or plaintext, loudly.
     */
    private FleetCore.Builder fleetCore(ControllerSettings s) throws java.io.IOException {
        FleetCore.Builder core = FleetCore.builder(s.zookeeper)
                .sessionTimeoutMillis(s.zkSessionTimeoutMillis)
                .auth(s.zkAuth)
                .membershipGrace(s.membershipGrace)
                .loadIntervalMillis(s.loadIntervalMillis)
                .policy(s.policy)
                .meters(meters)
                .leading(false);
        if (s.insecurePlaintext) {
            return core.plaintext("--insecure-plaintext");
        }
        io.slipstream.common.tls.TlsFiles files = s.tlsFiles;
        if (files == null) {
            files = io.slipstream.common.tls.TlsFiles.inDirectory(s.devCa.issueController("local"));
        }
        return core.mutualTls(files, s.tlsReloadPeriod);
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
                    s.zookeeper, s.devCa, s.insecurePlaintext, s.zkAuth.file())
                    .journal(journal(s, "local-workers"));
        }
        scaleTarget = target;
        closeables.push(target::close);
        autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, s.scaling, meters).journal(journal(s, "intent"));
        autoscaler.leading(false);
        autoscaler.start();
        closeables.push(autoscaler);
        api("/api/scaling", "scaling", (method, query, body) -> "GET".equals(method)
                ? Response.json(200, FleetJson.write(FleetJson.scaling(autoscaler.decisions(), autoscaler.draining())))
                : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
    }

    /**
     * A scaling journal in ZooKeeper (issue 23), written only while this controller leads ({@link FencedNode} checks
     * its leader-election node in the same transaction), with the controller state's ACLs.
     */
    private ScalingJournal journal(ControllerSettings s, String name) {
        FencedNode node = new FencedNode(curator, name, DurableState.stateAcl(s.zkAuth), leadership::fence);
        return new ScalingJournal() {
            @Override
            public java.util.Optional<String> read() throws ScaleException {
                try {
                    return node.read();
                } catch (StateUnavailableException e) {
                    throw new ScaleException(e.getMessage(), e);
                }
            }

            @Override
            public void write(String json) throws ScaleException {
                try {
                    node.write(json);
                } catch (StateUnavailableException | FencedException e) {
                    throw new ScaleException(e.getMessage(), e);
                }
            }

            @Override
            public void checkLeading() throws ScaleException {
                if (leadership.fence() == null) {
                    throw new ScaleException(node.path() + ": this controller no longer leads; the recorded step is "
                            + "left to the next leader");
                }
            }
        };
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

    /** The leader election this controller takes part in. */
    public Leadership leadership() {
        return leadership;
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
        // Scaling stops first, while this controller may still lead: the workers it runs are stopped and that is
        // recorded, rather than released to a next leader when leaving the election deposes it.
        if (autoscaler != null) {
            autoscaler.close();
        }
        if (scaleTarget != null) {
            scaleTarget.close();
        }
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
