package io.slipstream.controller.scale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.fleet.MembershipWatcher;
import io.slipstream.controller.onos.FakeWorker;
import io.slipstream.proto.v1.FleetPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * A scale-in's drain with a real ZooKeeper and two workers on real gRPC (issue 23): the drain is recorded before it
 * shows in {@link Autoscaler#draining()} (what {@code GET /api/scaling} lists) and before any worker is asked to
 * drain, so a leader killed as soon as a drain is visible has always recorded it for the next leader.
 */
class AutoscalerDrainRecordIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void scaleIn_drainIsRecordedBeforeItShowsAndBeforeAnyWorkerIsAsked() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             CuratorFramework curator = ZooKeeperClients.newClient(zk.getConnectString(), 10_000)) {
            curator.start();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(5), 200,
                    FleetPolicy.getDefaultInstance(), meters);
            FakeWorker one = FakeWorker.start(curator, "cache-b-1", "cache", "b", "127.0.0.1", 125_000_000L);
            FakeWorker two = FakeWorker.start(curator, "cache-b-2", "cache", "b", "127.0.0.1", 125_000_000L);
            AutoscalerTest.RecordingTarget target = new AutoscalerTest.RecordingTarget();
            target.replicas = 2;
            ScalingConfig config = new ScalingConfig(true, Duration.ofMillis(50), "local",
                    List.of(ScalingRule.builder("cache", "b").replicas(1, 2).maxStep(1).build()));
            List<String> visibleAtRecord = new CopyOnWriteArrayList<>();
            List<Integer> drainsAskedAtRecord = new CopyOnWriteArrayList<>();
            Autoscaler[] holder = new Autoscaler[1];
            ScalingJournal memory = ScalingJournal.inMemory();
            ScalingJournal watching = new ScalingJournal() {
                @Override
                public Optional<String> read() throws ScaleException {
                    return memory.read();
                }

                @Override
                public void write(String json) throws ScaleException {
                    if (json.contains("\"drain\":{") && visibleAtRecord.isEmpty()) {
                        visibleAtRecord.add(String.valueOf(holder[0].draining()));
                        drainsAskedAtRecord.add(one.drains().size() + two.drains().size());
                    }
                    memory.write(json);
                }
            };
            try (fleet; one; two; MembershipWatcher watcher = new MembershipWatcher(curator, fleet).start();
                 Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config, meters)
                         .journal(watching)) {
                holder[0] = autoscaler;
                await().atMost(WAIT).until(() -> fleet.snapshot().workers().size() == 2
                        && fleet.snapshot().workers().stream().allMatch(w -> w.load().getTimestampMillis() > 0));
                autoscaler.start();
                autoscaler.override("cache", "b", 1, 1);

                await().atMost(WAIT).until(() -> autoscaler.draining().size() == 1);
                assertThat(visibleAtRecord).as("draining() while the drain was being recorded").containsExactly("[]");
                assertThat(drainsAskedAtRecord).as("workers asked to drain before it was recorded").containsExactly(0);
                await().atMost(WAIT).until(() -> one.drains().size() + two.drains().size() == 1);
                assertThat(memory.read().orElseThrow()).contains("\"drain\":{\"replicas\":1,")
                        .contains(autoscaler.draining().get(0));
            }
        }
    }
}
