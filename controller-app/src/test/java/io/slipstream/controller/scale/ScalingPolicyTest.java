package io.slipstream.controller.scale;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.controller.fleet.MutableClock;
import io.slipstream.controller.scale.ScaleDecision.Reason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The scaling policy driven tick by tick with synthetic load: each tick the "fleet" follows the last
 * decision at once (replicas ready), and the load is spread evenly over it.
 */
class ScalingPolicyTest {

    private static final Duration TICK = Duration.ofMillis(500);

    private final MutableClock clock = new MutableClock();

    private static ScalingRule rule() {
        return ScalingRule.builder("wanopt", "a").replicas(1, 10).targetUtilisation(0.7).tolerance(0.1)
                .scaleOutWindow(Duration.ofSeconds(2)).scaleInWindow(Duration.ofSeconds(30)).maxStep(2)
                .flowsPerWorker(100).cpuPerWorker(0).queueLimit(0).build();
    }

    /** Drives the policy over a load curve (total utilisation in full workers, per tick); returns the decisions. */
    private List<ScaleDecision> run(ScalingPolicy policy, int start, double[] totalLoad) {
        List<ScaleDecision> decisions = new ArrayList<>();
        int replicas = start;
        for (double load : totalLoad) {
            List<WorkerLoad> loads = new ArrayList<>();
            for (int i = 0; i < replicas; i++) {
                loads.add(new WorkerLoad("w" + i, load / replicas, "flows", (int) (100 * load / replicas)));
            }
            ScaleDecision d = policy.decide(replicas, replicas, loads);
            decisions.add(d);
            replicas = d.desired();
            clock.advance(TICK);
        }
        return decisions;
    }

    private static double[] constant(double load, int ticks) {
        double[] a = new double[ticks];
        java.util.Arrays.fill(a, load);
        return a;
    }

    private static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int i = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    private static int changes(List<ScaleDecision> ds) {
        int n = 0;
        for (ScaleDecision d : ds) {
            if (d.desired() != d.current()) {
                n++;
            }
        }
        return n;
    }

