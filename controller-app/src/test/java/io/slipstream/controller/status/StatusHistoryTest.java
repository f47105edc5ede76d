package io.slipstream.controller.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.fleet.FleetDirectory;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.MutableClock;
import io.slipstream.controller.scale.ScaleDecision;
import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusHistoryTest {

    private final MutableClock clock = new MutableClock();
    private final FleetDirectory directory = new FleetDirectory(clock, Duration.ofSeconds(10));

    private static WorkerRecord record(String id, String role, String site) {
        return new WorkerRecord(id, role, site, "127.0.0.1:1", "", "", 125_000_000L, List.of(), "test");
    }

    private void join(WorkerRecord... records) {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(records));
        for (WorkerRecord r : records) {
            directory.onHealth(r.id(), Health.SERVING);
        }
    }

    private LoadReport.Builder report(String id) {
        return LoadReport.newBuilder().setWorkerId(id).setTimestampMillis(clock.millis());
    }

    /** Advances one second and samples. */
    private void tick(StatusHistory history) {
        clock.advance(Duration.ofSeconds(1));
        history.sample(directory.workers(), 1, directory.events(), List.of());
    }

    private static float last(float[] values) {
        return values[values.length - 1];
    }

    @Test
    void sample_countersGrowBetweenReports_ratesAndRatiosPerSiteAndForTheCache() {
        StatusHistory history = new StatusHistory(clock);
        join(record("wan-a1", "wanopt", "a"), record("cache-a1", "cache", "a"));
        directory.onLoad("wan-a1", report("wan-a1").setWanoptAppBytes(5000).setWanoptWanBytes(900).build());
        directory.onLoad("cache-a1", report("cache-a1").setCacheLookups(10).setCacheHits(3).build());
        tick(history);
        // The first report is the baseline: nothing is known about what came before it.
        assertThat(last(history.values("wan.app.a"))).isZero();
        directory.onLoad("wan-a1", report("wan-a1").setWanoptAppBytes(7000).setWanoptWanBytes(1100)
                .setActiveFlows(3).setBytesInPerSecond(2000).build());
        directory.onLoad("cache-a1", report("cache-a1").setCacheLookups(20).setCacheHits(12).setCacheOriginRequests(1)
                .setCacheOriginBytes(4096).build());
        tick(history);

        assertThat(last(history.values("wan.app.a"))).isEqualTo(2000f);
        assertThat(last(history.values("wan.wan.a"))).isEqualTo(200f);
        assertThat(last(history.values("wan.ratio.a"))).isEqualTo(0.1f);
        assertThat(last(history.values("cache.lookups"))).isEqualTo(10f);
        assertThat(last(history.values("cache.hit_ratio"))).isEqualTo(0.9f);
        assertThat(last(history.values("cache.origin_bytes"))).isEqualTo(4096f);
        assertThat(last(history.values("flows.wanopt"))).isEqualTo(3f);
        assertThat(last(history.values("throughput.wanopt"))).isEqualTo(2000f);
        assertThat(last(history.values("size.role.cache"))).isEqualTo(1f);
        assertThat(last(history.values("size.site.a"))).isEqualTo(2f);
        // No new report in the next second: the rate holds (reports and samples need not line up).
        tick(history);
        assertThat(last(history.values("wan.app.a"))).isEqualTo(2000f);
        assertThat(history.workerValues("wan-a1", "active_flows")).containsExactly(0f, 3f, 3f);
    }

    @Test
    void sample_latestReportOlderThanStaleLimit_rateDropsToZero() {
        StatusHistory history = new StatusHistory(clock);
        join(record("wan-a1", "wanopt", "a"));
        directory.onLoad("wan-a1", report("wan-a1").setWanoptAppBytes(0).build());
        tick(history);
        directory.onLoad("wan-a1", report("wan-a1").setWanoptAppBytes(1000).build());
        tick(history);
        assertThat(last(history.values("wan.app.a"))).isEqualTo(1000f);
        for (int i = 0; i < StatusHistory.STALE_REPORT.toSeconds(); i++) {
            tick(history);
        }
        assertThat(last(history.values("wan.app.a"))).isZero();
    }

    @Test
    void sample_counterShrinks_workerRestartedAndTheGrowthSinceCounts() {
        StatusHistory history = new StatusHistory(clock);
        join(record("cache-a1", "cache", "a"));
        directory.onLoad("cache-a1", report("cache-a1").setCacheLookups(1000).build());
        tick(history);
        directory.onLoad("cache-a1", report("cache-a1").setCacheLookups(7).build());
        tick(history);
        assertThat(last(history.values("cache.lookups"))).isEqualTo(7f);
    }

    @Test
    void sample_moreSamplesThanCapacity_keepsTheNewestInOrder() {
        StatusHistory history = new StatusHistory(clock, 5, 10);
        join(record("wan-a1", "wanopt", "a"));
        for (int i = 1; i <= 8; i++) {
            directory.onLoad("wan-a1", report("wan-a1").setActiveFlows(i).build());
            tick(history);
        }
        assertThat(history.size()).isEqualTo(5);
        assertThat(history.values("flows.wanopt")).containsExactly(4f, 5f, 6f, 7f, 8f);
        JsonNode json = history.toJson();
        assertThat(json.path("t")).hasSize(5);
        assertThat(json.path("t").get(4).asLong() - json.path("t").get(0).asLong()).isEqualTo(4000);
    }

    @Test
    void sample_fleetEmptiesAndStaysEmpty_countsDropToZeroThenTheSeriesLeaveTheWindow() {
        StatusHistory history = new StatusHistory(clock, 4, 10);
        join(record("cache-a1", "cache", "a"));
        tick(history);
        directory.onMembership(List.of());
        directory.onLinkDown("cache-a1", "gone");
        directory.expire();
        clock.advance(Duration.ofSeconds(10));
        directory.expire();
        assertThat(directory.workers()).isEmpty();
        tick(history);
        assertThat(last(history.values("size.role.cache"))).isZero();
        assertThat(last(history.values("cache.hit_ratio") == null ? new float[] {Float.NaN}
                : history.values("cache.hit_ratio"))).isNaN();
        for (int i = 0; i < 4; i++) {
            tick(history);
        }
        assertThat(history.values("size.role.cache")).isNull();
        JsonNode json = history.toJson();
        assertThat(json.path("t")).hasSize(4);
        assertThat(json.path("charts")).hasSize(8);
        json.path("charts").forEach(c -> assertThat(c.path("series")).isEmpty());
    }

    @Test
    void sample_deathCardFailureScalingAndNewGeneration_eachMarkedOnce() {
        StatusHistory history = new StatusHistory(clock);
        join(record("wan-a1", "wanopt", "a"), record("cache-a1", "cache", "a"));
        directory.onLoad("wan-a1", report("wan-a1").addCompression(CompressionProviderState.newBuilder()
                .setName("qat").setHardware(true).setAvailable(true)).build());
        history.sample(directory.workers(), 1, directory.events(), List.of());
        assertThat(history.markers()).isEmpty();

        clock.advance(Duration.ofSeconds(1));
        directory.onLinkDown("cache-a1", "UNAVAILABLE: io exception");
        directory.onLoad("wan-a1", report("wan-a1").addCompression(CompressionProviderState.newBuilder()
                .setName("qat").setHardware(true).setAvailable(false).setReason("device lost")).build());
        ScaleDecision out = new ScaleDecision("cache", "a", clock.instant(), 1, 2, 2, 0.9,
                ScaleDecision.Reason.OVERLOAD);
        ScaleDecision steady = new ScaleDecision("wanopt", "a", clock.instant(), 1, 1, 1, 0.5,
                ScaleDecision.Reason.WITHIN_TARGET);
        history.sample(directory.workers(), 2, directory.events(), List.of(out, steady));
        clock.advance(Duration.ofSeconds(1));
        history.sample(directory.workers(), 2, directory.events(), List.of(out, steady));

        assertThat(history.markers()).extracting(StatusHistory.Marker::kind)
                .containsExactlyInAnyOrder("death", "card", "scaling", "config");
        assertThat(history.markers()).extracting(StatusHistory.Marker::text).contains(
                "cache-a1 down: UNAVAILABLE: io exception", "cache at site a: 1 -> 2 (overload)",
                "configuration generation 1 -> 2",
                "wan-a1 compression_unavailable: hardware provider qat unavailable: device lost");
        assertThat(history.toJson().path("markers")).hasSize(4);
        assertThat(history.workerJson("wan-a1").path("markers")).extracting(m -> m.path("kind").asText())
                .containsExactlyInAnyOrder("card", "scaling", "config");
    }

    @Test
    void sample_markersOlderThanTheWindow_areDropped() {
        StatusHistory history = new StatusHistory(clock, 3, 10);
        history.sample(List.of(), 1, List.of(), List.of());
        clock.advance(Duration.ofSeconds(1));
        history.sample(List.of(), 2, List.of(), List.of());
        assertThat(history.markers()).hasSize(1);
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(1));
            history.sample(List.of(), 2, List.of(), List.of());
        }
        assertThat(history.markers()).isEmpty();
    }

    @Test
    void sample_moreWorkersThanTracked_countsTheRestUntracked() {
        StatusHistory history = new StatusHistory(clock, 10, 2);
        join(record("w1", "cache", "a"), record("w2", "cache", "a"), record("w3", "cache", "a"));
        tick(history);
        assertThat(history.toJson().path("untracked_workers").asInt()).isEqualTo(1);
        // Fleet size still counts every worker.
        assertThat(last(history.values("size.role.cache"))).isEqualTo(3f);
    }

    @Test
    void memoryBytes_fullWindowOf100WorkersAtTwoSites_about1point5MB() {
        StatusHistory history = new StatusHistory(clock);
        List<WorkerRecord> records = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            records.add(record("w" + i, i % 2 == 0 ? "cache" : "wanopt", i < 50 ? "a" : "b"));
        }
        join(records.toArray(WorkerRecord[]::new));
        for (int s = 0; s < StatusHistory.DEFAULT_CAPACITY + 5; s++) {
            for (WorkerRecord r : records) {
                directory.onLoad(r.id(), report(r.id()).setWanoptAppBytes(1000L * s).setWanoptWanBytes(100L * s)
                        .setCacheLookups(10L * s).setCacheHits(5L * s).build());
            }
            tick(history);
        }
        // 2 sites x 4 series, 2 roles x 3, 4 cache series; 4 series per worker; 900 samples.
        assertThat(history.memoryBytes()).isEqualTo((8L + 4 * (2 * 4 + 2 * 3 + 4) + 4 * 4 * 100) * 900);
        assertThat(history.memoryBytes()).isEqualTo(1_512_000L);
        assertThat(history.size()).isEqualTo(900);
    }

    @Test
    void constructor_badBounds_sayWhatIsExpected() {
        assertThatThrownBy(() -> new StatusHistory(clock, 1, 10)).hasMessage("capacity: 1 (expected: 2..86400 samples)");
        assertThatThrownBy(() -> new StatusHistory(clock, 900, 0)).hasMessage("maxWorkers: 0 (expected: > 0)");
    }
}
