package io.slipstream.controller.fleet;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller's single thread (the fleet controller's, the autoscaler's). A plain scheduled executor keeps a task's exception in its future, where
 * nobody looks, and cancels a periodic task for good after its first exception: the controller would stop expiring
 * and reconciling with nothing in its log. Here a task that throws is logged with its stack trace and counted, and
 * a periodic task carries on at its next run.
 */
public final class ControllerLoop extends ScheduledThreadPoolExecutor {

    private static final Logger log = LoggerFactory.getLogger(ControllerLoop.class);

    private final String name;
    /** Tasks that threw. */
    final LongAdder errors = new LongAdder();

    public ControllerLoop(String name) {
        super(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        this.name = name;
    }

    @Override
    protected void afterExecute(Runnable r, Throwable t) {
        super.afterExecute(r, t);
        Throwable failure = t;
        if (failure == null && r instanceof Future<?> && ((Future<?>) r).isDone() && !((Future<?>) r).isCancelled()) {
            try {
                ((Future<?>) r).get();
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (CancellationException | InterruptedException e) {
                // not a failure of the task
            }
        }
        if (failure != null) {
            failed(failure);
        }
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        return super.scheduleWithFixedDelay(() -> {
            try {
                command.run();
            } catch (RuntimeException e) {
                failed(e); // and the next run happens as scheduled
            }
        }, initialDelay, delay, unit);
    }

    private void failed(Throwable failure) {
        errors.increment();
        log.error("{}: a task failed; the loop carries on", name, failure);
    }
}
