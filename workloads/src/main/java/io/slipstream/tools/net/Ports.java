package io.slipstream.tools.net;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on loopback, for the processes the demo, the benchmarks and the tests start.
 *
 * <p>A port chosen now and bound later by another process can be taken in between. The kernel hands out its
 * ephemeral range ({@code net.ipv4.ip_local_port_range}) to every {@code bind(0)} and to the local end of
 * every outgoing connection, so a port picked from that range is soon reused by the very processes being
 * started (the demo once saw a worker fail to come up this way). Ports are therefore picked above the
 * ephemeral range (below it when that leaves too few), where nothing is assigned automatically.
 */
public final class Ports {

    private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int MIN_PORTS = 1000;

    private Ports() {}

    /** A port free on 127.0.0.1 now, outside the kernel's ephemeral range; bind it soon. */
    public static int free() throws IOException {
        int[] range = choosable(ephemeralRange());
        if (range != null) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int attempt = 0; attempt < 200; attempt++) {
                int port = range[0] + random.nextInt(range[1] - range[0] + 1);
                if (bindable(port)) {
                    return port;
                }
            }
        }
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Ports to choose from given the ephemeral range {@code [low, high]}, or {@code null} for none. */
    static int[] choosable(int[] ephemeral) {
        if (ephemeral == null) {
            return null;
        }
        if (65535 - ephemeral[1] >= MIN_PORTS) {
            return new int[] {ephemeral[1] + 1, 65535};
        }
        if (ephemeral[0] - 1 - 10000 >= MIN_PORTS) {
            return new int[] {10000, ephemeral[0] - 1};
        }
        return null;
    }

    /** {@code [low, high]} of the kernel's ephemeral ports, or {@code null} when unknown. */
    static int[] ephemeralRange() {
        // Read as a stream: Files.readString trusts the size procfs reports and returned "3" of "32768 60999"
        // on JDK 17, so every port came from bind(0), inside the range, for as long as this helper existed.
        try (InputStream in = Files.newInputStream(RANGE)) {
            return parseRange(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code [low, high]} from the text of {@code ip_local_port_range} ("32768\t60999\n"), or {@code null}. */
    static int[] parseRange(String text) {
        try {
            String[] parts = text.trim().split("\\s+");
            int low = Integer.parseInt(parts[0]);
            int high = Integer.parseInt(parts[1]);
            return parts.length == 2 && low >= 1 && low <= high && high <= 65535 ? new int[] {low, high} : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
