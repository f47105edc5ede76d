package io.slipstream.controller.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.ConfigDigest;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.WorkerConfig;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConfigReconcilerTest {

    private final ConfigReconciler reconciler = new ConfigReconciler();
    private final Instant t0 = Instant.parse("2026-12-07T00:00:00Z");

    private static WorkerConfig config(String policy, long generation) {
        return WorkerConfig.newBuilder().setGeneration(generation).setRole(Role.ROLE_CACHE).setSite("a")
                .addPolicies(FlowPolicy.newBuilder().setName(policy).setChain(ServiceChain.SERVICE_CHAIN_CACHE))
                .build();
    }

    @BeforeEach
    void link() {
        reconciler.linkUp("c1");
    }

    @Test
    void decide_unknownStatus_asksFirst_andPushesNothingToAnyone() {
        reconciler.linkUp("c2");
        reconciler.statusLearned("c2", 0, "");
        var d = reconciler.decide(Map.of("c1", config("web", 2), "c2", config("web", 2)), 2, Set.of("c1", "c2"), t0);
        assertThat(d.askStatus()).containsExactly("c1");
        assertThat(d.pushes()).isEmpty();
        // Asked once, not again while the answer is pending.
        assertThat(reconciler.decide(Map.of("c1", config("web", 2)), 2, Set.of("c1"), t0).askStatus()).isEmpty();
    }

    @Test
    void decide_workerRunsWantedDigest_pushesNothing() {
        reconciler.statusLearned("c1", 9, ConfigDigest.of(config("web", 1)));
        var d = reconciler.decide(Map.of("c1", config("web", 12)), 12, Set.of("c1"), t0);
        assertThat(d.pushes()).isEmpty();
        assertThat(d.converged()).isTrue();
    }

    @Test
    void decide_oneAtATime_thenPushesAgainWhenThePlanMovedOn() {
        reconciler.statusLearned("c1", 0, "");
        var first = reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), t0);
        assertThat(first.pushes()).hasSize(1);
        assertThat(first.converged()).isFalse();
        // The plan changes while the push is in flight: nothing more until it is answered.
        assertThat(reconciler.decide(Map.of("c1", config("v2", 3)), 3, Set.of("c1"), t0).pushes()).isEmpty();
        reconciler.answered("c1", first.pushes().get(0).digest(), 2, first.pushes().get(0).digest());
        var second = reconciler.decide(Map.of("c1", config("v2", 3)), 3, Set.of("c1"), t0);
        assertThat(second.pushes()).extracting(p -> p.config().getGeneration()).containsExactly(3L);
    }

    @Test
    void decide_workerAlreadyRunsThisGeneration_asksForAHigherOne() {
        reconciler.statusLearned("c1", 40, ConfigDigest.of(config("old", 40)));
        var d = reconciler.decide(Map.of("c1", config("new", 40)), 40, Set.of("c1"), t0);
        assertThat(d.pushes()).isEmpty();
        assertThat(d.needGeneration()).isEqualTo(41);
    }

    @Test
    void answered_staleRefusal_recordsWhatTheWorkerRuns_andPushesAgainAboveIt() {
        reconciler.statusLearned("c1", 1, ConfigDigest.of(config("v1", 1)));
        var push = reconciler.decide(Map.of("c1", config("v2", 2)), 2, Set.of("c1"), t0).pushes().get(0);
        // Meanwhile the worker got generation 5 (another controller, a late push): it refuses ours.
        String newer = ConfigDigest.of(config("v5", 5));
        reconciler.answered("c1", push.digest(), 5, newer);
        assertThat(reconciler.appliedDigest("c1")).isEqualTo(newer);
        var again = reconciler.decide(Map.of("c1", config("v2", 2)), 2, Set.of("c1"), t0);
        assertThat(again.pushes()).isEmpty();
        assertThat(again.needGeneration()).isEqualTo(6);
        assertThat(reconciler.decide(Map.of("c1", config("v2", 6)), 6, Set.of("c1"), t0).pushes())
                .extracting(p -> p.config().getGeneration()).containsExactly(6L);
    }

    @Test
    void failed_backsOff_thenPushesAgain_withinTheBound() {
        reconciler.statusLearned("c1", 0, "");
        var push = reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), t0).pushes().get(0);
        reconciler.failed("c1", push.digest(), false, t0);
        assertThat(reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), t0.plusMillis(10)).pushes())
                .isEmpty();
        assertThat(reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"),
                t0.plus(ConfigReconciler.MIN_BACKOFF)).pushes()).hasSize(1);
    }

    @Test
    void failed_repeatedly_backoffNeverExceedsTheMaximum() {
        reconciler.statusLearned("c1", 0, "");
        Instant now = t0;
        for (int i = 0; i < 20; i++) {
            var push = reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), now).pushes().get(0);
            reconciler.failed("c1", push.digest(), false, now);
            now = now.plus(ConfigReconciler.MAX_BACKOFF);
        }
        assertThat(reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), now).pushes()).hasSize(1);
    }

    @Test
    void failed_invalid_isNotSentAgain_untilThePlanChanges() {
        reconciler.statusLearned("c1", 0, "");
        var push = reconciler.decide(Map.of("c1", config("bad", 2)), 2, Set.of("c1"), t0).pushes().get(0);
        reconciler.failed("c1", push.digest(), true, t0);
        Instant later = t0.plusSeconds(5);
        assertThat(reconciler.decide(Map.of("c1", config("bad", 2)), 2, Set.of("c1"), later).pushes()).isEmpty();
        assertThat(reconciler.decide(Map.of("c1", config("good", 3)), 3, Set.of("c1"), later).pushes()).hasSize(1);
    }

    @Test
    void reported_divergence_isPushedAgain() {
        String wanted = ConfigDigest.of(config("v1", 1));
        reconciler.statusLearned("c1", 1, wanted);
        assertThat(reconciler.decide(Map.of("c1", config("v1", 3)), 3, Set.of("c1"), t0).pushes()).isEmpty();
        reconciler.reported("c1", 2, ConfigDigest.of(config("other", 2)));
        assertThat(reconciler.decide(Map.of("c1", config("v1", 3)), 3, Set.of("c1"), t0).pushes()).hasSize(1);
    }

    @Test
    void answered_ofAnEarlierPush_isIgnored() {
        reconciler.statusLearned("c1", 0, "");
        var push = reconciler.decide(Map.of("c1", config("v1", 2)), 2, Set.of("c1"), t0).pushes().get(0);
        reconciler.answered("c1", "someOtherDigest", 9, "someOtherDigest");
        assertThat(reconciler.appliedDigest("c1")).isEmpty();
        reconciler.answered("c1", push.digest(), 2, push.digest());
        assertThat(reconciler.appliedDigest("c1")).isEqualTo(push.digest());
    }
}
