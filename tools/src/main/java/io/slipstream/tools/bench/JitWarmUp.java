package io.slipstream.tools.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Runs the paths a benchmark compares, untimed, until the JIT compiler has settled, so the timed runs
 * measure the steady state a long-running worker reaches, on both sides alike.
 *
 * <p>On two cores the compiler threads take CPU from the code being measured, and the side with more
 * code to compile (the wanopt pipeline against a plain relay) pays longer: a throughput run in a cold
 * JVM measured 0.6x what the same two paths give once compiled. Settled means one round of all paths
 * added at most {@link #SETTLED_SHARE} of its wall-clock time in compilation (the JVM's
 * {@link CompilationMXBean} total); the warm-up stops there or after {@code maxRounds}, whichever
 * comes first, and says which. Where the JVM does not report compilation time, {@code maxRounds}
 * rounds run.
 */
public final class JitWarmUp {

    /** A round that spent at most this share of its time compiling counts as settled. */
    public static final double SETTLED_SHARE = 0.02;

    /** One path a benchmark times: run it once, untimed. */
    @FunctionalInterface
    public interface Path {
        void run() throws Exception;
    }

    /** What a warm-up did: rounds run, seconds spent, whether the compiler settled. */
    public static final class Result {
        private final int rounds;
        private final double seconds;
        private final double compileSeconds;
        private final boolean settled;

        Result(int rounds, double seconds, double compileSeconds, boolean settled) {
            this.rounds = rounds;
            this.seconds = seconds;
            this.compileSeconds = compileSeconds;
            this.settled = settled;
        }

        public int rounds() {
            return rounds;
        }

        public double seconds() {
            return seconds;
        }

        /** Compilation time the JVM reported during the warm-up (summed over its compiler threads). */
        public double compileSeconds() {
            return compileSeconds;
        }

        public boolean settled() {
            return settled;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d warm-up round%s in %.1f s (%.1f s of JIT compilation), %s",
                    rounds, rounds == 1 ? "" : "s", seconds, compileSeconds,
                    settled ? "compiler settled" : "compiler still busy at the cap");
        }
    }

    private JitWarmUp() {
    }

    /**
     * Runs every path in turn, round after round, until a round is settled or {@code maxRounds} ran.
     *
     * @param maxRounds at least 1
     */
    public static Result run(int maxRounds, Path... paths) throws Exception {
        return run(maxRounds, ManagementFactory.getCompilationMXBean(), paths);
    }

    static Result run(int maxRounds, CompilationMXBean compiler, Path... paths) throws Exception {
        if (maxRounds < 1 || paths.length == 0) {
            throw new IllegalArgumentException("a warm-up needs at least one round and one path");
        }
        boolean measurable = compiler != null && compiler.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long compileStart = measurable ? compiler.getTotalCompilationTime() : 0;
        int rounds = 0;
        boolean settled = false;
        while (rounds < maxRounds && !settled) {
            long t0 = System.nanoTime();
            long c0 = measurable ? compiler.getTotalCompilationTime() : 0;
            for (Path path : paths) {
                path.run();
            }
            rounds++;
            if (measurable) {
                double wallMillis = (System.nanoTime() - t0) / 1e6;
                long compileMillis = compiler.getTotalCompilationTime() - c0;
                settled = compileMillis <= SETTLED_SHARE * wallMillis;
            }
        }
        double compileSeconds = measurable ? (compiler.getTotalCompilationTime() - compileStart) / 1e3 : 0;
        return new Result(rounds, (System.nanoTime() - start) / 1e9, compileSeconds, settled);
    }
}
