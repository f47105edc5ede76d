package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.slipstream.proto.v1.DrainResponse;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.WorkerState;
import io.slipstream.worker.control.WorkerLifecycle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The drain state machine on a fake clock and a scheduler driven by hand: no sockets, no sleeps. */
class WorkerDrainTest {

    private final WorkerLifecycle lifecycle = new WorkerLifecycle("w1", Role.ROLE_WANOPT, "a");
    private final AtomicInteger activeFlows = new AtomicInteger();
    private final AtomicInteger registryLeft = new AtomicInteger();
    private final AtomicInteger stops = new AtomicInteger();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final ManualScheduler scheduler = new ManualScheduler();
    private Runnable leaveRegistry = registryLeft::incrementAndGet;
    private WorkerDrain drain;

    @BeforeEach
    void serving() {
        lifecycle.registered();
        drain = new WorkerDrain(lifecycle, activeFlows::get, () -> leaveRegistry.run(), stops::incrementAndGet,
                scheduler, nanos::get);
    }

    private void advanceMillis(long millis) {
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    private ServingStatus health() {
        ServingStatus[] now = new ServingStatus[1];
        lifecycle.onHealth(h -> now[0] = h);
        return now[0];
    }

    @Test
    void drain_serving_isNotServingAtOnce_andLeavesTheRegistryInTheBackground() {
        activeFlows.set(3);

        DrainResponse response = drain.drain(10_000, false);

        assertThat(response.getStarted()).isTrue();
        assertThat(response.getActiveFlows()).isEqualTo(3);
        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_DRAINING);
        assertThat(health()).isEqualTo(ServingStatus.NOT_SERVING);
        assertThat(registryLeft).hasValue(0);
        scheduler.runPending();
        assertThat(registryLeft).hasValue(1);
        assertThat(scheduler.periodicTasks()).isEqualTo(1);
    }

    @Test
    void drain_flowsEndBeforeTheTimeout_stopsOnceTheLastFlowEnds_withoutStoppingTheWorker() {
        activeFlows.set(2);
        drain.drain(10_000, false);
        scheduler.runPending();
        advanceMillis(5_000);
        scheduler.runPending();
        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_DRAINING);

        activeFlows.set(0);
        scheduler.runPending();

        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_STOPPED);
        assertThat(stops).hasValue(0);
    }

    @Test
    void drain_flowsOutlastTheTimeout_stopsAtTheDeadline_andStopsTheWorkerOnce() {
        activeFlows.set(1);
        drain.drain(1_000, true);
        scheduler.runPending();
        advanceMillis(999);
        scheduler.runPending();
        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_DRAINING);
        assertThat(stops).hasValue(0);

        advanceMillis(1);
        scheduler.runPending();
        scheduler.runPending();

        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_STOPPED);
        assertThat(stops).hasValue(1);
    }

    @Test
    void drain_slowToLeaveTheRegistry_countsTheTimeoutFromLeavingIt() {
        activeFlows.set(1);
        leaveRegistry = () -> advanceMillis(5_000);
        drain.drain(1_000, true);

        scheduler.runPending();
        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_DRAINING);
        advanceMillis(1_000);
        scheduler.runPending();

        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_STOPPED);
        assertThat(stops).hasValue(1);
    }

    @Test
    void drain_alreadyDraining_isNotStartedAgain_andReportsTheActiveFlows() {
        activeFlows.set(4);
        drain.drain(10_000, false);

        DrainResponse again = drain.drain(10_000, true);

        assertThat(again.getStarted()).isFalse();
        assertThat(again.getActiveFlows()).isEqualTo(4);
        scheduler.runPending();
        assertThat(registryLeft).hasValue(1);
        assertThat(scheduler.periodicTasks()).isEqualTo(1);
    }

    @Test
    void drain_noActiveFlows_stopsAtTheFirstCheck() {
        drain.drain(10_000, true);

        scheduler.runPending();

        assertThat(lifecycle.lifecycle()).isEqualTo(WorkerState.WORKER_STATE_STOPPED);
        assertThat(stops).hasValue(1);
    }
}
