package io.slipstream.worker.dedup.jmh;

import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.dedup.ChunkFingerprinter;
import io.slipstream.worker.dedup.ChunkStore;
import io.slipstream.worker.dedup.DiskChunkStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Put and get of 4 KiB chunks (the tunnel's average) in a 256 MiB store, on disk ({@link DiskChunkStore}, page
 * cache warm) and on the heap, one thread. Puts are new chunks (the disk store recycles segments once full);
 * gets are random chunks of the 32,768 preloaded. Run with
 * {@code DedupBenchmarkMain ChunkStoreBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s}; MB/s = ops/s x 4096 / 1e6.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ChunkStoreBenchmark {

    static final int CHUNK = 4096;
    static final int PRELOADED = 32_768;

    @Param({"disk", "heap"})
    String kind;

    private Path dir;
    private ChunkStore store;
    private final byte[] chunk = new byte[CHUNK];
    private final ChunkFingerprint[] held = new ChunkFingerprint[PRELOADED];
    private final Random random = new Random(1);
    private long next;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        long bytes = 256L << 20;
        if ("disk".equals(kind)) {
            dir = Files.createTempDirectory("chunk-store-bench");
            store = DiskChunkStore.open(dir, bytes);
        } else {
            store = ChunkStore.withMaxBytes(bytes);
        }
        ChunkFingerprinter fingerprinter = ChunkFingerprinter.withKey(new byte[16]);
        for (int i = 0; i < PRELOADED; i++) {
            random.nextBytes(chunk);
            held[i] = fingerprinter.fingerprint(chunk);
            store.put(held[i], chunk);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (store instanceof DiskChunkStore disk) {
            disk.close();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    @Benchmark
    public void put() {
        // A new fingerprint per call (the content need not match it for the store's throughput).
        chunk[0] = (byte) next;
        store.put(ChunkFingerprint.of(0x5eed, next++), chunk);
    }

    @Benchmark
    public ByteBuffer get() {
        return store.get(held[random.nextInt(PRELOADED)]);
    }
}
