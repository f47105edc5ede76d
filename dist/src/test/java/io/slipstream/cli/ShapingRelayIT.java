package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
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
}
