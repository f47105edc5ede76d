package io.slipstream.tools.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/**
 * The emulated link holds one queue, the relay's, as a router would: what a sender can push into a saturated
 * link beyond the rate is that queue plus small socket buffers, not megabytes of a kernel receive buffer left
 * to grow (which made a 64-byte echo behind 16 bulk flows wait 1.5 s at p50 in the latency bench).
 */
class ShapingRelayQueueTest {

    private static final long RATE = 100_000;
    private static final long SECONDS = 2;

    @Test
    void saturatedLink_acceptsTheRateAndOneQueueNotMore() throws Exception {
        try (ServerSocket target = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             ShapingRelay relay = new ShapingRelay(new InetSocketAddress("127.0.0.1", target.getLocalPort()), RATE, 0);
             SocketChannel client = SocketChannel.open()) {
            client.setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
            client.connect(new InetSocketAddress("127.0.0.1", relay.port()));
            Socket accepted = target.accept();
            Thread reader = new Thread(() -> {
                byte[] b = new byte[65536];
                try (InputStream in = accepted.getInputStream()) {
                    while (in.read(b) >= 0) {
                        // drain: the link, not the target, is the bottleneck
                    }
                } catch (java.io.IOException ignored) {
                    // closed at the end
                }
            });
            reader.start();
            client.configureBlocking(false);
            ByteBuffer buf = ByteBuffer.allocate(65536);
            long accepted1 = 0;
            long end = System.nanoTime() + SECONDS * 1_000_000_000L;
            while (System.nanoTime() < end) {
                buf.clear();
                int n = client.write(buf);
                accepted1 += n;
                if (n == 0) {
                    Thread.sleep(5);
                }
            }
            // Sent at the rate, one queue (256 KiB), and up to 256 KiB of socket buffers (the relay's 64 KiB
            // receive buffer, which the kernel doubles, the client's send buffer, a read in hand). Without the
            // relay's fixed receive buffer: ~990 KB on the development machine.
            long bound = RATE * SECONDS + 256 * 1024 + 256 * 1024;
            assertThat(accepted1).as("bytes a saturated %d B/s link took in %d s", RATE, SECONDS)
                    .isGreaterThan(RATE * SECONDS / 2)
                    .isLessThanOrEqualTo(bound);
            client.close();
            accepted.close();
            reader.join(5_000);
        }
    }
}
