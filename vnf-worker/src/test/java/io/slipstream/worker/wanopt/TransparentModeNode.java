package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One process of {@link TransparentModeIT}, started inside a network namespace with
 * {@code ip netns exec}. It reports on stdout, one line per event, and exits when stdin closes
 * (so it never outlives the test).
 * <ul>
 *   <li>{@code egress BIND_IP TUNNEL_PORT ECHO_PORT...}: wanopt B (site b) with its tunnel endpoint
 *       on BIND_IP:TUNNEL_PORT, and echo servers on BIND_IP:ECHO_PORT that print
 *       {@code ACCEPT <local> <remote>} per connection.</li>
 *   <li>{@code ingress LISTEN_PORT PEER_HOST PEER_PORT}: wanopt A (site a) with a transparent listener
 *       on 127.0.0.1:LISTEN_PORT for site b, peered with B; prints {@code STATS in=<bytes> wan=<bytes>}
 *       whenever its counters change.</li>
 *   <li>{@code client HOST PORTS BYTES}: for each comma-separated port, sends BYTES (random, then
 *       redundant, alternating) to HOST:PORT, half-closes, reads the echo and prints
 *       {@code CLIENT <local> <remote> sent=<n> <sha256> received=<n> <sha256>}.</li>
 * </ul>
 */
public final class TransparentModeNode {

    private TransparentModeNode() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "egress" -> egress(args);
            case "ingress" -> ingress(args);
            case "client" -> client(args);
            default -> throw new IllegalArgumentException("mode: " + args[0]);
        }
    }

    private static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    /** Blocks until the parent closes stdin. */
    private static void untilStdinCloses() throws Exception {
        InputStream in = System.in;
        while (in.read() >= 0) {
            // ignore
        }
    }

    private static void egress(String[] args) throws Exception {
        String bind = args[1];
        CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
        ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
        for (int i = 3; i < args.length; i++) {
            ServerSocket server = new ServerSocket(Integer.parseInt(args[i]), 50, InetAddress.getByName(bind));
            Thread t = new Thread(() -> acceptLoop(server), "echo-" + args[i]);
            t.setDaemon(true);
            t.start();
        }
        WanOptimizer b = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", bind, Integer.parseInt(args[2]),
                List.of(), 256 * 1024, 2), new SimpleMeterRegistry(), new DataPlaneStats(), () -> compressor,
                compressor).start();
        say("READY egress tunnel=" + b.tunnelAddress());
        untilStdinCloses();
        b.close();
        registry.close();
        System.exit(0);
    }

    private static void acceptLoop(ServerSocket server) {
        while (true) {
            try {
                Socket s = server.accept();
                say("ACCEPT " + s.getLocalSocketAddress() + " " + s.getRemoteSocketAddress());
                Thread t = new Thread(() -> echo(s));
                t.setDaemon(true);
                t.start();
            } catch (Exception e) {
                return;
            }
        }
    }

    private static void echo(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
        } catch (Exception ignored) {
            // the client went away
        }
    }

    private static void ingress(String[] args) throws Exception {
        CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
        ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        WanOptimizer a = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0, List.of(),
                List.of(new TransparentListener("127.0.0.1", Integer.parseInt(args[1]), "b")), 256 * 1024, 2,
                WanOptimizer.DEFAULT_STORE_BYTES, true, null), meters, new DataPlaneStats(), () -> compressor, compressor)
                .start();
        a.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b")
                .setDataEndpoint(args[2] + ":" + args[3]).build()));
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> a.readyConnections("wan-b") >= 2);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Reported below with the number of ready tunnels; the test decides.
        }
        say("READY ingress transparent=127.0.0.1:" + a.transparentPort(0) + " tunnels=" + a.readyConnections("wan-b"));
        java.util.concurrent.ScheduledExecutorService stats = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "stats");
                    t.setDaemon(true);
                    return t;
                });
        String[] last = {""};
        stats.scheduleWithFixedDelay(() -> {
            Counter in = meters.find("slipstream.wanopt.bytes.in").tag("peer", "wan-b").counter();
            Counter wan = meters.find("slipstream.wanopt.bytes.wan").tag("peer", "wan-b").counter();
            String line = "STATS in=" + (in == null ? 0 : (long) in.count()) + " wan="
                    + (wan == null ? 0 : (long) wan.count());
            if (!line.equals(last[0])) {
                say(line);
                last[0] = line;
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
        untilStdinCloses();
        a.close();
        registry.close();
        System.exit(0);
    }

    private static void client(String[] args) throws Exception {
        String host = args[1];
        int size = Integer.parseInt(args[3]);
        int k = 0;
        for (String port : args[2].split(",")) {
            byte[] bytes = WanOptimizerIT.data(size, k % 2 == 1, 1000 + k);
            k++;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, Integer.parseInt(port)), 5000);
                s.setSoTimeout(20_000);
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        OutputStream out = s.getOutputStream();
                        for (int off = 0; off < bytes.length; off += 64 * 1024) {
                            out.write(bytes, off, Math.min(64 * 1024, bytes.length - off));
                        }
                        s.shutdownOutput();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                byte[] back = s.getInputStream().readAllBytes();
                writer.get(20, TimeUnit.SECONDS);
                say("CLIENT " + s.getLocalSocketAddress() + " " + s.getRemoteSocketAddress() + " sent=" + bytes.length
                        + " " + sha256(bytes) + " received=" + back.length + " " + sha256(back));
            }
        }
        System.exit(0);
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
