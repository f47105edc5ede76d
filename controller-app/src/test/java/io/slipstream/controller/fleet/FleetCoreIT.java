package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.controller.onos.FakeWorker;
import io.slipstream.proto.v1.FleetPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * The fleet core against a real ZooKeeper (Curator TestingServer) and a worker registered there with a real gRPC
 * control endpoint: the listener hears the worker serving; close stops the client. (The leadership gate itself:
 * LeadershipGateIT.)
 */
class FleetCoreIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void start_workerRegistered_listenerHearsItServing_closeStopsTheClient() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             CuratorFramework workers = ZooKeeperClients.newClient(zk.getConnectString(), 10_000)) {
            workers.start();
            List<FleetSnapshot> heard = new CopyOnWriteArrayList<>();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            FleetCore core = FleetCore.builder(zk.getConnectString())
                    .sessionTimeoutMillis(5000)
                    .membershipGrace(Duration.ofSeconds(3))
                    .loadIntervalMillis(200)
                    .policy(FleetPolicy.getDefaultInstance())
                    .meters(meters)
                    .plaintext("test")
                    .leading(false)
                    .listener(heard::add)
                    .start();
            try (FakeWorker worker = FakeWorker.start(workers, "fw1", "wanopt", "a", "127.0.0.1", 125_000_000L)) {
                assertThat(core.zookeeper()).isEqualTo(zk.getConnectString());
                await().atMost(WAIT).until(() -> heard.stream().anyMatch(s -> s.worker("fw1") != null
                        && s.worker("fw1").health() == Health.SERVING));
                assertThat(core.controller().snapshot().stale()).isFalse();
                assertThat(meters.get("slipstream.security.plaintext").gauge().value()).isEqualTo(1);
            } finally {
                core.close();
            }
            assertThat(core.curator().getState()).isEqualTo(CuratorFrameworkState.STOPPED);
        }
    }
}
