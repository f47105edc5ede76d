package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.controller.onos.FakeWorker;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.Site;
import java.time.Clock;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * The controller core's leadership gate with a real ZooKeeper and a worker on real gRPC: a controller that does not
 * lead keeps its directory (membership, health, load) but never asks status or pushes; once it leads it learns the
 * worker's status and then pushes; once {@code leading(false)} returned, a policy change pushes nothing.
 */
class LeadershipGateIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void follower_keepsDirectoryButNeverAsksOrPushes_leaderDoes_deposedStopsAtOnce() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             CuratorFramework curator = ZooKeeperClients.newClient(zk.getConnectString(), 10_000)) {
            curator.start();
            FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(5), 200,
                    FleetPolicy.getDefaultInstance(), new SimpleMeterRegistry());
            FakeWorker worker = FakeWorker.start(curator, "fw1", "wanopt", "a", "127.0.0.1", 125_000_000L);
            try (fleet; worker; MembershipWatcher watcher = new MembershipWatcher(curator, fleet).start()) {
                fleet.leading(false);
                await().atMost(WAIT).until(() -> fleet.snapshot().worker("fw1") != null
                        && fleet.snapshot().worker("fw1").health() == Health.SERVING
                        && fleet.snapshot().worker("fw1").load().getTimestampMillis() > 0);
                // Past the settle window (at most 10 s): a leader would have asked and pushed by now.
                await().during(Duration.ofMillis(FleetController.SETTLE_MAX.toMillis() + 500))
                        .atMost(FleetController.SETTLE_MAX.plusSeconds(5))
                        .until(() -> worker.applies() == 0 && worker.statusCalls() == 0);

                fleet.leading(true);
                await().atMost(WAIT).until(() -> worker.statusCalls() >= 1 && worker.applies() == 1);
                await().atMost(WAIT).until(() -> fleet.snapshot().converged());

                fleet.leading(false);
                fleet.updatePolicy(FleetPolicy.newBuilder().addSites(Site.newBuilder().setName("a")
                        .addPrefixes("198.18.1.0/24")).build()).get();
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> worker.applies() == 1);

                fleet.leading(true);
                await("the new policy reaches the worker once it leads again").atMost(WAIT)
                        .until(() -> worker.applies() == 2);
            }
        }
    }
}
