package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory tier with a disk tier behind it, without sockets: evictions are written to files, lookups find
 * them, purges delete them at once, disk hits offer a copy to memory (marked persisted, so evicting it again
 * writes nothing), and a disk that falls behind drops writes instead of holding memory.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class DiskTierTest {

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private CacheStore memory;
    private DiskTier disk;

    private static CachedResponse entry(String uri, int bodyBytes, String... tags) {
        StoredResponse stored = StoredResponse.of(RequestHead.get(uri), ResponseHead.of(200, "Cache-Control",
                "max-age=60"), T, T);
        ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer(bodyBytes);
        for (int i = 0; i < bodyBytes; i++) {
            body.writeByte('a' + i % 26);
        }
        return CachedResponse.encode(PooledByteBufAllocator.DEFAULT, stored, Map.of(), Set.of(tags), body);
    }

    private void open(long memoryBytes, long maxPending) throws Exception {
        memory = new CacheStore(memoryBytes, memoryBytes / 2);
        disk = new DiskTier(dir, 10 << 20, maxPending, DiskTier.FILES).start();
        disk.loaded().get(10, TimeUnit.SECONDS);
        memory.attach(disk);
    }

    @AfterEach
    void close() {
        if (disk != null) {
            disk.close();
        }
        if (memory != null) {
            memory.close();
        }
    }

    private static CacheKey key(String uri) {
        return CacheKey.of(RequestHead.get(uri));
    }

    private void putAll(int n, int bytes) {
        for (int i = 0; i < n; i++) {
            CachedResponse e = entry("http://h/" + i, bytes, "tag" + i);
            memory.put(key("http://h/" + i), e);
            e.release();
        }
    }

    private long files() throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".obj")).count();
        }
    }

    @Test
    void evictedEntries_writtenToFiles_foundByLookupWithTheirBytes() throws Exception {
        open(16 << 10, 64 << 20);
        putAll(8, 4000);
        await().atMost(WAIT).until(() -> disk.writes.sum() + memory.entryCount() >= 8);
        assertThat(disk.writes.sum()).isPositive();
        assertThat(files()).isEqualTo(disk.entries());
        for (int i = 0; i < 8; i++) {
            List<CachedResponse> found = memory.variants(key("http://h/" + i));
            assertThat(found).hasSize(1);
            assertThat(ByteBufUtil.getBytes(found.get(0).body())).isEqualTo(expected(4000));
        }
    }

    private static byte[] expected(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    @Test
    void purges_deleteTheFilesAtOnce() throws Exception {
        open(16 << 10, 64 << 20);
        putAll(8, 4000);
        await().atMost(WAIT).until(() -> disk.writes.sum() >= 3);
        long before = files();
        int onDiskOnly = -1;
        for (int i = 0; i < 8; i++) {
            if (!disk.index().variants(key("http://h/" + i)).isEmpty()) {
                onDiskOnly = i;
                break;
            }
        }
        assertThat(memory.remove(key("http://h/" + onDiskOnly))).isTrue();
        assertThat(files()).isEqualTo(before - 1);
        assertThat(memory.purgePrefix("http://h/", true)).isPositive();
        assertThat(files()).isZero();
        assertThat(disk.entries()).isZero();
    }

    @Test
    void diskHit_offeredToMemory_asPersistedCopy_thatIsNotWrittenAgain() throws Exception {
        open(64 << 10, 64 << 20);
        CachedResponse e = entry("http://h/hot", 4000);
        CacheKey key = key("http://h/hot");
        disk.spill(key, e); // the reference passes
        await().atMost(WAIT).until(() -> disk.writes.sum() == 1);
        assertThat(memory.variants(key)).singleElement().satisfies(d -> assertThat(d.file()).isNotNull());
        await().atMost(WAIT).until(() -> disk.promotions.sum() == 1);
        CachedResponse inMemory = memory.variants(key).get(0);
        assertThat(inMemory.file()).isNull();
        assertThat(inMemory.persisted()).isTrue();
        memory.resize(1, 1); // evicts everything: the persisted copy is not written again
        memory.resize(64 << 10, 32 << 10);
        assertThat(memory.entryCount()).isZero();
        assertThat(disk.writes.sum()).isEqualTo(1);
    }

    @Test
    void purgeAfterADiskHit_promotionNeverBringsTheObjectBack() throws Exception {
        open(64 << 10, 64 << 20);
        CacheKey key = key("http://h/purged");
        disk.spill(key, entry("http://h/purged", 4000));
        await().atMost(WAIT).until(() -> disk.writes.sum() == 1);
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        disk.onFileThread(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        // A disk hit being served (it holds a reference) queues a promotion behind the hold.
        CachedResponse serving = memory.variants(key).get(0);
        assertThat(serving.tryRetain()).isTrue();
        assertThat(memory.remove(key)).isTrue();
        hold.countDown();
        disk.spill(key("http://h/marker"), entry("http://h/marker", 10)); // queued behind the promotion
        await().atMost(WAIT).until(() -> disk.writes.sum() == 2);
        serving.release();
        assertThat(memory.variants(key)).isEmpty();
        assertThat(memory.entryCount()).isZero();
    }

    @Test
    void purgeWhileASpillIsQueued_theSpillIsNeverPublished() throws Exception {
        open(64 << 10, 64 << 20);
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        disk.onFileThread(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        disk.spill(key("http://h/a"), entry("http://h/a", 4000));
        disk.spill(key("http://h/b"), entry("http://h/b", 4000, "tb"));
        disk.spill(key("http://h/p/c"), entry("http://h/p/c", 4000));
        memory.remove(key("http://h/a"));
        memory.purgeTag("tb", false);
        memory.purgePrefix("http://h/p/", true);
        hold.countDown();
        disk.spill(key("http://h/kept"), entry("http://h/kept", 10));
        await().atMost(WAIT).until(() -> disk.writes.sum() == 1);
        assertThat(disk.entries()).isEqualTo(1);
        assertThat(memory.variants(key("http://h/kept"))).hasSize(1);
        assertThat(files()).isEqualTo(1);
    }

    @Test
    void diskFallingBehind_dropsTheWrite_countedAndReleased() throws Exception {
        open(16 << 10, 1000);
        CachedResponse e = entry("http://h/big", 4000);
        disk.spill(key("http://h/big"), e);
        assertThat(disk.dropped.sum()).isEqualTo(1);
        assertThat(e.refCnt()).isZero();
        assertThat(disk.writes.sum()).isZero();
    }
}
