package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two wanopt endpoints on loopback with their chunk stores on disk, closed and started again on the same
 * directories: what was sent before the restart is still referenced after it, a damaged store is detected and
 * never delivered, an unusable directory leaves the flows working.
 */
class ChunkStoreRestartIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final long STORE_BYTES = 64L << 20;
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final ExecutorService threads = Executors.newCachedThreadPool();
    @TempDir
    Path dirs;
    private EchoServer echo;
    private SimpleMeterRegistry meters;
    private WanOptimizer siteA;
    private WanOptimizer siteB;

    @BeforeEach
    void start() throws Exception {
        echo = new EchoServer();
    }

    @AfterEach
    void stop() throws Exception {
        closeBoth();
        threads.shutdownNow();
        echo.close();
        registry.close();
    }

    private void closeBoth() {
        if (siteA != null) {
            siteA.close();
        }
        if (siteB != null) {
            siteB.close();
        }
        siteA = null;
        siteB = null;
    }

    /** Starts both endpoints on their store directories, with new meters, and waits for the tunnel. */
    private void startBoth(Path storeA, Path storeB) throws Exception {
        meters = new SimpleMeterRegistry();
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(), List.of(),
                256 * 1024, 2, STORE_BYTES, true, null).chunkStoreDir(storeB), meters, new DataPlaneStats(),
                () -> compressor, compressor).start();
        siteA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0,
                List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")), List.of(), 256 * 1024, 2, STORE_BYTES,
                true, null).chunkStoreDir(storeA), meters, new DataPlaneStats(), () -> compressor, compressor).start();
        siteA.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b")
                .setDataEndpoint("127.0.0.1:" + siteB.tunnelAddress().getPort()).build()));
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
    }

    private byte[] roundTrip(byte[] bytes) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0))) {
            s.setSoTimeout(30_000);
            Future<?> writer = threads.submit(() -> {
                OutputStream out = s.getOutputStream();
                out.write(bytes);
                s.shutdownOutput();
                return null;
            });
            byte[] back = s.getInputStream().readAllBytes();
            writer.get(30, TimeUnit.SECONDS);
            return back;
        }
    }

    private double counter(String name, String... tags) {
        return meters.get(name).tags(tags).functionCounter().count();
    }

    private double referenceBytesAtoB() {
        return meters.get("slipstream.wanopt.chunk.bytes").tags("peer", "wan-b", "kind", "reference").counter()
                .count();
    }

    private double wanAtoB() {
        return meters.get("slipstream.wanopt.bytes.wan").tag("peer", "wan-b").counter().count();
    }

    @Test
    void restartBothEndpoints_nearCopyAfterwards_goesAsReferencesAndDeltasFromDisk() throws Exception {
        Path storeA = dirs.resolve("a");
        Path storeB = dirs.resolve("b");
        byte[] v1 = WanOptimizerIT.data(8 << 20, true, 51);
        byte[] v2 = WanOptimizerIT.edited(v1, 0.01, 64, 52);
        startBoth(storeA, storeB);
        assertThat(WanOptimizerIT.difference(1, v1, roundTrip(v1))).isEmpty();
        double firstCost = wanAtoB();
        closeBoth();

        assertThat(Files.getPosixFilePermissions(storeA.resolve("identity")))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(storeA)).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
        startBoth(storeA, storeB);
        assertThat(siteB.dictionaryFor("wan-a").received.stats().chunks()).as("B's store reopened").isPositive();
        assertThat(WanOptimizerIT.difference(2, v2, roundTrip(v2))).isEmpty();
        double cost = wanAtoB();
        System.out.printf("after a restart of both ends: first version cost %.2f%%, the near-copy %.2f%% on the WAN, "
                + "%.1f%% of it as references%n", 100 * firstCost / v1.length, 100 * cost / v2.length,
                100 * referenceBytesAtoB() / v2.length);
        // 32 KiB chunks: the unchanged ones go as references, the 64 edited ones as deltas against their old versions.
        double deltaBytes = meters.get("slipstream.wanopt.chunk.bytes").tags("peer", "wan-b", "kind", "delta").counter()
                .count();
        assertThat(referenceBytesAtoB()).isGreaterThan(v2.length * 0.5);
        assertThat(referenceBytesAtoB() + deltaBytes).isGreaterThan(v2.length * 0.95);
        assertThat(cost).isLessThan(v2.length * 0.05).isLessThan(firstCost / 4);
        assertThat(meters.get("slipstream.wanopt.store.disk.bytes").tags("peer", "wan-a", "store", "received")
                .gauge().value()).isPositive();
        assertThat(siteB.chunkStoreStates()).anySatisfy(state -> {
            assertThat(state.getPeerWorkerId()).isEqualTo("wan-a");
            assertThat(state.getStore()).isEqualTo("received");
            assertThat(state.getAvailable()).isTrue();
            assertThat(state.getChunks()).isPositive();
            assertThat(state.getBytesOnDisk()).isGreaterThanOrEqualTo(state.getBytesHeld()).isPositive();
        });
    }

    @Test
    void restartBothEndpoints_versionChangedInEveryChunk_goesAsDeltasAgainstTheReopenedStore() throws Exception {
        Path storeA = dirs.resolve("a");
        Path storeB = dirs.resolve("b");
        byte[] v1 = WanOptimizerIT.data(4 << 20, true, 71);
        // 16 changed bytes every 8 KiB or so: no 32 KiB chunk of v1 survives whole, so references alone cannot help.
        byte[] v2 = WanOptimizerIT.edited(v1, 512.0 * 16 / v1.length, 512, 72);
        startBoth(storeA, storeB);
        assertThat(WanOptimizerIT.difference(1, v1, roundTrip(v1))).isEmpty();
        double firstCost = wanAtoB();
        closeBoth();

        startBoth(storeA, storeB);
        await().atMost(WAIT).until(() -> siteA.dictionaryFor("wan-b").resemblanceReady);
        assertThat(WanOptimizerIT.difference(2, v2, roundTrip(v2))).isEmpty();
        double cost = wanAtoB();
        double deltaBytes = meters.get("slipstream.wanopt.chunk.bytes").tags("peer", "wan-b", "kind", "delta").counter()
                .count();
        System.out.printf("after a restart of both ends: first version cost %.2f%%, a version changed in every chunk"
                + " %.2f%% on the WAN, %.1f%% of it as deltas%n", 100 * firstCost / v1.length, 100 * cost / v2.length,
                100 * deltaBytes / v2.length);
        assertThat(deltaBytes).isGreaterThan(v2.length * 0.8);
        assertThat(cost).isLessThan(firstCost / 4);
    }

    @Test
    void receiverSegmentsDamagedBetweenRuns_detectedCounted_transfersStayByteExact() throws Exception {
        Path storeA = dirs.resolve("a");
        Path storeB = dirs.resolve("b");
        byte[] v1 = WanOptimizerIT.data(8 << 20, true, 61);
        startBoth(storeA, storeB);
        assertThat(roundTrip(v1)).isEqualTo(v1);
        closeBoth();

        // Flip bytes all over B's store of A's chunks, and cut one segment short.
        Random random = new Random(62);
        List<Path> segments;
        try (Stream<Path> files = Files.list(storeB.resolve("peers").resolve("wan-a").resolve("received"))) {
            segments = files.filter(f -> f.getFileName().toString().startsWith("seg-")).sorted().toList();
        }
        int damaged = 0;
        for (Path segment : segments) {
            long size = Files.size(segment);
            if (size < 128 << 10) {
                continue;
            }
            try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                if (damaged == 0) {
                    ch.truncate(size / 2);
                } else {
                    for (int i = 0; i < 20; i++) {
                        long at = 64 + (long) (random.nextDouble() * (size - 64));
                        ByteBuffer b = ByteBuffer.allocate(1);
                        ch.read(b, at);
                        b.put(0, (byte) (b.get(0) ^ 0xff)).rewind();
                        ch.write(b, at);
                    }
                }
            }
            damaged++;
        }
        assertThat(damaged).isGreaterThan(1);

        startBoth(storeA, storeB);
        for (int round = 0; round < 2; round++) {
            assertThat(WanOptimizerIT.difference(round, v1, roundTrip(v1))).isEmpty();
        }
        assertThat(counter("slipstream.wanopt.store.corrupt", "peer", "wan-a", "store", "received")).isPositive();
        assertThat(referenceBytesAtoB()).as("what survived is still referenced").isPositive();
    }

    /** Mounts a tmpfs of {@code size} at {@code dir} (root only); false when this machine does not allow it. */
    private static boolean mountTmpfs(Path dir, String size) throws Exception {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs",
                dir.toString()).redirectErrorStream(true).start();
        return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private static void unmount(Path dir) throws Exception {
        Process p = new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0).as("umount %s", dir).isTrue();
    }

    @Test
    void receiverDiskFull_flowsGoOnByteExact_writeFailuresCounted() throws Exception {
        Path storeB = dirs.resolve("b");
        org.junit.jupiter.api.Assumptions.assumeTrue(mountTmpfs(storeB, "2m"),
                "needs root to mount a 2 MiB tmpfs as a full disk");
        try {
            byte[] v1 = WanOptimizerIT.data(8 << 20, true, 81);
            startBoth(dirs.resolve("a"), storeB);
            for (int round = 0; round < 2; round++) {
                assertThat(WanOptimizerIT.difference(round, v1, roundTrip(v1))).isEmpty();
            }
            assertThat(counter("slipstream.wanopt.store.write.failures", "peer", "wan-a", "store", "received"))
                    .isPositive();
            assertThat(meters.get("slipstream.wanopt.store.disk.bytes").tags("peer", "wan-a", "store", "received")
                    .gauge().value()).isLessThanOrEqualTo(2 << 20);
            assertThat(counter("slipstream.wanopt.store.write.failures", "peer", "wan-b", "store", "sent")).isZero();
        } finally {
            closeBoth();
            unmount(storeB);
        }
    }

    @Test
    void storeDirectoryUnusable_flowsGoOnWithLiterals_metricSaysSo() throws Exception {
        Path storeA = dirs.resolve("a");
        Path storeB = Files.writeString(dirs.resolve("b"), "a file where B's store directory should be");
        byte[] v1 = WanOptimizerIT.data(2 << 20, true, 71);
        startBoth(storeA, storeB);
        for (int round = 0; round < 2; round++) {
            assertThat(WanOptimizerIT.difference(round, v1, roundTrip(v1))).isEmpty();
        }
        assertThat(meters.get("slipstream.wanopt.store.available").tags("peer", "wan-a", "store", "received")
                .gauge().value()).isZero();
        assertThat(meters.get("slipstream.wanopt.store.available").tags("peer", "wan-b", "store", "sent")
                .gauge().value()).isOne();
        assertThat(counter("slipstream.wanopt.store.write.failures", "peer", "wan-a", "store", "received"))
                .isPositive();
        assertThat(Files.readString(storeB)).as("the file is left alone").startsWith("a file");
        assertThat(siteB.chunkStoreStates()).filteredOn(state -> state.getStore().equals("received"))
                .singleElement().satisfies(state -> assertThat(state.getAvailable()).isFalse());
    }
}
