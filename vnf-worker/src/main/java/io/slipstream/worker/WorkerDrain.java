package io.slipstream.worker;

import io.slipstream.proto.v1.DrainResponse;
import io.slipstream.worker.control.Drainer;
import io.slipstream.worker.control.WorkerLifecycle;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain: NOT_SERVING at once, out of the registry, then wait until no flow is active or the timeout has
 * passed (counted from leaving the registry), STOPPED, and optionally stop the worker. Time comes from an
 * injected nanosecond clock; the active flows are checked every {@link #CHECK_MILLIS} on the scheduler.
 */
final class WorkerDrain implements Drainer {

    private static final Logger log = LoggerFactory.getLogger(WorkerDrain.class);
    static final long CHECK_MILLIS = 50;

    private final WorkerLifecycle lifecycle;
    private final IntSupplier activeFlows;
    private final Runnable leaveRegistry;
    private final Runnable stop;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier nanoTime;

    /**
     * @param leaveRegistry removes the worker's registration (may block)
     * @param stop stops the worker once drained, when the drain asks for it
     * @param nanoTime the clock, {@code System::nanoTime} outside tests
     */
    WorkerDrain(WorkerLifecycle lifecycle, IntSupplier activeFlows, Runnable leaveRegistry, Runnable stop,
                ScheduledExecutorService scheduler, LongSupplier nanoTime) {
        this.lifecycle = lifecycle;
        this.activeFlows = activeFlows;
        this.leaveRegistry = leaveRegistry;
        this.stop = stop;
        this.scheduler = scheduler;
        this.nanoTime = nanoTime;
    }

    @Override
    public DrainResponse drain(long timeoutMillis, boolean stopWhenDrained) {
        int active = activeFlows.getAsInt();
        if (!lifecycle.beginDrain()) {
            return DrainResponse.newBuilder().setActiveFlows(active).setStarted(false).build();
        }
        log.info("draining: {} active flows, timeout {} ms, stop when drained: {}", active, timeoutMillis,
                stopWhenDrained);
        scheduler.execute(() -> finish(timeoutMillis, stopWhenDrained));
        return DrainResponse.newBuilder().setActiveFlows(active).setStarted(true).build();
    }

    private void finish(long timeoutMillis, boolean stopWhenDrained) {
        leaveRegistry.run();
        long deadline = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        AtomicBoolean done = new AtomicBoolean();
        scheduler.scheduleWithFixedDelay(() -> {
            if (done.get() || (activeFlows.getAsInt() > 0 && nanoTime.getAsLong() < deadline)) {
                return;
            }
            done.set(true);
            lifecycle.stopped();
            log.info("drained ({} flows left)", activeFlows.getAsInt());
            if (stopWhenDrained) {
                stop.run();
            }
        }, 0, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
}
