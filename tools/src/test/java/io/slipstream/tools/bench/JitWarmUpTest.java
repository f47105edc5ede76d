package io.slipstream.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class JitWarmUpTest {

    /** A compiler whose total time the paths advance, as the JIT would while they run. */
    private static final class FakeCompiler implements CompilationMXBean {
        final AtomicLong millis = new AtomicLong();
        final boolean supported;

        FakeCompiler(boolean supported) {
            this.supported = supported;
        }

        @Override
        public String getName() {
            return "fake";
        }

        @Override
        public boolean isCompilationTimeMonitoringSupported() {
            return supported;
        }

        @Override
        public long getTotalCompilationTime() {
            return millis.get();
        }

        @Override
        public ObjectName getObjectName() {
            return null;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void stopsAtTheFirstRoundThatCompiledAlmostNothing() throws Exception {
        FakeCompiler compiler = new FakeCompiler(true);
        AtomicInteger a = new AtomicInteger();
        AtomicInteger b = new AtomicInteger();
        JitWarmUp.Result result = JitWarmUp.run(50, compiler,
                () -> {
                    // Three busy rounds: each compiles for far longer than the round's 2% share.
                    if (a.incrementAndGet() <= 3) {
                        compiler.millis.addAndGet(1_000);
                    }
                    sleep(5);
                },
                () -> {
                    b.incrementAndGet();
                    sleep(5);
                });
        assertThat(result.rounds()).isEqualTo(4);
        assertThat(result.settled()).isTrue();
        assertThat(a).hasValue(4);
        assertThat(b).hasValue(4); // every path runs in every round
        assertThat(result.compileSeconds()).isEqualTo(3.0);
        assertThat(result.toString()).contains("4 warm-up rounds").contains("compiler settled");
    }

    @Test
    void aCompilerThatNeverSettlesStopsAtTheCap() throws Exception {
        FakeCompiler compiler = new FakeCompiler(true);
        JitWarmUp.Result result = JitWarmUp.run(5, compiler, () -> {
            compiler.millis.addAndGet(1_000);
            sleep(1);
        });
        assertThat(result.rounds()).isEqualTo(5);
        assertThat(result.settled()).isFalse();
        assertThat(result.toString()).contains("still busy at the cap");
    }

    @Test
    void withoutCompilationTimeEveryRoundRuns() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        JitWarmUp.Result result = JitWarmUp.run(3, new FakeCompiler(false), runs::incrementAndGet);
        assertThat(runs).hasValue(3);
        assertThat(result.settled()).isFalse();
    }

    @Test
    void aFailingPathEndsTheWarmUpWithItsError() {
        assertThatThrownBy(() -> JitWarmUp.run(3, new FakeCompiler(true), () -> {
            throw new java.io.IOException("connection refused");
        })).isInstanceOf(java.io.IOException.class).hasMessage("connection refused");
    }

    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> JitWarmUp.run(0, () -> { })).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JitWarmUp.run(1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRealCompilerIsRead() throws Exception {
        // The JVM running the tests reports compilation time (HotSpot does); a trivial path settles.
        assertThat(ManagementFactory.getCompilationMXBean().isCompilationTimeMonitoringSupported()).isTrue();
        JitWarmUp.Result result = JitWarmUp.run(200, () -> sleep(20));
        assertThat(result.rounds()).isBetween(1, 200);
        assertThat(result.seconds()).isPositive();
    }
}
