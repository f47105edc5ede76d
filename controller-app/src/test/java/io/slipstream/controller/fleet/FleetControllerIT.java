package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.PurgeRequest;
import io.slipstream.proto.v1.Site;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The controller core's decisions about workers on real gRPC on loopback, fed membership directly (no ZooKeeper)
 * and timed by a clock the test moves: nothing before the view settles, one push then none while the worker runs
 * the plan, no push to a worker that already runs it, a refused configuration, the membership grace, an
 * unreachable worker, drain and purge.
 */
class FleetControllerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration GRACE = Duration.ofSeconds(5);
    private static final FleetPolicy POLICY = FleetPolicy.newBuilder()
            .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24")).build();

    private final MutableClock clock = new MutableClock();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private FleetController controller(SimpleMeterRegistry registry) {
        FleetController fleet = new FleetController(clock, GRACE, 200, POLICY, registry);
        closeables.add(fleet);
        fleet.zooKeeper(true); // as the membership watcher says once connected
        return fleet;
    }

    private LoopbackWorker worker(String id, String role, String site) throws Exception {
        LoopbackWorker w = LoopbackWorker.start(id, role, site);
        closeables.add(w);
        return w;
    }

    private static void awaitServing(FleetController fleet, String... ids) {
        await().atMost(WAIT).until(() -> {
            for (String id : ids) {
                WorkerView w = fleet.snapshot().worker(id);
                if (w == null || w.health() != Health.SERVING) {
                    return false;
                }
            }
            return true;
        });
    }

    private double pushes(SimpleMeterRegistry registry, String result) {
        return registry.get("slipstream.controller.config.pushes").tag("result", result).counter().count();
    }

    @Test
    void servingWorker_nothingAskedBeforeTheViewSettles_thenConfiguredOnce() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        fleet.membership(List.of(w1.record()));
        awaitServing(fleet, "w1");

        // The clock stands at the start: the view has not settled, whatever the worker says.
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3))
                .until(() -> w1.statusCalls() == 0 && w1.applies() == 0);

        clock.advance(FleetController.SETTLE_MIN);
        await().atMost(WAIT).until(() -> fleet.snapshot().converged());
        assertThat(w1.statusCalls()).isGreaterThanOrEqualTo(1);
        assertThat(w1.applies()).isEqualTo(1);
        assertThat(w1.config().getSite()).isEqualTo("a");
        assertThat(w1.config().getSitesList()).isEqualTo(POLICY.getSitesList());
        assertThat(fleet.snapshot().worker("w1").steerable()).isTrue();
        assertThat(pushes(meters, "applied")).isEqualTo(1);

        // Converged: more reconcile rounds push nothing.
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() -> w1.applies() == 1);
    }

    @Test
    void policyUpdated_afterConverging_pushedAgainWithAHigherGeneration() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        fleet.membership(List.of(w1.record()));
        awaitServing(fleet, "w1");
        clock.advance(FleetController.SETTLE_MIN);
        await().atMost(WAIT).until(() -> fleet.snapshot().converged() && w1.applies() == 1);
        long first = w1.config().getGeneration();

        FleetPolicy next = POLICY.toBuilder().addSites(Site.newBuilder().setName("b").addPrefixes("198.18.2.0/24"))
                .build();
        fleet.updatePolicy(next).get(5, TimeUnit.SECONDS);

        await().atMost(WAIT).until(() -> w1.applies() == 2 && fleet.snapshot().converged());
        assertThat(w1.config().getGeneration()).isGreaterThan(first);
        assertThat(w1.config().getSitesList()).isEqualTo(next.getSitesList());
    }

    @Test
    void restartedController_workerAlreadyRunsThePlan_asksButPushesNothing() throws Exception {
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        FleetController before = controller(meters);
        before.membership(List.of(w1.record()));
        awaitServing(before, "w1");
        clock.advance(FleetController.SETTLE_MIN);
        await().atMost(WAIT).until(() -> before.snapshot().converged() && w1.applies() == 1);
        before.close();
        int asked = w1.statusCalls();

        SimpleMeterRegistry afterMeters = new SimpleMeterRegistry();
        FleetController after = controller(afterMeters);
        after.membership(List.of(w1.record()));
        awaitServing(after, "w1");
        clock.advance(FleetController.SETTLE_MIN);

        await().atMost(WAIT).until(() -> after.snapshot().converged() && w1.statusCalls() > asked);
        assertThat(w1.applies()).isEqualTo(1);
        assertThat(pushes(afterMeters, "applied")).isZero();
        assertThat(after.snapshot().worker("w1").configDigest()).isNotEmpty();
    }

    @Test
    void workerRefusesItsConfiguration_countedRejected_notConvergedNorSteerable() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        w1.rejectConfigs = true;
        fleet.membership(List.of(w1.record()));
        awaitServing(fleet, "w1");
        clock.advance(FleetController.SETTLE_MIN);

        await().atMost(WAIT).until(() -> pushes(meters, "rejected") >= 1);
        assertThat(fleet.snapshot().converged()).isFalse();
        assertThat(fleet.snapshot().worker("w1").steerable()).isFalse();
        assertThat(pushes(meters, "applied")).isZero();
    }

    @Test
    void servingWorkerLeavesMembership_keptUnregisteredForTheGrace_thenRemovedWithANewGeneration() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        fleet.membership(List.of(w1.record()));
        awaitServing(fleet, "w1");
        long generation = fleet.snapshot().generation();

        fleet.membership(List.of());
        await().atMost(WAIT).until(() -> !fleet.snapshot().worker("w1").registered());
        assertThat(fleet.snapshot().worker("w1").healthy()).isTrue();

        clock.advance(GRACE.plusSeconds(1));
        await().atMost(WAIT).until(() -> fleet.snapshot().worker("w1") == null);
        assertThat(fleet.snapshot().generation()).isGreaterThan(generation);
    }

    @Test
    void unreachableWorker_downWithTheReasonAndTheLinkFailureCounted() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        FleetController fleet = controller(meters);
        LoopbackWorker template = worker("w9", "wanopt", "a");
        io.slipstream.contract.WorkerRecord r = template.record();
        fleet.membership(List.of(new io.slipstream.contract.WorkerRecord(r.id(), r.role(), r.site(),
                "127.0.0.1:" + closedPort, r.dataEndpoint(), "", r.capacityBytesPerSecond(),
                r.compressionProviders(), r.version())));

        await().atMost(WAIT).until(() -> fleet.snapshot().worker("w9") != null
                && fleet.snapshot().worker("w9").health() == Health.DOWN);
        assertThat(fleet.snapshot().worker("w9").reason()).isNotBlank();
        assertThat(meters.get("slipstream.controller.link.failures").counter().count()).isGreaterThanOrEqualTo(1);
        assertThat(template.statusCalls()).isZero();
    }

    @Test
    void drain_workerInTheDirectory_reachesItAndItsAnswerComesBack() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker w1 = worker("w1", "wanopt", "a");
        fleet.membership(List.of(w1.record()));
        awaitServing(fleet, "w1");
        DrainRequest request = DrainRequest.newBuilder().setTimeoutMillis(1000).build();

        assertThat(fleet.drain("w1", request).get(5, TimeUnit.SECONDS).getStarted()).isTrue();
        assertThat(w1.drains()).containsExactly(request);
    }

    @Test
    void purge_ofOneSite_asksOnlyThatSitesCacheWorkers() throws Exception {
        FleetController fleet = controller(meters);
        LoopbackWorker ca = worker("ca", "cache", "a");
        LoopbackWorker cb = worker("cb", "cache", "b");
        LoopbackWorker wa = worker("wa", "wanopt", "a");
        ca.purged = 3;
        cb.purged = 5;
        fleet.membership(List.of(ca.record(), cb.record(), wa.record()));
        awaitServing(fleet, "ca", "cb", "wa");

        Map<String, Object> answers = fleet.purge("a", PurgeRequest.newBuilder().setUrl("http://example.test/x")
                .build()).get(5, TimeUnit.SECONDS);
        assertThat(answers).containsExactly(Map.entry("ca", 3));

        assertThat(fleet.purge("", PurgeRequest.newBuilder().setUrl("http://example.test/x").build())
                .get(5, TimeUnit.SECONDS)).containsOnly(Map.entry("ca", 3), Map.entry("cb", 5));
    }
}
