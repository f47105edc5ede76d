package io.slipstream.worker.compression.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.compression.FakeTicker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private final FakeTicker ticker = new FakeTicker();
    private final CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofSeconds(1).toNanos(),
            Duration.ofSeconds(4).toNanos(), ticker);

    @Test
    void breaker_failuresBelowThreshold_staysClosed() {
        breaker.onFailure("x");
        breaker.onSuccess();
        breaker.onFailure("x");
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.allow()).isTrue();
    }

    @Test
    void breaker_thresholdReached_opensUntilBackoffThenAllowsOneProbe() {
        breaker.onFailure("a");
        breaker.onFailure("b");
        assertThat(breaker.allow()).isFalse();
        assertThat(breaker.reason()).contains("open").contains("b");

        ticker.advance(Duration.ofSeconds(1));
        assertThat(breaker.allow()).isTrue();
        assertThat(breaker.allow()).as("only one probe at a time").isFalse();
        breaker.onSuccess();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.reason()).isEmpty();
    }

    @Test
    void breaker_failedProbes_doubleBackoffUpToMaximum() {
        breaker.onFailure("a");
        breaker.onFailure("a");
        long[] waits = {1, 2, 4, 4};
        for (long w : waits) {
            ticker.advance(Duration.ofSeconds(w).minusNanos(1));
            assertThat(breaker.allow()).as("before %d s", w).isFalse();
            ticker.advance(Duration.ofNanos(1));
            assertThat(breaker.allow()).as("after %d s", w).isTrue();
            breaker.onFailure("still failing");
        }
        assertThat(breaker.trips()).isEqualTo(5);
    }

    @Test
    void breaker_neutralOutcomeOfProbe_letsAnotherProbe() {
        breaker.onFailure("a");
        breaker.onFailure("a");
        ticker.advance(Duration.ofSeconds(1));
        assertThat(breaker.allow()).isTrue();
        breaker.neutral();
        assertThat(breaker.allow()).isTrue();
    }
}
