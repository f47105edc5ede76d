package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.proto.v1.DrainRequest;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.PurgeRequest;
import io.slipstream.proto.v1.Site;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The controller core's decisions that need no worker: policy validation and generations, ZooKeeper away,
 * drain and purge without a target, listeners. No ZooKeeper, no socket (workers on real gRPC: FleetControllerIT).
 */
class FleetControllerTest {

    private static final FleetPolicy BAD = FleetPolicy.newBuilder().setBucketCount(3).build();
    private static final FleetPolicy SITE_A = FleetPolicy.newBuilder()
            .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24")).build();

    private final MutableClock clock = new MutableClock();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final FleetController fleet = new FleetController(clock, Duration.ofSeconds(5), 200,
            FleetPolicy.getDefaultInstance(), meters);

    @AfterEach
    void close() {
        fleet.close();
    }

    @Test
    void constructor_invalidPolicy_rejectedNamingTheField() {
        assertThatThrownBy(() -> new FleetController(clock, Duration.ofSeconds(5), 200, BAD, meters))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining("bucket");
    }

    @Test
    void newController_zooKeeperNotHeardFromYet_staleEmptyFleetAtGenerationOne() {
        FleetSnapshot s = fleet.snapshot();

        assertThat(s.workers()).isEmpty();
        assertThat(s.generation()).isEqualTo(1);
        assertThat(s.stale()).isTrue();
        assertThat(s.policy()).isEqualTo(FleetPolicy.getDefaultInstance());
        assertThat(meters.get("slipstream.controller.workers").tag("role", "wanopt").tag("health", "serving")
                .gauge().value()).isZero();
    }

    @Test
    void updatePolicy_valid_bumpsTheGenerationAndPublishesThePolicy() throws Exception {
        List<FleetSnapshot> heard = new CopyOnWriteArrayList<>();
        fleet.addListener(heard::add);

        long generation = fleet.updatePolicy(SITE_A).get(5, TimeUnit.SECONDS);

        assertThat(generation).isEqualTo(2);
        assertThat(fleet.snapshot().policy()).isEqualTo(SITE_A);
        assertThat(fleet.snapshot().generation()).isEqualTo(2);
        assertThat(heard).isNotEmpty();
        assertThat(heard.get(heard.size() - 1).policy()).isEqualTo(SITE_A);
        assertThat(fleet.updatePolicy(SITE_A).get(5, TimeUnit.SECONDS)).isEqualTo(3);
    }

    @Test
    void updatePolicy_invalid_rejectedAtOnceAndThePolicyInForceKept() throws Exception {
        fleet.updatePolicy(SITE_A).get(5, TimeUnit.SECONDS);

        assertThatThrownBy(() -> fleet.updatePolicy(BAD)).isInstanceOf(PolicyException.class)
                .hasMessageContaining("bucket");
        fleet.leading(true); // a barrier: everything queued on the loop before it has run

        assertThat(fleet.snapshot().policy()).isEqualTo(SITE_A);
        assertThat(fleet.snapshot().generation()).isEqualTo(2);
    }

    @Test
    void zooKeeperAway_snapshotStaleAndGaugeOne_backAgain_notStale() {
        fleet.zooKeeper(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> !fleet.snapshot().stale());
        fleet.zooKeeper(false);
        await().atMost(Duration.ofSeconds(5)).until(() -> fleet.snapshot().stale());
        assertThat(meters.get("slipstream.controller.directory.stale").gauge().value()).isEqualTo(1);

        fleet.zooKeeper(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> !fleet.snapshot().stale());
        assertThat(meters.get("slipstream.controller.directory.stale").gauge().value()).isZero();
    }

    @Test
    void drain_workerNotInTheDirectory_failsNamingTheWorker() {
        assertThatThrownBy(() -> fleet.drain("nobody", DrainRequest.getDefaultInstance()).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IllegalArgumentException.class)
                .hasMessage("worker: 'nobody' (expected: a worker in the directory)");
    }

    @Test
    void purge_noCacheWorker_completesWithNoAnswers() throws Exception {
        assertThat(fleet.purge("", PurgeRequest.newBuilder().setUrl("http://example.test/a").build())
                .get(5, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void listenerThatThrows_otherListenersStillHearEverySnapshot() throws Exception {
        List<Long> heard = new CopyOnWriteArrayList<>();
        fleet.addListener(s -> {
            throw new IllegalStateException("a broken listener");
        });
        fleet.addListener(s -> heard.add(s.generation()));

        fleet.updatePolicy(SITE_A).get(5, TimeUnit.SECONDS);

        assertThat(heard).contains(2L);
    }

    @Test
    void loopTaskThrows_loggedAndCounted_periodicExpiryCarriesOn() {
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        java.time.Clock failing = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                reads.incrementAndGet();
                if (failures.get() > 0 && failures.decrementAndGet() >= 0) {
                    throw new IllegalStateException("clock failure for the test");
                }
                return java.time.Instant.parse("2026-01-01T00:00:00Z");
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (FleetController c = new FleetController(failing, Duration.ofSeconds(5), 200, FleetPolicy.getDefaultInstance(),
                registry)) {
            failures.set(3); // the periodic expiry's next runs throw
            await().atMost(Duration.ofSeconds(10)).until(() -> failures.get() <= 0);
            long after = reads.get();
            // Before: the first exception cancelled the periodic expiry for good, and nobody heard of it
            await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() > after + 4);
            assertThat(registry.get("slipstream.controller.loop.errors").functionCounter().count()).isPositive();
            c.zooKeeper(true); // a one-off task still runs too
            await().atMost(Duration.ofSeconds(10)).until(() -> !c.snapshot().stale());
        }
    }
}