    @Test
    void step_sustainedOverload_scalesOutWithinTheWindow() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        // 10 s at 0.5 of one worker, then a step to 2.6 workers' worth of load.
        List<ScaleDecision> ds = run(policy, 1, concat(constant(0.5, 20), constant(2.6, 20)));
        int firstOut = -1;
        for (int i = 0; i < ds.size(); i++) {
            if (ds.get(i).scalesOut()) {
                firstOut = i;
                break;
            }
        }
        assertThat(firstOut).as("index of the first scale-out").isGreaterThanOrEqualTo(20);
        // Within the 2 s window (4 ticks) after the step, plus the tick that sees it.
        assertThat(Duration.ofMillis((firstOut - 20) * TICK.toMillis())).isLessThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(ds.get(firstOut).reason()).isEqualTo(Reason.OVERLOAD);
        assertThat(ds.get(firstOut).desired()).isEqualTo(3); // 1 + max step 2, load needs ceil(2.6/0.7) = 4
        assertThat(ds.get(ds.size() - 1).desired()).isEqualTo(4);
    }

    @Test
    void step_shortSpike_isNotActedOn() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        List<ScaleDecision> ds = run(policy, 1, concat(constant(0.5, 10), constant(3, 3), constant(0.5, 20)));
        assertThat(changes(ds)).isZero();
        assertThat(ds).anyMatch(d -> d.reason() == Reason.OVERLOAD_PENDING);
    }

    @Test
    void ramp_everyDecisionWithinMaxStep_andNeverScalesIn() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        double[] ramp = new double[120];
        for (int i = 0; i < ramp.length; i++) {
            ramp[i] = 0.3 + 6.0 * i / ramp.length;
        }
        // The ramp, then its last value held for 5 s so the last window can pass.
        List<ScaleDecision> ds = run(policy, 1, concat(ramp, constant(ramp[ramp.length - 1], 10)));
        for (ScaleDecision d : ds) {
            assertThat(Math.abs(d.desired() - d.current())).isLessThanOrEqualTo(2);
            assertThat(d.scalesIn()).isFalse();
        }
        ScaleDecision last = ds.get(ds.size() - 1);
        assertThat(last.desired()).isEqualTo(9); // ceil(6.25 workers' worth / 0.7)
    }

    @Test
    void oscillating_loadAboveAndBelowTarget_doesNotFlap() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        // Alternates every 5 s between 1.0 and 3.0 workers' worth for 3 minutes.
        double[] wave = new double[360];
        for (int i = 0; i < wave.length; i++) {
            wave[i] = (i / 10) % 2 == 0 ? 1.0 : 3.0;
        }
        List<ScaleDecision> ds = run(policy, 2, wave);
        // Grows to what the peaks need, then stays: no scale-in while peaks keep coming.
        assertThat(ds).noneMatch(ScaleDecision::scalesIn);
        assertThat(changes(ds)).isLessThanOrEqualTo(2);
        // ceil(3.0 / 0.7) = 5, but at 4 the peaks' mean 0.75 is inside the 10 % band around 0.7.
        assertThat(ds.get(ds.size() - 1).desired()).isEqualTo(4);
    }

    @Test
    void noisy_loadAroundTarget_holds() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        Random random = new Random(7);
        double[] noisy = new double[600];
        for (int i = 0; i < noisy.length; i++) {
            noisy[i] = 3 * 0.7 * (1 + (random.nextDouble() - 0.5) * 0.16); // +-8 % around the target on 3 workers
        }
        List<ScaleDecision> ds = run(policy, 3, noisy);
        assertThat(changes(ds)).isZero();
    }

    @Test
    void scaleIn_waitsForTheWholeWindow_andNeverBelowWhatLoadNeeds() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        List<ScaleDecision> ds = run(policy, 6, concat(constant(3.8, 20), constant(1.5, 200)));
        int firstIn = -1;
        for (int i = 0; i < ds.size(); i++) {
            if (ds.get(i).scalesIn()) {
                firstIn = i;
                break;
            }
        }
        // The high recommendation (6) stays in the 30 s window until 30 s after the drop.
        assertThat(firstIn).isGreaterThanOrEqualTo(20 + 58);
        for (ScaleDecision d : ds) {
            if (d.scalesIn()) {
                assertThat(d.reason()).isEqualTo(Reason.UNDERLOAD);
                assertThat(d.desired()).isGreaterThanOrEqualTo(d.needed());
                assertThat(d.current() - d.desired()).isLessThanOrEqualTo(2);
            }
        }
        assertThat(ds.get(ds.size() - 1).desired()).isEqualTo(3); // ceil(1.5 / 0.7)
    }

    @Test
    void scaleIn_freshPolicy_waitsAWholeWindowBeforeTheFirst() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        List<ScaleDecision> ds = run(policy, 5, constant(0.2, 59));
        assertThat(ds).noneMatch(ScaleDecision::scalesIn);
        assertThat(ds.get(ds.size() - 1).reason()).isEqualTo(Reason.STABILISING);
    }

    @Test
    void bounds_belowMinAndAboveMax_areCorrectedInSteps() {
        ScalingRule r = ScalingRule.builder("cache", "b").replicas(3, 4).maxStep(2).build();
        ScalingPolicy policy = new ScalingPolicy(r, clock);
        assertThat(policy.decide(0, 0, List.of()).desired()).isEqualTo(2);
        assertThat(policy.decide(0, 0, List.of()).reason()).isEqualTo(Reason.BELOW_MIN);
        ScaleDecision above = policy.decide(9, 9, List.of());
        assertThat(above.desired()).isEqualTo(7);
        assertThat(above.reason()).isEqualTo(Reason.ABOVE_MAX);
    }

    @Test
    void notReady_replicasStarting_holds() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        ScaleDecision d = policy.decide(3, 1, List.of(new WorkerLoad("w0", 5, "flows", 500)));
        assertThat(d.desired()).isEqualTo(3);
        assertThat(d.reason()).isEqualTo(Reason.NOT_READY);
    }

    @Test
    void workerLoad_mostLoadedDimensionWins() {
        ScalingRule r = ScalingRule.builder("wanopt", "a").cpuPerWorker(0.5).flowsPerWorker(10).queueLimit(8).build();
        var report = io.slipstream.proto.v1.LoadReport.newBuilder().setCpu(0.2).setActiveFlows(3)
                .setQueueDepth(6).setBytesInPerSecond(50).setCapacityBytesPerSecond(100).build();
        WorkerLoad l = WorkerLoad.of("w", report, 0, r);
        assertThat(l.utilisation()).isEqualTo(0.75);
        assertThat(l.dimension()).isEqualTo("queue");
        WorkerLoad t = WorkerLoad.of("w", report.toBuilder().setQueueDepth(0).setBytesOutPerSecond(90).build(), 0, r);
        assertThat(t.dimension()).isEqualTo("throughput");
        assertThat(t.utilisation()).isEqualTo(0.9);
    }

    @Test
    void override_pinsTheRange_overTheRule_untilCleared() {
        ScalingPolicy policy = new ScalingPolicy(rule(), clock);
        policy.override(4, 6);
        ScaleDecision up = policy.decide(2, 2, List.of());
        assertThat(up.reason()).isEqualTo(ScaleDecision.Reason.BELOW_MIN);
        assertThat(up.desired()).isEqualTo(4);
        assertThat(policy.decide(8, 8, List.of()).reason()).isEqualTo(ScaleDecision.Reason.ABOVE_MAX);
        policy.clearOverride();
        assertThat(policy.currentOverride()).isNull();
        assertThat(policy.decide(8, 8, List.of()).reason()).isEqualTo(ScaleDecision.Reason.NO_LOAD_REPORTS);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> policy.override(3, 2))
                .hasMessageContaining("3..2 (expected: 0 <= min <= max");
    }
}
