package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.WorkerRecord;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetDirectoryTest {

    private final MutableClock clock = new MutableClock();
    private final FleetDirectory directory = new FleetDirectory(clock, Duration.ofSeconds(10));

    static WorkerRecord record(String id, String role, String site) {
        return new WorkerRecord(id, role, site, "127.0.0.1:" + (9000 + Math.abs(id.hashCode() % 1000)), "", "",
                125_000_000L, List.of(), "test");
    }

    private final WorkerRecord w1 = record("w1", "wanopt", "a");
    private final WorkerRecord w2 = record("w2", "wanopt", "b");

    @Test
    void membership_newWorker_isAddedUnknownAndNotHealthy() {
        directory.onZooKeeper(true);
        FleetDirectory.Changes changes = directory.onMembership(List.of(w1));
        assertThat(changes.added).containsExactly(w1);
        assertThat(directory.get("w1").health()).isEqualTo(Health.UNKNOWN);
        assertThat(directory.healthy()).isEmpty();
    }

    @Test
    void health_serving_joinsHealthySet_andLinkDownLeavesAtOnce() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1, w2));
        assertThat(directory.onHealth("w1", Health.SERVING)).isTrue();
        assertThat(directory.onHealth("w1", Health.SERVING)).isFalse();
        assertThat(directory.healthy()).containsExactly("w1");
        assertThat(directory.onLinkDown("w1", "UNAVAILABLE")).isTrue();
        assertThat(directory.healthy()).isEmpty();
        assertThat(directory.get("w1").reason()).isEqualTo("UNAVAILABLE");
        // Still registered: it stays in the directory, down, until ZooKeeper says it is gone.
        assertThat(directory.get("w1").registered()).isTrue();
    }

    @Test
    void membership_downWorkerGoneFromZooKeeper_isRemovedAtOnce() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1, w2));
        directory.onLinkDown("w1", "killed");
        FleetDirectory.Changes changes = directory.onMembership(List.of(w2));
        assertThat(changes.removed).containsExactly("w1");
        assertThat(directory.get("w1")).isNull();
    }

    @Test
    void zooKeeperAway_keepsMembershipAndMarksStale() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1, w2));
        directory.onHealth("w1", Health.SERVING);
        directory.onZooKeeper(false);
        clock.advance(Duration.ofMinutes(5));
        assertThat(directory.expire().isEmpty()).isTrue();
        assertThat(directory.stale()).isTrue();
        assertThat(directory.workers()).extracting(WorkerView::id).containsExactly("w1", "w2");
        assertThat(directory.healthy()).containsExactly("w1");
    }

    @Test
    void servingWorkerMissingAfterReconnect_isKeptForGrace_thenBackWithoutFlap() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1, w2));
        directory.onHealth("w1", Health.SERVING);
        directory.onHealth("w2", Health.SERVING);
        directory.onZooKeeper(false);
        directory.onZooKeeper(true);
        // The cache resyncs before w1 has re-registered with its new session.
        FleetDirectory.Changes changes = directory.onMembership(List.of(w2));
        assertThat(changes.removed).isEmpty();
        assertThat(directory.get("w1").registered()).isFalse();
        assertThat(directory.healthy()).containsExactly("w1", "w2");
        clock.advance(Duration.ofSeconds(3));
        assertThat(directory.expire().isEmpty()).isTrue();
        directory.onMembership(List.of(w1, w2));
        assertThat(directory.get("w1").registered()).isTrue();
        clock.advance(Duration.ofSeconds(30));
        assertThat(directory.expire().isEmpty()).isTrue();
        assertThat(directory.healthy()).containsExactly("w1", "w2");
    }

    @Test
    void servingWorkerMissingPastGrace_isExpired() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1));
        directory.onHealth("w1", Health.SERVING);
        directory.onMembership(List.of());
        clock.advance(Duration.ofSeconds(9));
        assertThat(directory.expire().removed).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(directory.expire().removed).containsExactly("w1");
        assertThat(directory.workers()).isEmpty();
    }

    @Test
    void unregisteredWorkerThatStopsServing_isRemovedWithoutWaiting() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1));
        directory.onHealth("w1", Health.SERVING);
        directory.onMembership(List.of());
        assertThat(directory.onHealth("w1", Health.NOT_SERVING)).isTrue();
        assertThat(directory.get("w1")).isNull();
    }

    @Test
    void membership_changedRecord_isReportedAsUpdated() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1));
        WorkerRecord moved = new WorkerRecord("w1", "wanopt", "a", "127.0.0.1:1", "", "", 1, List.of(), "test");
        assertThat(directory.onMembership(List.of(moved)).updated).containsExactly(moved);
        assertThat(directory.get("w1").record().controlEndpoint()).isEqualTo("127.0.0.1:1");
    }

    @Test
    void events_areBounded_andOrdered() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(w1));
        for (int i = 0; i < 300; i++) {
            directory.onHealth("w1", i % 2 == 0 ? Health.SERVING : Health.NOT_SERVING);
        }
        List<FleetEvent> events = directory.events();
        assertThat(events).hasSize(FleetDirectory.MAX_EVENTS);
        assertThat(events.get(events.size() - 1).kind()).isEqualTo("not_serving");
    }
}
