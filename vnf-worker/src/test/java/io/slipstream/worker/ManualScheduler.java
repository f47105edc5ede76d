package io.slipstream.worker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler the test drives by hand: {@link #runPending()} runs what was submitted, then one round of every
 * periodic task. Delays are not waited for; the code under test reads time from its own fake clock.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    private final Deque<Runnable> once = new ArrayDeque<>();
    private final List<Periodic> periodic = new ArrayList<>();
    private boolean shutdown;

    /** Runs the submitted tasks (and those they submit), then each periodic task once. */
    void runPending() {
        while (!once.isEmpty()) {
            once.poll().run();
        }
        for (Periodic task : List.copyOf(periodic)) {
            task.command.run();
        }
    }

    int periodicTasks() {
        return periodic.size();
    }

    @Override
    public void execute(Runnable command) {
        once.add(command);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        Periodic task = new Periodic(command, unit.toNanos(delay));
        periodic.add(task);
        return task;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return scheduleWithFixedDelay(command, initialDelay, period, unit);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("one-shot delayed tasks (expected: execute or a periodic task)");
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("one-shot delayed tasks (expected: execute or a periodic task)");
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(once);
        once.clear();
        periodic.clear();
        return left;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return shutdown;
    }

    private final class Periodic implements ScheduledFuture<Object> {
        final Runnable command;
        final long delayNanos;

        Periodic(Runnable command, long delayNanos) {
            this.command = command;
            this.delayNanos = delayNanos;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return periodic.remove(this);
        }

        @Override
        public boolean isCancelled() {
            return !periodic.contains(this);
        }

        @Override
        public boolean isDone() {
            return isCancelled();
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException("a periodic task has no result");
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException("a periodic task has no result");
        }
    }
}
