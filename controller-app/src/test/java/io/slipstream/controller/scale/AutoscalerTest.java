package io.slipstream.controller.scale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.proto.v1.FleetPolicy;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The loop against a recording target and an empty fleet (no workers: nothing crosses a process). */
class AutoscalerTest {

    /** Remembers every call; fails reads while {@code failing}. */
    static class RecordingTarget implements ScaleTarget {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile int replicas;
        volatile boolean failing;

        @Override
        public void takeOver() {
            calls.add("takeOver");
        }

        @Override
        public void release() {
            calls.add("release");
        }

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public int replicas(String role, String site) throws ScaleException {
            if (failing) {
                throw new ScaleException("forbidden: cannot get deployments/scale");
            }
            return replicas;
        }

        @Override
        public void scale(String role, String site, int n, List<String> victims) {
            calls.add(role + "@" + site + "=" + n + victims);
            replicas = n;
        }
    }

    private static ScalingConfig config() {
        return new ScalingConfig(true, Duration.ofMillis(50), "local",
                List.of(ScalingRule.builder("cache", "b").replicas(2, 5).maxStep(1).build()));
    }

    @Test
    void belowMin_scalesUpStepByStep_andExportsDesiredAndCurrent() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters).start()) {
            List<ScaleDecision> seen = new CopyOnWriteArrayList<>();
            autoscaler.addListener(seen::add);
            await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 2);
            assertThat(new ArrayList<>(target.calls)).startsWith("cache@b=1[]", "cache@b=2[]");
            // No worker ever serves: the loop waits instead of asking for more.
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream()
                    .anyMatch(d -> d.reason() == ScaleDecision.Reason.NOT_READY));
            assertThat(target.calls).hasSize(2);
            assertThat(meters.get("slipstream.autoscaler.replicas.current").tags("role", "cache", "site", "b")
                    .gauge().value()).isEqualTo(2);
            assertThat(meters.get("slipstream.autoscaler.decisions").tags("reason", "below_min").counter().count())
                    .isEqualTo(2);
            assertThat(autoscaler.decisions()).extracting(ScaleDecision::reason)
                    .containsExactly(ScaleDecision.Reason.NOT_READY);
        }
    }

    @Test
    void unreadableTarget_isCountedAndNothingIsScaled() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        target.failing = true;
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> meters.get("slipstream.autoscaler.scale.errors")
                    .tags("role", "cache", "site", "b").counter().count() >= 2);
            assertThat(target.calls).isEmpty();
            assertThat(autoscaler.desired("cache", "b")).isEqualTo(-1);
        }
    }

    @Test
    void notLeading_decidesAndScalesNothing_untilItLeads() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters)) {
            autoscaler.leading(false);
            autoscaler.start();
            // Ten intervals of 50 ms: a leading autoscaler would have asked for 2 replicas by then.
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> target.calls.equals(List.of("release")) && autoscaler.decisions().isEmpty());
            autoscaler.leading(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 2);
            autoscaler.leading(false);
            assertThat(target.calls).startsWith("release", "takeOver").endsWith("release");
            int calls = target.calls.size();
            target.replicas = 0;
            // Once leading(false) returned, not one more call: the gate acts on the autoscaler's own loop.
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> target.calls.size() == calls);
        }
    }

    @Test
    void replaceOverrides_appliesCoveredPins_skipsUnknownOnes() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, new RecordingTarget(), config(), meters)) {
            autoscaler.replaceOverrides(java.util.Map.of("cache@b", new int[] {3, 4}, "wanopt@z", new int[] {1, 2}));
            assertThat(autoscaler.overrides()).containsOnlyKeys("cache@b");
            assertThat(autoscaler.overrides().get("cache@b")).containsExactly(3, 4);
            autoscaler.replaceOverrides(java.util.Map.of());
            assertThat(autoscaler.overrides()).isEmpty();
            assertThat(autoscaler.covers("cache", "b")).isTrue();
            assertThat(autoscaler.covers("cache", "z")).isFalse();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> autoscaler.checkOverride("cache", "b", 5, 2))
                    .hasMessageContaining("5..2");
        }
    }

    @Test
    void gainingLeadership_targetTakesOverFirst_thenTheRecordedScaleOutIsFinished() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        target.replicas = 2;
        ScalingJournal journal = ScalingJournal.inMemory();
        // A previous leader decided 2 -> 4 and died before the target ran 4.
        journal.write("{\"roles\":{\"cache@b\":{\"replicas\":4,\"drain\":null}}}");
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters)
                     .journal(journal)) {
            autoscaler.leading(false);
            autoscaler.start();
            autoscaler.leading(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 4);
            // No worker serves here, so the rule alone (2..5, NOT_READY) would never have asked for 4.
            assertThat(new ArrayList<>(target.calls)).containsExactly("release", "takeOver", "cache@b=4[]");
            assertThat(journal.read().orElseThrow()).contains("\"cache@b\":{\"replicas\":4,\"drain\":null}");
        }
    }

    @Test
    void intentCannotBeRecorded_nothingIsScaled_andTheErrorIsCounted() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        ScalingJournal refusing = new ScalingJournal() {
            @Override
            public java.util.Optional<String> read() {
                return java.util.Optional.empty();
            }

            @Override
            public void write(String json) throws ScaleException {
                throw new ScaleException("not written: this controller holds no leader-election node");
            }
        };
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters)
                     .journal(refusing).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> meters.get("slipstream.autoscaler.scale.errors")
                    .tags("role", "cache", "site", "b").counter().count() >= 2);
            assertThat(target.calls).isEmpty();
        }
    }

    @Test
    void recordedIntentNotJson_isLeftOut_andTheRuleDecides() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RecordingTarget target = new RecordingTarget();
        ScalingJournal journal = ScalingJournal.inMemory();
        journal.write("{\"roles\":");
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters)
                     .journal(journal)) {
            autoscaler.leading(false);
            autoscaler.start();
            autoscaler.leading(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 2);
            assertThat(new ArrayList<>(target.calls)).startsWith("release", "takeOver", "cache@b=1[]");
        }
    }

    /** An autoscaler over {@code target} that starts leading with {@code recorded} as the journal's document. */
    private static void leadWith(String recorded, RecordingTarget target, SimpleMeterRegistry meters,
                                 java.util.function.BiConsumer<Autoscaler, ScalingJournal> then) throws Exception {
        ScalingJournal journal = ScalingJournal.inMemory();
        journal.write(recorded);
        try (FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
             Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters)
                     .journal(journal)) {
            autoscaler.leading(false);
            autoscaler.start();
            autoscaler.leading(true);
            then.accept(autoscaler, journal);
        }
    }

    @Test
    void recordedScaleOutAboveTheRange_isFinishedToTheRangesMax() throws Exception {
        RecordingTarget target = new RecordingTarget();
        target.replicas = 2;
        leadWith("{\"roles\":{\"cache@b\":{\"replicas\":100000,\"drain\":null}}}", target, new SimpleMeterRegistry(),
                (autoscaler, journal) -> {
                    await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 5);
                    assertThat(new ArrayList<>(target.calls)).containsExactly("release", "takeOver", "cache@b=5[]");
                });
    }

    @Test
    void recordedDrainGarbled_isLeftOut_andNothingIsRemoved() throws Exception {
        for (String drain : List.of("{\"replicas\":0,\"deadline\":\"2030-01-01T00:00:00Z\",\"victims\":[]}",
                "{\"replicas\":\"two\",\"deadline\":\"2030-01-01T00:00:00Z\",\"victims\":[" + victim("cache", "b")
                        + "]}",
                "{\"replicas\":2,\"deadline\":\"soon\",\"victims\":[" + victim("cache", "b") + "]}",
                "{\"replicas\":2,\"deadline\":\"2030-01-01T00:00:00Z\",\"victims\":[" + victim("wanopt", "b") + "]}",
                "{\"replicas\":2,\"deadline\":\"2030-01-01T00:00:00Z\",\"victims\":[{\"id\":7}]}",
                "{\"replicas\":2,\"deadline\":\"2030-01-01T00:00:00Z\",\"victims\":{\"id\":\"cache-b-1\"}}")) {
            RecordingTarget target = new RecordingTarget();
            target.replicas = 3;
            leadWith("{\"roles\":{\"cache@b\":{\"replicas\":3,\"drain\":" + drain + "}}}", target,
                    new SimpleMeterRegistry(), (autoscaler, journal) -> {
                        await().atMost(Duration.ofSeconds(10)).until(() -> target.calls.contains("takeOver"));
                        // Ten intervals: a drain taken over would have removed its victim by then (it is unreachable).
                        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                                .until(() -> autoscaler.draining().isEmpty() && target.replicas == 3);
                        assertThat(new ArrayList<>(target.calls)).as(drain).containsExactly("release", "takeOver");
                    });
        }
    }

    @Test
    void recordedDrainWithACountBelowItsVictims_removesTheVictimsOnly() throws Exception {
        RecordingTarget target = new RecordingTarget();
        target.replicas = 3;
        // A drain of one victim recorded as going to 0 replicas: it removes that victim, not every worker.
        leadWith("{\"roles\":{\"cache@b\":{\"replicas\":3,\"drain\":{\"replicas\":0,\"deadline\":\""
                        + java.time.Instant.now().plusSeconds(30) + "\",\"victims\":[" + victim("cache", "b") + "]}}}}",
                target, new SimpleMeterRegistry(), (autoscaler, journal) -> {
                    await().atMost(Duration.ofSeconds(10)).until(() -> target.replicas == 2);
                    assertThat(new ArrayList<>(target.calls))
                            .containsExactly("release", "takeOver", "cache@b=2[cache-b-7]");
                    await().atMost(Duration.ofSeconds(10)).until(() -> {
                        String doc = journal.read().orElseThrow();
                        return doc.contains("\"cache@b\":{\"replicas\":2,\"drain\":null}");
                    });
                });
    }

    /** The registration of worker {@code <role>-b-7} whose control endpoint is a closed port (it is gone). */
    private static String victim(String role, String site) {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return "{\"id\":\"" + role + "-" + site + "-7\",\"role\":\"" + role + "\",\"site\":\"" + site
                + "\",\"controlEndpoint\":\"127.0.0.1:" + closed + "\",\"dataEndpoint\":\"127.0.0.1:" + closed
                + "\",\"capacityBytesPerSecond\":1000}";
    }

    @Test
    void close_letsTheStepInProgressFinish_notInterrupted() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<String> outcome = new CopyOnWriteArrayList<>();
        RecordingTarget target = new RecordingTarget() {
            @Override
            public void scale(String role, String site, int n, List<String> victims) {
                entered.countDown();
                try {
                    outcome.add(release.await(10, java.util.concurrent.TimeUnit.SECONDS) ? "finished" : "timed out");
                } catch (InterruptedException e) {
                    outcome.add("interrupted"); // what a stopping controller did to a step in progress before
                    Thread.currentThread().interrupt();
                }
                super.scale(role, site, n, victims);
            }
        };
        FleetController fleet = new FleetController(Clock.systemUTC(), Duration.ofSeconds(1), 1000,
                FleetPolicy.getDefaultInstance(), meters);
        Autoscaler autoscaler = new Autoscaler(Clock.systemUTC(), fleet, target, config(), meters).start();
        try (fleet) {
            assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            Thread closing = new Thread(autoscaler::close, "closing");
            closing.start();
            // close() waits for the step (or, as it did before, interrupts it and returns)
            await().atMost(Duration.ofSeconds(5)).until(() -> closing.getState() == Thread.State.TIMED_WAITING
                    || !closing.isAlive());
            release.countDown();
            closing.join(10_000);
            assertThat(closing.isAlive()).isFalse();
            assertThat(outcome).containsExactly("finished");
            assertThat(target.calls).contains("cache@b=1[]");
        }
    }
}
