package io.slipstream.tools.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The relay and WAN emulator deliver every byte both ways, in order, with rate and delay applied. */
class ShapingRelayIT {

    @ParameterizedTest
    @CsvSource({"0,0,4194304", "25000000,5,1048576", "2500000,40,262144", "0,20,65536"})
    void relay_deliversEveryByteAndTheAnswer(long rate, long delayMillis, int size) throws Exception {
        byte[] bytes = Workloads.random(size, size);
        try (DigestSink sink = new DigestSink();
             ShapingRelay relay = new ShapingRelay(new InetSocketAddress("127.0.0.1", sink.port()), rate, delayMillis)) {
            long t0 = System.nanoTime();
            assertThat(DigestSink.send(relay.port(), bytes)).isEqualTo(DigestSink.digestOf(bytes));
            double seconds = (System.nanoTime() - t0) / 1e9;
            // At least the serialisation time at the rate, plus a round trip of delay.
            double floor = (rate == 0 ? 0 : (double) size / rate) + 2 * delayMillis / 1000.0;
            assertThat(seconds).isGreaterThanOrEqualTo(floor * 0.95);
        }
    }

    @Test
    void sharedLink_twoConcurrentFlowsShareTheRate_perConnectionDoesNot() throws Exception {
        long rate = 2_000_000;
        int size = 1 << 20;
        byte[] a = Workloads.random(size, 1);
        byte[] b = Workloads.random(size, 2);
        try (DigestSink sink = new DigestSink()) {
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", sink.port());
            double shared;
            double separate;
            try (ShapingRelay relay = ShapingRelay.sharedLink(target, rate, 0)) {
                shared = twoAtOnce(relay.port(), a, b);
            }
            try (ShapingRelay relay = new ShapingRelay(target, rate, 0)) {
                separate = twoAtOnce(relay.port(), a, b);
            }
            // Shared: 2 MiB through one 2 MB/s line, at least ~1 s; per connection: each has its own line.
            assertThat(shared).isGreaterThanOrEqualTo(2.0 * size / rate * 0.95);
            assertThat(separate).isLessThan(shared * 0.8);
        }
    }

    @Test
    void negativeRateOrDelay_isRefusedWithTheExpectation() {
        InetSocketAddress target = new InetSocketAddress("127.0.0.1", 9);
        assertThatThrownBy(() -> new ShapingRelay(target, -1, 0)).hasMessageContaining("expected: both >= 0");
        assertThatThrownBy(() -> ShapingRelay.sharedLink(target, 1, -5)).hasMessageContaining("expected: both >= 0");
    }

    private static double twoAtOnce(int port, byte[] a, byte[] b) throws Exception {
        long t0 = System.nanoTime();
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> send(port, a));
        CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> send(port, b));
        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo(DigestSink.digestOf(a));
        assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo(DigestSink.digestOf(b));
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String send(int port, byte[] bytes) {
        try {
            return DigestSink.send(port, bytes);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
