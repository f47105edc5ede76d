package io.slipstream.tools.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PortsTest {

    @Test
    void free_isBindable_andOutsideTheEphemeralRange() throws Exception {
        int[] ephemeral = Ports.ephemeralRange();
        // Linux (where the tests, the demo and CI run) always has the file: a null here once made every port
        // come from bind(0), inside the range, while this test passed.
        assertThat(Files.exists(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))).isTrue();
        assertThat(ephemeral).as("the kernel's ephemeral range, read").isNotNull();
        for (int i = 0; i < 20; i++) {
            int port = Ports.free();
            assertThat(port < ephemeral[0] || port > ephemeral[1]).as("port %d", port).isTrue();
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void parseRange_procfsText_orNullForAnythingElse() {
        assertThat(Ports.parseRange("32768\t60999\n")).containsExactly(32768, 60999);
        assertThat(Ports.parseRange("1024 65535")).containsExactly(1024, 65535);
        for (String bad : new String[] {"", "3", "32768", "60999 32768", "0 100", "1 70000", "a b", "1 2 3"}) {
            assertThat(Ports.parseRange(bad)).as("'%s'", bad).isNull();
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
