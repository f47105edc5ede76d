package io.slipstream.worker.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.WorkerConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkerLifecycleTest {

    private final WorkerLifecycle lifecycle = new WorkerLifecycle("gw-a1", Role.ROLE_GATEWAY, "a");

    /** A configuration whose content names its generation, so each generation differs. */
    private static WorkerConfig config(long generation) {
        return WorkerConfig.newBuilder().setGeneration(generation).setRole(Role.ROLE_GATEWAY).setSite("a")
                .addPolicies(FlowPolicy.newBuilder().setName("p" + generation).setChain(ServiceChain.SERVICE_CHAIN_CACHE))
                .build();
    }

    @Test
    void apply_olderGenerationAfterNewer_isRefusedAsStale_andNewerStays() {
        List<Long> seen = new ArrayList<>();
        lifecycle.onConfig(c -> seen.add(c.getGeneration()));

        assertThat(lifecycle.apply(config(6))).isEqualTo(WorkerLifecycle.Outcome.APPLIED);
        assertThat(lifecycle.apply(config(4))).isEqualTo(WorkerLifecycle.Outcome.STALE);
        assertThat(lifecycle.apply(config(5))).isEqualTo(WorkerLifecycle.Outcome.STALE);

        assertThat(lifecycle.applied().generation()).isEqualTo(6);
        assertThat(seen).containsExactly(6L);
    }

    @Test
    void apply_sameGenerationOtherContent_isStale_sameContentNewerGeneration_isUnchanged() {
        lifecycle.apply(config(3));
        WorkerConfig otherContent = config(4).toBuilder().setGeneration(3).build();
        assertThat(lifecycle.apply(otherContent)).isEqualTo(WorkerLifecycle.Outcome.STALE);
        WorkerConfig sameContentLater = config(3).toBuilder().setGeneration(9).build();
        assertThat(lifecycle.apply(sameContentLater)).isEqualTo(WorkerLifecycle.Outcome.UNCHANGED);
        assertThat(lifecycle.applied().generation()).isEqualTo(9);
        assertThat(lifecycle.apply(config(8))).isEqualTo(WorkerLifecycle.Outcome.STALE);
    }

    @Test
    void apply_generationsInEveryOrderFromManyThreads_newestWins_andListenersSeeThemIncreasing() throws Exception {
        for (int round = 0; round < 50; round++) {
            WorkerLifecycle subject = new WorkerLifecycle("gw-a1", Role.ROLE_GATEWAY, "a");
            List<Long> seen = Collections.synchronizedList(new ArrayList<>());
            // A slow listener widens the window in which an older apply could overtake a newer one.
            subject.onConfig(c -> {
                seen.add(c.getGeneration());
                Thread.onSpinWait();
            });
            List<Long> generations = new ArrayList<>();
            for (long g = 1; g <= 24; g++) {
                generations.add(g);
            }
            Collections.shuffle(generations, new java.util.Random(round));
            ExecutorService pool = Executors.newFixedThreadPool(6);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (long g : generations) {
                done.add(pool.submit(() -> {
                    start.await();
                    return subject.apply(config(g));
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(10, TimeUnit.SECONDS);
            }
            pool.shutdown();

            assertThat(subject.applied().generation()).isEqualTo(24);
            assertThat(subject.applied().config()).isEqualTo(config(24));
            assertThat(seen).isSorted().doesNotHaveDuplicates().endsWith(24L);
        }
    }
}
