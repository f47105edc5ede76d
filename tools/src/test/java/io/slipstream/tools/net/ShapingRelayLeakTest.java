package io.slipstream.tools.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.worker.cache.NettyLeakCheck;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bytes the emulated link still holds (its delay line) when a side goes away are released, not left to the GC
 * (seen once in WanoptBenchIT: bulk flows closed with data in flight, "LEAK: ByteBuf.release() was not
 * called").
 */
@ExtendWith(NettyLeakCheck.class)
class ShapingRelayLeakTest {

    private static final int BYTES = 256 * 1024;

    @Test
    void relayClosedWhileBytesAreInTheDelayLine_releasesThem() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ShapingRelay relay = new ShapingRelay(new InetSocketAddress("127.0.0.1", target.getLocalPort()), 0, 5_000);
            try (Socket client = new Socket("127.0.0.1", relay.port()); Socket accepted = target.accept()) {
                client.getOutputStream().write(new byte[BYTES]);
                // Read by the relay, waiting out the 5 s delay.
                await().atMost(Duration.ofSeconds(2)).until(() -> relay.bytesRelayed() == BYTES);
                assertThat(accepted.getInputStream().available()).isZero();
                relay.close();
            }
        }
    }

    @Test
    void targetGoneWhileBytesAreInTheDelayLine_releasesThemAndTheRelayGoesOn() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ShapingRelay relay = new ShapingRelay(new InetSocketAddress("127.0.0.1", target.getLocalPort()), 0,
                     2_000)) {
            try (Socket client = new Socket("127.0.0.1", relay.port())) {
                Socket accepted = target.accept();
                client.getOutputStream().write(new byte[BYTES]);
                await().atMost(Duration.ofSeconds(2)).until(() -> relay.bytesRelayed() == BYTES);
                accepted.setSoLinger(true, 0);
                accepted.close(); // a reset: the relay's outbound side closes with the bytes still queued
            }
            // The relay still serves a new connection, end to end, after the delay.
            try (Socket client = new Socket("127.0.0.1", relay.port()); Socket accepted = target.accept()) {
                client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                InputStream in = accepted.getInputStream();
                assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
            }
        }
    }
}
