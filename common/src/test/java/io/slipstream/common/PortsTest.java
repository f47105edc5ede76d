package io.slipstream.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void free_isBindable_andOutsideTheEphemeralRange() throws Exception {
        int[] ephemeral = Ports.ephemeralRange();
        for (int i = 0; i < 20; i++) {
            int port = Ports.free();
            if (ephemeral != null) {
                assertThat(port < ephemeral[0] || port > ephemeral[1]).as("port %d", port).isTrue();
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void choosable_prefersAboveTheRange_thenBelow_elseNone() {
        assertThat(Ports.choosable(new int[] {32768, 60999})).containsExactly(61000, 65535);
        assertThat(Ports.choosable(new int[] {20000, 65000})).containsExactly(10000, 19999);
        assertThat(Ports.choosable(new int[] {1024, 65535})).isNull();
        assertThat(Ports.choosable(null)).isNull();
    }
}
