package io.slipstream.tools.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.Workloads;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The latency rows of {@code bench wanopt}: what the WAN path adds to interactive protocols.
 *
 * <ol>
 *   <li>echo round trips of 64, 1500 and 20000 bytes through a wanopt pair against two plain relays
 *       on the same hops (loopback, no emulated delay): p50 and p99, timed once both paths have run
 *       until the JIT settled ({@link JitWarmUp});</li>
 *   <li>a chatty workload over the emulated link: request/response pairs of 200 B / 4 KiB on one
 *       connection, then a file-share-like run of small reads of a file (sizes mixed), through the pair
 *       against straight through the same link; then the file is read again (other read sizes), where
 *       the pair's deduplication is expected to win;</li>
 *   <li>64-byte echo round trips while 16 bulk flows of incompressible data saturate the same link one way,
 *       through the pair against straight through one shared link (a FIFO queue, as a router's).</li>
 * </ol>
 */
public final class WanoptLatencyBench {

    static final int[] ECHO_SIZES = {64, 1500, 20000};
    /** Untimed rounds at most before the echo rows (each: half the timed round trips, per size and path). */
    static final int WARM_UP_ROUNDS = 20;
    static final int BULK_FLOWS = 16;

    private final int rateMbit;
    private final int delayMs;
    private final int echoRounds;
    private final int chattyPairs;
    private final int fileKib;
    private final int loadSeconds;
    /** p50 of the under-load runs, ours then direct, for the printed summary. */
    private final List<Double> underLoadP50 = new ArrayList<>();

    WanoptLatencyBench(int rateMbit, int delayMs, int echoRounds, int chattyPairs, int fileKib, int loadSeconds) {
        this.rateMbit = rateMbit;
        this.delayMs = delayMs;
        this.echoRounds = echoRounds;
        this.chattyPairs = chattyPairs;
        this.fileKib = fileKib;
        this.loadSeconds = loadSeconds;
    }

    void run(BenchReport report, PrintWriter out) throws Exception {
        try (Servers servers = new Servers()) {
            echoRows(report, servers, out);
            chattyRows(report, servers);
            underLoadRow(report, servers);
        }
        out.printf(Locale.ROOT, "latency: echo %d round trips per size; chatty: %d pairs of 200 B / 4 KiB and a %d KiB"
                + " file read in mixed small reads, then re-read; under load: %d bulk flows for %d s; link %d Mbit/s,"
                + " %d ms one way (round trip %d ms)%n", echoRounds, chattyPairs, fileKib, BULK_FLOWS, loadSeconds,
                rateMbit, delayMs, 2 * delayMs);
        if (underLoadP50.size() == 2) {
            out.printf(Locale.ROOT, "echo round trip under bulk load p50 ms: %.1f (direct over one shared link: %.1f);"
                    + " target for p99: <= %d ms (the link's round trip + 20 ms)%n", underLoadP50.get(0),
                    underLoadP50.get(1), 2 * delayMs + 20);
        }
    }

    // ---- 1. echo round trips ----

    private void echoRows(BenchReport report, Servers servers, PrintWriter out) throws Exception {
        InetSocketAddress echo = servers.echoAddress();
        try (Pair pair = new Pair(echo, 0, 0);
             ShapingRelay second = ShapingRelay.plain(echo);
             ShapingRelay first = ShapingRelay.plain(new InetSocketAddress("127.0.0.1", second.port()))) {
            // Untimed until the JIT has settled, both paths alike (a worker runs for days; see JitWarmUp).
            int warmUpEchoes = Math.max(10, echoRounds / 2);
            List<JitWarmUp.Path> paths = new ArrayList<>();
            for (int size : ECHO_SIZES) {
                paths.add(() -> echo(pair.port(), size, warmUpEchoes));
                paths.add(() -> echo(first.port(), size, warmUpEchoes));
            }
            out.println("echo round trips: " + JitWarmUp.run(WARM_UP_ROUNDS, paths.toArray(new JitWarmUp.Path[0])));
            for (int size : ECHO_SIZES) {
                double[] ours = echo(pair.port(), size, echoRounds);
                double[] theirs = echo(first.port(), size, echoRounds);
                report.add("echo round trip " + size + " B p50 ms", ours[0], "2 plain relays", theirs[0],
                        BenchReport.Better.LOWER);
                report.add("echo round trip " + size + " B p99 ms", ours[1], "2 plain relays", theirs[1],
                        BenchReport.Better.LOWER);
            }
        }
    }

    /** p50 and p99 in ms of {@code rounds} echo round trips of {@code size} bytes on one connection. */
    static double[] echo(int port, int size, int rounds) throws IOException {
        try (Socket s = connect(port)) {
            s.getOutputStream().write(Servers.ECHO);
            byte[] message = Workloads.random(size, size);
            byte[] back = new byte[size];
            InputStream in = s.getInputStream();
            OutputStream o = s.getOutputStream();
            int warmUp = Math.max(10, rounds / 10);
            long[] nanos = new long[rounds];
            for (int i = -warmUp; i < rounds; i++) {
                long t0 = System.nanoTime();
                o.write(message);
                readFully(in, back);
                if (i >= 0) {
                    nanos[i] = System.nanoTime() - t0;
                }
                if (!Arrays.equals(message, back)) {
                    throw new IllegalStateException("echo of " + size + " bytes came back different");
                }
            }
            return percentiles(nanos);
        }
    }

    // ---- 2. chatty workload over the link ----

    private void chattyRows(BenchReport report, Servers servers) throws Exception {
        long rate = rateMbit * 1_000_000L / 8;
        double[] ours;
        double[] direct;
        try (Pair pair = new Pair(servers.requestAddress(), rate, delayMs)) {
            ours = chatty(pair.port());
        }
        try (ShapingRelay link = new ShapingRelay(servers.requestAddress(), rate, delayMs)) {
            direct = chatty(link.port());
        }
        report.add("chatty workload seconds", ours[0], "direct over the same link", direct[0],
                BenchReport.Better.LOWER);
        report.add("chatty file re-read seconds", ours[1], "direct over the same link", direct[1],
                BenchReport.Better.LOWER);
    }

    /** Seconds of (request/response pairs + first read of the file) and of the re-read. */
    private double[] chatty(int port) throws IOException {
        try (Socket s = connect(port)) {
            DataOutputStream o = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16));
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream(), 1 << 16));
            long t0 = System.nanoTime();
            for (int i = 0; i < chattyPairs; i++) {
                request(o, in, 200, Servers.CHATTY_REGION + (long) i * 4096 % (Servers.CONTENT - Servers.CHATTY_REGION - 4096),
                        4096);
            }
            int file = fileKib * 1024;
            int[] firstSizes = {4096, 16384, 8192, 61440, 32768};
            int[] againSizes = {32768, 4096, 65536, 12288};
            readFile(o, in, file, firstSizes);
            double first = (System.nanoTime() - t0) / 1e9;
            long t1 = System.nanoTime();
            readFile(o, in, file, againSizes);
            double again = (System.nanoTime() - t1) / 1e9;
            return new double[] {first, again};
        }
    }

    private static void readFile(DataOutputStream o, DataInputStream in, int file, int[] sizes) throws IOException {
        int i = 0;
        for (int at = 0; at < file; ) {
            int n = Math.min(sizes[i++ % sizes.length], file - at);
            request(o, in, 100, at, n);
            at += n;
        }
    }

    /** A request of {@code requestBytes} asking for {@code length} bytes of the content at {@code offset}. */
    private static void request(DataOutputStream o, DataInputStream in, int requestBytes, long offset, int length)
            throws IOException {
        o.writeInt(requestBytes);
        o.writeInt((int) offset);
        o.writeInt(length);
        o.write(new byte[requestBytes - 12]);
        o.flush();
        byte[] answer = new byte[length];
        in.readFully(answer);
        if (!Arrays.equals(answer, 0, length, Servers.content(), (int) offset, (int) offset + length)) {
            throw new IllegalStateException("read of " + length + " bytes at " + offset + " came back different");
        }
    }

    // ---- 3. echo while bulk flows fill the link ----

    private void underLoadRow(BenchReport report, Servers servers) throws Exception {
        long rate = rateMbit * 1_000_000L / 8;
        double ours;
        double direct;
        try (Pair pair = new Pair(servers.echoAddress(), rate, delayMs)) {
            ours = underLoad(pair.port());
        }
        try (ShapingRelay link = ShapingRelay.sharedLink(servers.echoAddress(), rate, delayMs)) {
            direct = underLoad(link.port());
        }
        report.add("echo round trip under bulk load p99 ms", ours, "direct over one shared link", direct,
                BenchReport.Better.LOWER);
    }

    /** p99 in ms of 64-byte echoes while {@link #BULK_FLOWS} flows send random bytes one way (discarded). */
    private double underLoad(int port) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService bulk = Executors.newFixedThreadPool(BULK_FLOWS);
        List<Socket> sockets = new ArrayList<>();
        AtomicLong sent = new AtomicLong();
        try {
            for (int i = 0; i < BULK_FLOWS; i++) {
                Socket s = connect(port);
                sockets.add(s);
                long seed = i;
                bulk.execute(() -> {
                    try {
                        OutputStream o = s.getOutputStream();
                        o.write(Servers.DISCARD);
                        // Random bytes never sent before: a repeated block would cross the tunnel as references
                        // and leave the link idle.
                        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
                        java.nio.ByteBuffer block = java.nio.ByteBuffer.allocate(64 * 1024);
                        while (!stop.get()) {
                            block.clear();
                            while (block.hasRemaining()) {
                                block.putLong(random.nextLong());
                            }
                            o.write(block.array());
                            sent.addAndGet(block.capacity());
                        }
                    } catch (IOException ignored) {
                        // closed at the end of the run
                    }
                });
            }
            // Let the flows fill the link and every queue on the way first.
            Thread.sleep(2_000);
            List<Long> nanos = new ArrayList<>();
            try (Socket s = connect(port)) {
                s.getOutputStream().write(Servers.ECHO);
                byte[] message = Workloads.random(64, 64);
                byte[] back = new byte[64];
                long end = System.nanoTime() + loadSeconds * 1_000_000_000L;
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    s.getOutputStream().write(message);
                    readFully(s.getInputStream(), back);
                    nanos.add(System.nanoTime() - t0);
                }
            }
            if (sent.get() == 0) {
                throw new IllegalStateException("the bulk flows sent nothing");
            }
            double[] p = percentiles(nanos.stream().mapToLong(Long::longValue).toArray());
            underLoadP50.add(p[0]);
            return p[1];
        } finally {
            stop.set(true);
            for (Socket s : sockets) {
                try {
                    s.setSoLinger(true, 0);
                    s.close();
                } catch (IOException ignored) {
                    // already gone
                }
            }
            bulk.shutdownNow();
        }
    }

    // ---- helpers ----

    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        s.setSoTimeout(120_000);
        return s;
    }

    private static void readFully(InputStream in, byte[] b) throws IOException {
        for (int at = 0; at < b.length; ) {
            int n = in.read(b, at, b.length - at);
            if (n < 0) {
                throw new IOException("connection closed after " + at + " of " + b.length + " bytes");
            }
            at += n;
        }
    }

    /** p50 and p99 of {@code nanos}, in ms. */
    static double[] percentiles(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return new double[] {sorted[(int) Math.min(sorted.length - 1, sorted.length * 0.50)] / 1e6,
            sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] / 1e6};
    }

    /** Two wanopt endpoints, A forwarding to {@code target} behind B, optionally through an emulated link. */
    static final class Pair implements AutoCloseable {
        final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
        final WanOptimizer b;
        final ShapingRelay link;
        final WanOptimizer a;

        Pair(InetSocketAddress target, long linkBytesPerSecond, long linkDelayMillis) throws Exception {
            ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            b = new WanOptimizer(new WanOptimizer.Settings("bench-b", "b", "127.0.0.1", 0, List.of(),
                    WanoptBenchCommand.Sites.WINDOW, 1), meters, new DataPlaneStats(), () -> compressor, compressor)
                    .start();
            link = linkBytesPerSecond > 0 || linkDelayMillis > 0
                    ? new ShapingRelay(b.tunnelAddress(), linkBytesPerSecond, linkDelayMillis) : null;
            int tunnelPort = link != null ? link.port() : b.tunnelAddress().getPort();
            a = new WanOptimizer(new WanOptimizer.Settings("bench-a", "a", "127.0.0.1", 0,
                    List.of(new PortForward(0, target.getHostString(), target.getPort(), "b")),
                    WanoptBenchCommand.Sites.WINDOW, 1), meters, new DataPlaneStats(), () -> compressor, compressor)
                    .start();
            a.peers(List.of(Peer.newBuilder().setWorkerId("bench-b").setSite("b")
                    .setDataEndpoint("127.0.0.1:" + tunnelPort).build()));
            for (int i = 0; i < 200 && a.readyConnections("bench-b") == 0; i++) {
                Thread.sleep(25);
            }
            if (a.readyConnections("bench-b") == 0) {
                close();
                throw new IllegalStateException("the tunnel between the bench sites did not come up");
            }
        }

        int port() {
            return a.forwardPort(0);
        }

        @Override
        public void close() throws Exception {
            a.close();
            if (link != null) {
                link.close();
            }
            b.close();
            registry.close();
        }
    }

    /**
     * The destinations: an echo server (a connection's first byte says whether to echo, {@link #ECHO},
     * or to discard, {@link #DISCARD}, what follows), and a request server answering "n bytes of the
     * content at offset" (blocking, a thread per connection, TCP_NODELAY).
     */
    static final class Servers implements AutoCloseable {
        static final int ECHO = 'E';
        static final int DISCARD = 'D';
        static final int CONTENT = 24 << 20;
        /** Where the chatty pairs' answers come from (the file lies before it). */
        static final int CHATTY_REGION = 8 << 20;
        private static byte[] content;
        private final ServerSocket echo;
        private final ServerSocket requests;
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "latency-bench-server");
            t.setDaemon(true);
            return t;
        });

        Servers() throws IOException {
            content();
            echo = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            requests = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            threads.execute(() -> accept(echo, true));
            threads.execute(() -> accept(requests, false));
        }

        static synchronized byte[] content() {
            if (content == null) {
                content = Workloads.fileLike(CONTENT, 24);
            }
            return content;
        }

        InetSocketAddress echoAddress() {
            return new InetSocketAddress("127.0.0.1", echo.getLocalPort());
        }

        InetSocketAddress requestAddress() {
            return new InetSocketAddress("127.0.0.1", requests.getLocalPort());
        }

        private void accept(ServerSocket server, boolean isEcho) {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    threads.execute(() -> serve(s, isEcho));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void serve(Socket s, boolean isEcho) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                if (isEcho) {
                    int mode = in.read();
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        if (mode == ECHO) {
                            out.write(buf, 0, n);
                        }
                    }
                    return;
                }
                DataInputStream data = new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
                byte[] c = content();
                while (true) {
                    int requestBytes = data.readInt();
                    int offset = data.readInt();
                    int length = data.readInt();
                    if (requestBytes < 12 || offset < 0 || length < 0 || (long) offset + length > c.length) {
                        throw new IOException("bad request: " + requestBytes + " bytes, " + length + " at " + offset);
                    }
                    data.skipNBytes(requestBytes - 12);
                    out.write(c, offset, length);
                }
            } catch (IOException ignored) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            echo.close();
            requests.close();
            threads.shutdownNow();
        }
    }
}
