package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Two wanopt endpoints on loopback, a real destination, real TCP everywhere. */
class WanOptimizerIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final DataPlaneStats statsA = new DataPlaneStats();
    private final DataPlaneStats statsB = new DataPlaneStats();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private EchoServer echo;
    private java.net.ServerSocket banner;
    private WanOptimizer siteA;
    private WanOptimizer siteB;

    @BeforeEach
    void start() throws Exception {
        echo = new EchoServer();
        banner = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!banner.isClosed()) {
                try (Socket s = banner.accept()) {
                    // Speaks first, before the client sends anything, then says goodbye.
                    s.getOutputStream().write("220 slipstream test banner\r\n".getBytes());
                    s.shutdownOutput();
                    s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    return;
                }
            }
        });
        siteB = startB(0);
        siteA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0,
                List.of(new PortForward(0, "127.0.0.1", echo.port(), "b"),
                        new PortForward(0, "127.0.0.1", closedPort(), "b"),
                        new PortForward(0, "127.0.0.1", banner.getLocalPort(), "b")),
                256 * 1024, 2), meters, statsA, () -> compressor, compressor).start();
        connectAtoB();
    }

    private WanOptimizer startB(int port) throws InterruptedException {
        return new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", port, List.of(),
                256 * 1024, 2), meters, statsB, () -> compressor, compressor).start();
    }

    private void connectAtoB() {
        siteA.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b")
                .setDataEndpoint("127.0.0.1:" + siteB.tunnelAddress().getPort()).build()));
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        siteA.close();
        siteB.close();
        echo.close();
        banner.close();
        registry.close();
    }

    private static int closedPort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static byte[] data(int size, boolean redundant, long seed) {
        byte[] bytes = new byte[size];
        Random random = new Random(seed);
        if (redundant) {
            byte[] words = "the quick brown fox jumps over the lazy dog; backup block 0042 of volume C: "
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < size; i++) {
                bytes[i] = random.nextInt(50) == 0 ? (byte) random.nextInt(256) : words[i % words.length];
            }
        } else {
            random.nextBytes(bytes);
        }
        return bytes;
    }

    /** Sends {@code bytes} through the forward, half-closes, and returns everything echoed back. */
    private byte[] roundTrip(byte[] bytes) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0))) {
            s.setSoTimeout(30_000);
            Future<?> writer = threads.submit(() -> {
                OutputStream out = s.getOutputStream();
                for (int off = 0; off < bytes.length; off += 100_000) {
                    out.write(bytes, off, Math.min(100_000, bytes.length - off));
                }
                s.shutdownOutput();
                return null;
            });
            byte[] back = s.getInputStream().readAllBytes();
            writer.get(30, TimeUnit.SECONDS);
            return back;
        }
    }

    /** Empty when equal, else where and how they differ. */
    static String difference(int stream, byte[] sent, byte[] back) {
        if (Arrays.equals(sent, back)) {
            return "";
        }
        int i = Arrays.mismatch(sent, back);
        return "stream " + stream + ": sent " + sent.length + " bytes, got " + back.length + ", first difference at "
                + i;
    }

    private static String sha256(byte[] b) throws Exception {
        return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1000, 65_536, 1 << 20, 12 << 20})
    void roundTrip_randomData_isByteExact(int size) throws Exception {
        byte[] sent = data(size, false, size);
        assertThat(sha256(roundTrip(sent))).isEqualTo(sha256(sent));
    }

    @Test
    void roundTrip_redundantData_isByteExact_andShrinksOnTheWan() throws Exception {
        byte[] sent = data(8 << 20, true, 7);
        assertThat(sha256(roundTrip(sent))).isEqualTo(sha256(sent));
        double in = meters.get("slipstream.wanopt.bytes.in").tag("peer", "wan-b").counter().count();
        double wan = meters.get("slipstream.wanopt.bytes.wan").tag("peer", "wan-b").counter().count();
        assertThat(in).isEqualTo(sent.length);
        assertThat(wan).isLessThan(in / 3);
    }

    /** {@code original} with {@code fraction} of its bytes rewritten in {@code runs} scattered places. */
    static byte[] edited(byte[] original, double fraction, int runs, long seed) {
        byte[] copy = original.clone();
        Random random = new Random(seed);
        int runLength = (int) (copy.length * fraction / runs);
        for (int r = 0; r < runs; r++) {
            int at = random.nextInt(copy.length - runLength);
            for (int i = 0; i < runLength; i++) {
                copy[at + i] = (byte) random.nextInt(256);
            }
        }
        return copy;
    }

    private double wan() {
        return meters.get("slipstream.wanopt.bytes.wan").tag("peer", "wan-b").counter().count();
    }

    @Test
    void nearDuplicate_secondVersion_travelsMostlyAsReferences() throws Exception {
        byte[] v1 = data(8 << 20, true, 21);
        byte[] v2 = edited(v1, 0.01, 64, 22);
        assertThat(roundTrip(v1)).isEqualTo(v1);
        double before = wan();
        assertThat(roundTrip(v2)).isEqualTo(v2);
        double cost = wan() - before;
        System.out.printf("near-duplicate: second 8 MiB version (1%% edited in 64 places) cost %.2f%% on the WAN%n",
                100 * cost / v2.length);
        assertThat(cost).isLessThan(v2.length * 0.05);
    }

    @Test
    void chunkStoresUnderPressure_evictAndStayByteExact() throws Exception {
        // Stores of 1 MiB each way against 6 MiB of distinct, compressible data sent twice in turns:
        // eviction runs all the time, references to evicted chunks are asked for again or resent.
        siteA.close();
        siteB.close();
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(), List.of(),
                256 * 1024, 2, 1 << 20, true, null), meters, statsB, () -> compressor, compressor).start();
        siteA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0,
                List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")), List.of(), 256 * 1024, 2, 1 << 20, true,
                null), meters, statsA, () -> compressor, compressor).start();
        connectAtoB();
        byte[][] files = new byte[3][];
        for (int i = 0; i < files.length; i++) {
            files[i] = data(2 << 20, true, 100 + i);
        }
        for (int round = 0; round < 2; round++) {
            for (byte[] f : files) {
                assertThat(difference(round, f, roundTrip(f))).isEmpty();
            }
        }
        assertThat(siteB.dictionaryFor("wan-a").received.stats().bytesHeld()).isLessThanOrEqualTo(1 << 20);
        assertThat(siteB.dictionaryFor("wan-a").received.stats().evictions()).isPositive();
    }

    @Test
    void roundTrip_256MiB_streamed_isByteExact() throws Exception {
        long size = 256L << 20;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0))) {
            s.setSoTimeout(60_000);
            MessageDigest sentDigest = MessageDigest.getInstance("SHA-256");
            Future<?> writer = threads.submit(() -> {
                Random random = new Random(256);
                byte[] block = new byte[1 << 20];
                OutputStream out = s.getOutputStream();
                for (long off = 0; off < size; off += block.length) {
                    // Half random, half repeated text: both encoder paths stay busy.
                    if ((off >> 20) % 2 == 0) {
                        random.nextBytes(block);
                    } else {
                        System.arraycopy(data(block.length, true, off), 0, block, 0, block.length);
                    }
                    sentDigest.update(block);
                    out.write(block);
                }
                s.shutdownOutput();
                return null;
            });
            MessageDigest backDigest = MessageDigest.getInstance("SHA-256");
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1 << 16];
            long back = 0;
            int n;
            while ((n = in.read(buf)) >= 0) {
                backDigest.update(buf, 0, n);
                back += n;
            }
            writer.get(60, TimeUnit.SECONDS);
            assertThat(back).isEqualTo(size);
            assertThat(backDigest.digest()).isEqualTo(sentDigest.digest());
        }
    }

    @Test
    void referenceTheReceiverLost_isAskedForAgain_notGuessed() throws Exception {
        byte[] v1 = data(2 << 20, false, 31);
        assertThat(roundTrip(v1)).isEqualTo(v1);
        siteB.dictionaryFor("wan-a").received.clear();
        assertThat(roundTrip(v1)).isEqualTo(v1);
        assertThat(meters.get("slipstream.wanopt.chunk.needs").tag("peer", "wan-a").counter().count()).isPositive();
    }

    @Test
    void chunksTheSenderCannotBackAnyMore_goAsLiterals_notReferences() throws Exception {
        byte[] v1 = data(1 << 20, true, 41);
        assertThat(roundTrip(v1)).isEqualTo(v1);
        siteB.dictionaryFor("wan-a").received.clear();
        siteA.dictionaryFor("wan-b").sent.clear();
        double needsBefore = meters.get("slipstream.wanopt.chunk.needs").tag("peer", "wan-a").counter().count();
        // The sender would not be able to answer a NEED, so it references nothing it cannot back.
        assertThat(roundTrip(v1)).isEqualTo(v1);
        assertThat(meters.get("slipstream.wanopt.chunk.needs").tag("peer", "wan-a").counter().count())
                .isEqualTo(needsBefore);
    }

    @Test
    void roundTrip_incompressibleData_switchesToPassthrough() throws Exception {
        byte[] sent = data(16 << 20, false, 3);
        assertThat(sha256(roundTrip(sent))).isEqualTo(sha256(sent));
        assertThat(meters.get("slipstream.wanopt.passthrough").tag("peer", "wan-b").counter().count()).isPositive();
        assertThat(meters.get("slipstream.wanopt.bytes.raw").tag("peer", "wan-b").counter().count())
                .isGreaterThan(sent.length / 2.0);
    }

    @Test
    void manyConcurrentStreams_areEachByteExact() throws Exception {
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] sent = data(20_000 + i * 997, i % 2 == 0, i);
            int stream = i;
            results.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return difference(stream, sent, roundTrip(sent));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, threads));
        }
        for (CompletableFuture<String> r : results) {
            assertThat(r.get(60, TimeUnit.SECONDS)).isEmpty();
        }
        await().atMost(WAIT).until(() -> statsA.activeFlows() == 0 && statsB.activeFlows() == 0);
    }

    /**
     * Many interactive connections that each send a byte now and then: every byte is echoed at once
     * (no timer, no waiting for more data) and exactly, and every flow ends when its client leaves.
     */
    @Test
    void manyIdleConnections_oneByteAtATime_eachEchoedAtOnceAndExactly() throws Exception {
        int connections = 1_000;
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0));
                s.setTcpNoDelay(true);
                s.setSoTimeout(30_000);
                sockets.add(s);
            }
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < connections; i++) {
                    sockets.get(i).getOutputStream().write(i + round);
                }
                for (int i = 0; i < connections; i++) {
                    assertThat(sockets.get(i).getInputStream().read()).as("connection %d, round %d", i, round)
                            .isEqualTo((i + round) & 0xff);
                }
            }
            await().atMost(WAIT).until(() -> statsA.activeFlows() == connections && statsB.activeFlows() == connections);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        await().atMost(WAIT).until(() -> statsA.activeFlows() == 0 && statsB.activeFlows() == 0);
    }

    @Test
    void destinationThatSpeaksFirst_isHeardWhole() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(2))) {
                s.setSoTimeout(10_000);
                byte[] greeting = s.getInputStream().readAllBytes();
                assertThat(new String(greeting)).isEqualTo("220 slipstream test banner\r\n");
            }
        }
    }

    @Test
    void slowReader_doesNotStallOtherStreams() throws Exception {
        try (Socket slow = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0))) {
            // Writes 32 MiB but never reads the echo: its window fills, then only it waits.
            Future<?> stuck = threads.submit(() -> {
                slow.getOutputStream().write(data(32 << 20, false, 1));
                return null;
            });
            byte[] sent = data(4 << 20, false, 9);
            assertThat(roundTrip(sent)).isEqualTo(sent);
            assertThat(stuck.isDone()).as("the slow stream is held back by its window").isFalse();
        }
    }

    @Test
    void unreachableDestination_resetsTheClient() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(1))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("hello".getBytes());
            assertThatThrownBy(() -> {
                InputStream in = s.getInputStream();
                in.read();
                in.read();
            }).isInstanceOf(IOException.class).hasMessageContaining("reset");
        }
    }

    @Test
    void peerRestart_resetsOpenStreams_andNewStreamsWork() throws Exception {
        Socket open = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0));
        open.setSoTimeout(10_000);
        open.getOutputStream().write(new byte[] {1, 2, 3});
        assertThat(open.getInputStream().readNBytes(3)).containsExactly(1, 2, 3);
        int port = siteB.tunnelAddress().getPort();
        siteB.close();
        assertThatThrownBy(() -> open.getInputStream().read()).isInstanceOf(IOException.class);
        open.close();
        siteB = startB(port);
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
        byte[] sent = data(1 << 20, true, 5);
        assertThat(roundTrip(sent)).isEqualTo(sent);
    }

    @Test
    void malformedFrames_closeOnlyThatConnection() throws Exception {
        try (Socket attacker = new Socket(InetAddress.getLoopbackAddress(), siteB.tunnelAddress().getPort())) {
            attacker.setSoTimeout(10_000);
            attacker.getOutputStream().write(new byte[] {42, 0, 0, 0, 0, 0, 0, 0, 0, 0});
            InputStream in = attacker.getInputStream();
            // B says HELLO, then closes the connection on the bad frame.
            assertThat(in.readAllBytes().length).isPositive();
        }
        byte[] sent = data(1 << 20, false, 11);
        assertThat(roundTrip(sent)).isEqualTo(sent);
        assertThat(siteA.readyConnections("wan-b")).isEqualTo(2);
    }
}
