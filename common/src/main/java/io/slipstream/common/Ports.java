package io.slipstream.common;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on loopback, for the processes the demo, the benchmarks and the tests start. */
public final class Ports {

    private Ports() {}

    /** A port free on 127.0.0.1 now (another process may take it before it is bound: use it at once). */
    public static int free() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
