package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ZooKeeper goes away for longer than the workers' session timeout and comes back: the directory
 * keeps every worker (stale) meanwhile, workers register again under new sessions, and the
 * healthy set never changes.
 */
class ZooKeeperOutageIT {

    @Test
    void outage_keepsDirectory_andRestartReconcilesWithoutFlapping(@TempDir Path logs) throws Exception {
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(FleetPolicy.getDefaultInstance());
            fleet.startWorker("wanopt-a1", "wanopt", "a");
            fleet.startWorker("wanopt-b1", "wanopt", "b");
            fleet.awaitServingAndConfigured("wanopt-a1", "wanopt-b1");

            List<Set<String>> healthySets = new CopyOnWriteArrayList<>();
            fleet.controller.fleet().addListener(s -> {
                if (healthySets.isEmpty() || !healthySets.get(healthySets.size() - 1).equals(s.healthy())) {
                    healthySets.add(s.healthy());
                }
            });
            healthySets.add(fleet.controller.fleet().snapshot().healthy());

            Map<String, Long> ownersBefore = owners(fleet);

            fleet.zk.stop();
            FleetSnapshot stale = fleet.awaitFleet(FleetSnapshot::stale);
            assertThat(stale.workers()).hasSize(2);
            // Longer than the workers' session timeout, so their sessions expire and are replaced;
            // all the while the directory keeps both workers, stale, and both stay in the healthy set.
            Duration outage = Duration.ofMillis(Fleet.WORKER_SESSION_TIMEOUT_MILLIS + 2000);
            await().during(outage).atMost(outage.plusSeconds(5)).until(() -> {
                FleetSnapshot s = fleet.controller.fleet().snapshot();
                return s.stale() && s.workers().size() == 2 && s.healthy().size() == 2;
            });

            fleet.zk.restart();
            fleet.awaitFleet(s -> !s.stale() && s.workers().size() == 2
                    && s.workers().stream().allMatch(w -> w.registered() && w.healthy()));
            // Both registered again, each under a new session.
            await().atMost(Fleet.WAIT).until(() -> {
                Map<String, Long> now = owners(fleet);
                return now.size() == 2 && now.entrySet().stream()
                        .allMatch(e -> !e.getValue().equals(ownersBefore.get(e.getKey())));
            });
            FleetSnapshot after = fleet.controller.fleet().snapshot();
            assertThat(after.healthy()).containsExactlyInAnyOrder("wanopt-a1", "wanopt-b1");
            assertThat(healthySets).as("healthy set over the whole episode").hasSize(1);
            System.out.println("ZOOKEEPER OUTAGE: directory kept " + stale.workers().size()
                    + " workers while stale; healthy-set changes during outage and restart: " + (healthySets.size() - 1));
        }
    }

    private static Map<String, Long> owners(Fleet fleet) throws Exception {
        Map<String, Long> owners = new HashMap<>();
        try (CuratorFramework client = ZooKeeperClients.newClient(fleet.zk.getConnectString(), 10_000)) {
            client.start();
            client.blockUntilConnected(10, TimeUnit.SECONDS);
            for (String id : List.of("wanopt-a1", "wanopt-b1")) {
                Stat stat = client.checkExists().forPath(FleetPaths.instancePath(id));
                if (stat != null) {
                    owners.put(id, stat.getEphemeralOwner());
                }
            }
        }
        return owners;
    }
}
