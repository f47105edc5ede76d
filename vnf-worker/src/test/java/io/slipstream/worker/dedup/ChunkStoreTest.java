package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChunkStoreTest {

    private static final ChunkFingerprinter FINGERPRINTER = ChunkFingerprinter.withKey(new byte[16]);

    /** Chunk {@code i}: {@code len} deterministic bytes, so a reader can check what it got. */
    private static byte[] chunk(int i, int len) {
        return DedupTestData.random(1000L + i, len);
    }

    @Test
    void get_unknownFingerprint_returnsNullAndCountsMiss() {
        ChunkStore store = ChunkStore.withMaxBytes(1 << 20);
        assertThat(store.get(ChunkFingerprint.of(1, 2))).isNull();
        assertThat(store.stats().misses()).isEqualTo(1);
        assertThat(store.stats().hits()).isZero();
    }

    @Test
    void put_thenGet_returnsCopyReadOnly() {
        ChunkStore store = ChunkStore.withMaxBytes(1 << 20);
        byte[] bytes = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(bytes);
        store.put(fp, bytes);
        bytes[0] ^= 1;
        ByteBuffer got = store.get(fp);
        assertThat(got.isReadOnly()).isTrue();
        byte[] out = new byte[got.remaining()];
        got.get(out);
        assertThat(out).isEqualTo(chunk(1, 5000));
        ChunkStoreStats stats = store.stats();
        assertThat(stats.hits()).isEqualTo(1);
        assertThat(stats.chunks()).isEqualTo(1);
        assertThat(stats.bytesHeld()).isEqualTo(5000);
        assertThat(stats.hitRate()).isEqualTo(1.0);
        assertThat(store.contains(fp)).isTrue();
        assertThat(FINGERPRINTER.fingerprint(store.get(fp))).as("read-only view re-fingerprinted").isEqualTo(fp);
    }

    @Test
    void put_directBufferSlice_storesRemainingBytesOnly() {
        ChunkStore store = ChunkStore.withMaxBytes(1 << 20);
        byte[] bytes = chunk(2, 300);
        ByteBuffer direct = ByteBuffer.allocateDirect(400).put(10, bytes).position(10).limit(310);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(direct);
        store.put(fp, direct);
        assertThat(direct.position()).isEqualTo(10);
        assertThat(store.get(fp)).isEqualTo(ByteBuffer.wrap(bytes));
        store.put(fp, bytes, 0, 300);
        assertThat(store.stats().bytesHeld()).isEqualTo(300);
    }

    @Test
    void put_tenTimesTheBound_bytesHeldNeverExceedsBound() {
        long max = 256 * 1024;
        ChunkStore store = ChunkStore.withMaxBytes(max);
        Random random = new Random(3);
        long written = 0;
        for (int i = 0; written < 10 * max; i++) {
            int len = 2048 + random.nextInt(62 * 1024);
            byte[] bytes = chunk(i, len);
            store.put(FINGERPRINTER.fingerprint(bytes), bytes);
            written += len;
            assertThat(store.stats().bytesHeld()).as("after %d bytes", written).isLessThanOrEqualTo(max);
        }
        ChunkStoreStats stats = store.stats();
        assertThat(stats.evictions()).isPositive();
        assertThat(stats.evictedBytes()).isGreaterThanOrEqualTo(written - max);
        assertThat(stats.maxBytes()).isEqualTo(max);
    }

    @Test
    void put_chunkLargerThanBound_notKept() {
        ChunkStore store = ChunkStore.withMaxBytes(1000);
        byte[] big = chunk(4, 1001);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(big);
        store.put(fp, big);
        assertThat(store.get(fp)).isNull();
        assertThat(store.stats().bytesHeld()).isZero();
    }

    @Test
    void hotChunks_burstOfOneOffChunks_mostlySurvive() {
        int chunkBytes = 8192;
        ChunkStore store = ChunkStore.withMaxBytes(400L * chunkBytes);
        // Caffeine starts counting frequencies once the cache is half full: warm it up with other traffic.
        for (int i = 0; i < 400; i++) {
            byte[] bytes = chunk(50_000 + i, chunkBytes);
            store.put(FINGERPRINTER.fingerprint(bytes), bytes);
        }
        List<ChunkFingerprint> hot = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            byte[] bytes = chunk(i, chunkBytes);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(bytes);
            store.put(fp, bytes);
            hot.add(fp);
        }
        for (int round = 0; round < 10; round++) {
            for (ChunkFingerprint fp : hot) {
                assertThat(store.get(fp)).isNotNull();
            }
        }
        for (int i = 0; i < 4000; i++) {
            byte[] bytes = chunk(10_000 + i, chunkBytes);
            store.put(FINGERPRINTER.fingerprint(bytes), bytes);
        }
        long survivors = hot.stream().filter(store::contains).count();
        assertThat(survivors).isGreaterThanOrEqualTo(90);
    }

    @Test
    void concurrentPutsAndGets_boundHeldAndContentIntact() throws Exception {
        long max = 512 * 1024;
        ChunkStore store = ChunkStore.withMaxBytes(max);
        int chunks = 400;
        ChunkFingerprint[] fps = new ChunkFingerprint[chunks];
        for (int i = 0; i < chunks; i++) {
            fps[i] = FINGERPRINTER.fingerprint(chunk(i, 1000 + i * 10));
        }
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                results.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    start.await();
                    int checked = 0;
                    for (int op = 0; op < 20_000; op++) {
                        int i = random.nextInt(chunks);
                        ByteBuffer got = store.get(fps[i]);
                        if (got == null) {
                            store.put(fps[i], chunk(i, 1000 + i * 10));
                        } else {
                            assertThat(got).isEqualTo(ByteBuffer.wrap(chunk(i, 1000 + i * 10)));
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            start.countDown();
            int checked = 0;
            for (Future<Integer> r : results) {
                checked += r.get(60, TimeUnit.SECONDS);
            }
            assertThat(checked).isPositive();
        } finally {
            pool.shutdownNow();
        }
        ChunkStoreStats stats = store.stats();
        assertThat(stats.bytesHeld()).isLessThanOrEqualTo(max);
        assertThat(stats.hits() + stats.misses()).isEqualTo(threads * 20_000L);
        assertThat(stats.evictions()).isPositive();
    }

    @Test
    void clear_afterPuts_holdsNothing() {
        ChunkStore store = ChunkStore.withMaxBytes(1 << 20);
        byte[] bytes = chunk(5, 100);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(bytes);
        store.put(fp, bytes);
        store.clear();
        assertThat(store.contains(fp)).isFalse();
        assertThat(store.stats().bytesHeld()).isZero();
        store.put(fp, bytes);
        store.remove(fp);
        assertThat(store.get(fp)).isNull();
    }

    @Test
    void invalidArguments_throwWithExpectation() {
        assertThatThrownBy(() -> ChunkStore.withMaxBytes(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBytes: 0 (expected: > 0)");
        ChunkStore store = ChunkStore.withMaxBytes(100);
        assertThatThrownBy(() -> store.put(ChunkFingerprint.of(1, 1), new byte[0]))
                .hasMessage("chunk: 0 bytes (expected: > 0)");
    }
}
