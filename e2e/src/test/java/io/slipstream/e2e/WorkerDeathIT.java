package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.proto.v1.FleetPolicy;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a worker JVM: out of the controller's healthy set within a second, not after the ZooKeeper timeout. */
class WorkerDeathIT {

    @Test
    void killedWorker_leavesHealthySetWithinOneSecond_thenLeavesDirectoryWithItsSession(@TempDir Path logs)
            throws Exception {
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(FleetPolicy.getDefaultInstance());
            LocalWorkerProcess victim = fleet.startWorker("cache-a1", "cache", "a");
            fleet.startWorker("cache-a2", "cache", "a");
            fleet.awaitServingAndConfigured("cache-a1", "cache-a2");

            AtomicLong detectedAt = new AtomicLong();
            CountDownLatch detected = new CountDownLatch(1);
            fleet.controller.fleet().addListener(s -> {
                if (!s.healthy().contains("cache-a1") && detectedAt.compareAndSet(0, System.nanoTime())) {
                    detected.countDown();
                }
            });
            long killedAt = System.nanoTime();
            victim.kill();
            assertThat(detected.await(5, TimeUnit.SECONDS)).as("detected within 5 s").isTrue();
            double millis = (detectedAt.get() - killedAt) / 1e6;
            System.out.printf("DETECTION: kill -9 of cache-a1 -> out of the healthy set after %.1f ms%n", millis);
            assertThat(millis).as("detection time in ms").isLessThan(1000);

            FleetSnapshot now = fleet.controller.fleet().snapshot();
            assertThat(now.worker("cache-a1").health()).isEqualTo(Health.DOWN);
            assertThat(now.healthy()).containsExactly("cache-a2");
            // The survivor is reconfigured: it alone owns the key space now.
            fleet.awaitFleet(s -> s.worker("cache-a2").healthy()
                    && fleet.controller.meters().get("slipstream.controller.config.pushes")
                    .tag("result", "applied").counter().count() >= 3);
            // ZooKeeper forgets the dead worker once its session times out; so does the directory.
            fleet.awaitFleet(s -> s.worker("cache-a1") == null);
        }
    }
}
