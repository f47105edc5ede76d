package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.slipstream.worker.cache.policy.ByteRanges.Range;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.PartialContent;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Partial objects (the ranges held of a representation) in the disk tier, without sockets: evicted from
 * memory for size they are written to a file and served from its mapping; they survive a restart with every
 * file checked (a file whose ranges overlap, touch, leave the representation or disagree with the body's
 * length, whose validator is not its head's, or whose bytes are damaged is dropped and counted); a new part
 * combines with them in memory; a complete response, a purge or another representation drops them.
 */
@ExtendWith(NettyLeakCheck.class)
class DiskPartsTest {

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final RequestHead REQUEST = RequestHead.get("http://h/video");
    private static final CacheKey KEY = CacheKey.of(REQUEST);
    private static final int TOTAL = 10_000;

    @TempDir
    Path dir;
    private CacheStore memory;
    private DiskTier disk;

    private void open() throws Exception {
        memory = new CacheStore(64 << 10, 32 << 10);
        disk = new DiskTier(dir, 10 << 20, 64 << 20, DiskTier.FILES).start();
        disk.loaded().get(10, TimeUnit.SECONDS);
        memory.attach(disk);
    }

    /** Closes both tiers (the files stay) and opens new ones on the same directory: a worker restart. */
    private void restart() throws Exception {
        close();
        open();
    }

    @AfterEach
    void close() {
        if (disk != null) {
            disk.close();
            disk = null;
        }
        if (memory != null) {
            memory.close();
            memory = null;
        }
    }

    private static byte at(long i) {
        return (byte) (i % 251);
    }

    /** Adds bytes first..last of the object with ETag {@code etag} to the memory tier. */
    private CacheStore.PartOutcome addPart(long first, long last, String etag, String... tags) {
        return addPart(first, last, TOTAL, etag, tags);
    }

    /** As above, of an object of {@code total} bytes. */
    private CacheStore.PartOutcome addPart(long first, long last, long total, String etag, String... tags) {
        ResponseHead head = ResponseHead.of(206, "ETag", etag, "Cache-Control", "max-age=60", "Content-Range",
                "bytes " + first + "-" + last + "/" + total, "Content-Length", String.valueOf(last - first + 1),
                "Surrogate-Key", String.join(" ", tags));
        PartialContent.Part part = PartialContent.of206(head, last - first + 1);
        assertThat(part.ok()).isTrue();
        ByteBuf content = PooledByteBufAllocator.DEFAULT.directBuffer((int) (last - first + 1));
        for (long i = first; i <= last; i++) {
            content.writeByte(at(i));
        }
        return memory.addPart(KEY, part, head, REQUEST, T, T, content);
    }

    /** Evicts everything from memory for size (the parts are spilled) and waits for the file. */
    private void evictToDisk() {
        long before = disk.writes.sum();
        memory.resize(1, 1);
        memory.resize(64 << 10, 32 << 10);
        await().atMost(WAIT).until(() -> disk.writes.sum() == before + 1);
    }

    private List<Path> files(String suffix) throws Exception {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(suffix)).toList();
        }
    }

    /** Checks that the partial object found for the key holds exactly {@code ranges} with the object's bytes. */
    private void assertHeld(Range... ranges) {
        assertHeld(TOTAL, ranges);
    }

    private void assertHeld(long total, Range... ranges) {
        PartialObject p = memory.partial(KEY);
        assertThat(p).isNotNull();
        assertThat(p.tryRetain()).isTrue();
        try {
            assertThat(p.held().ranges()).containsExactly(ranges);
            assertThat(p.completeLength()).isEqualTo(total);
            for (Range r : ranges) {
                long i = r.first();
                for (ByteBuf b : p.slices(r)) {
                    for (int j = b.readerIndex(); j < b.writerIndex(); j++, i++) {
                        assertThat(b.getByte(j)).as("byte %d", i).isEqualTo(at(i));
                    }
                    b.release();
                }
                assertThat(i).isEqualTo(r.last() + 1);
            }
        } finally {
            p.release();
        }
    }

    @Test
    void evictedParts_writtenToAFile_servedFromItAndRecoveredAfterARestart() throws Exception {
        open();
        addPart(0, 2999, "\"v1\"", "movie");
        addPart(6000, 7999, "\"v1\"", "movie");
        evictToDisk();
        assertThat(files(DiskTier.PARTS)).hasSize(1);
        assertThat(disk.index().partial(KEY)).as("on disk now").isNotNull();
        assertHeld(new Range(0, 2999), new Range(6000, 7999));

        restart();
        assertThat(disk.recovered.sum()).isEqualTo(1);
        assertThat(disk.corrupt.sum()).isZero();
        assertHeld(new Range(0, 2999), new Range(6000, 7999));
        PartialObject p = memory.partial(KEY);
        assertThat(p.stored().response().status()).isEqualTo(200);
        assertThat(p.stored().response().headers().get("ETag")).isEqualTo("\"v1\"");
        assertThat(p.tags()).containsExactly("movie");
        assertThat(memory.purgeTag("movie", false)).as("a tag purge reaches them on disk").isEqualTo(1);
        assertThat(memory.partial(KEY)).isNull();
        assertThat(files(DiskTier.PARTS)).isEmpty();
    }

    @Test
    void partsBeyondTheMemoryLimit_belongOnDisk_combinedThereServedAndRecovered() throws Exception {
        open(); // memory objects up to 32 KiB
        long big = 100_000;
        assertThat(addPart(0, 19_999, big, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.STORED);
        assertThat(addPart(20_000, 39_999, big, "\"v1\"")).as("40 000 bytes held would exceed memory's limit")
                .isEqualTo(CacheStore.PartOutcome.ON_DISK);
        await().atMost(WAIT).until(() -> disk.writes.sum() == 2);
        assertThat(disk.index().partial(KEY)).isNotNull();
        assertHeld(big, new Range(0, 39_999));
        assertThat(memory.weightedSize()).as("nothing of it in memory").isZero();

        assertThat(addPart(60_000, 79_999, big, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.ON_DISK);
        assertThat(addPart(30_000, 69_999, big, "\"v1\"")).as("overlapping both").isEqualTo(
                CacheStore.PartOutcome.ON_DISK);
        await().atMost(WAIT).until(() -> disk.writes.sum() == 4);
        assertHeld(big, new Range(0, 79_999));
        assertThat(memory.partial(KEY).bytes()).as("overlaps held once").isEqualTo(80_000);

        restart();
        assertThat(disk.corrupt.sum()).isZero();
        assertThat(disk.recovered.sum()).as("the four files combined again").isEqualTo(4);
        assertHeld(big, new Range(0, 79_999));
        assertThat(memory.partial(KEY).bytes()).isEqualTo(80_000);

        assertThat(addPart(0, 9, big + 1, "\"v1\"")).as("the same ETag with another length: a lie")
                .isEqualTo(CacheStore.PartOutcome.DROPPED);
        assertThat(memory.partial(KEY)).isNull();
        await().atMost(WAIT).until(() -> files(DiskTier.PARTS).isEmpty());
    }

    @Test
    void partsBeyondTheMemoryLimit_diskUnusable_memoryKeepsWhatItHeld() throws Exception {
        Path taken = dir.resolve("taken");
        Files.writeString(taken, "a file where the directory should be");
        memory = new CacheStore(64 << 10, 32 << 10);
        disk = new DiskTier(taken, 10 << 20, 64 << 20, DiskTier.FILES).start();
        disk.loaded().get(10, TimeUnit.SECONDS);
        memory.attach(disk);
        assertThat(addPart(0, 19_999, 100_000, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.STORED);
        assertThat(addPart(20_000, 39_999, 100_000, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.TOO_LARGE);
        assertHeld(100_000, new Range(0, 19_999));
    }

    @Test
    void newPartOfPartsOnDisk_combinedInMemory_diskCopyDropped() throws Exception {
        open();
        addPart(0, 2999, "\"v1\"");
        evictToDisk();
        assertThat(addPart(2000, 4999, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.COMBINED);
        assertThat(disk.index().partial(KEY)).isNull();
        List<Path> old = files(DiskTier.PARTS);
        assertThat(old).as("still mapped: the memory object serves bytes of it").hasSize(1);
        assertHeld(new Range(0, 4999));

        evictToDisk(); // the combined object (with bytes still mapped from the old file) is written anew
        await().atMost(WAIT).untilAsserted(() -> assertThat(files(DiskTier.PARTS)).hasSize(1)
                .doesNotContainAnyElementsOf(old));
        assertThat(addPart(5000, TOTAL - 1, "\"v1\"")).isEqualTo(CacheStore.PartOutcome.PROMOTED);
        assertThat(memory.partial(KEY)).isNull();
        assertThat(memory.variants(KEY)).singleElement().satisfies(e -> {
            for (int i = 0; i < TOTAL; i++) {
                assertThat(e.body().getByte(e.body().readerIndex() + i)).isEqualTo(at(i));
            }
        });
        assertThat(files(DiskTier.PARTS)).isEmpty();
    }

    @Test
    void partsOnDisk_anotherRepresentationOrACompleteResponse_dropsThem() throws Exception {
        open();
        addPart(0, 2999, "\"v1\"");
        evictToDisk();
        assertThat(addPart(5000, 5999, "\"v2\"")).as("a validator change between parts")
                .isEqualTo(CacheStore.PartOutcome.STORED);
        assertHeld(new Range(5000, 5999));
        assertThat(files(DiskTier.PARTS)).isEmpty();

        evictToDisk();
        assertThat(memory.dropPartialUnless(KEY, "ETag \"v3\"")).as("a response of another representation")
                .isEqualTo(1);
        assertThat(memory.partial(KEY)).isNull();
        assertThat(files(DiskTier.PARTS)).isEmpty();

        addPart(0, 99, "\"v3\"");
        evictToDisk();
        StoredResponse stored = StoredResponse.of(REQUEST, ResponseHead.of(200, "ETag", "\"v3\"", "Cache-Control",
                "max-age=60"), T, T);
        CachedResponse whole = CachedResponse.encode(PooledByteBufAllocator.DEFAULT, stored, java.util.Map.of(),
                Set.of(), PooledByteBufAllocator.DEFAULT.directBuffer(TOTAL).writeZero(TOTAL));
        memory.put(KEY, whole);
        whole.release();
        assertThat(disk.index().partial(KEY)).as("a complete response makes parts unnecessary").isNull();
        assertThat(files(DiskTier.PARTS)).isEmpty();
    }

    @Test
    void representationChangesWhileTheSpillIsQueued_theOldPartsAreNeverPublished() throws Exception {
        open();
        CountDownLatch hold = new CountDownLatch(1);
        disk.onFileThread(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        addPart(0, 2999, "\"v1\"");
        memory.resize(1, 1); // spilled, queued behind the hold
        memory.resize(64 << 10, 32 << 10);
        assertThat(memory.dropPartialUnless(KEY, "ETag \"v2\"")).isZero();
        hold.countDown();
        CountDownLatch drained = new CountDownLatch(1);
        disk.onFileThread(drained::countDown);
        assertThat(drained.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(memory.partial(KEY)).isNull();
        assertThat(disk.writes.sum()).isZero();
        assertThat(files(DiskTier.PARTS)).isEmpty();
        assertThat(files(".part")).isEmpty();
    }

    @Test
    void restart_badPartFiles_droppedAndCountedNeverServed() throws Exception {
        open();
        addPart(0, 2999, "\"v1\"");
        evictToDisk();
        Path good = files(DiskTier.PARTS).get(0);
        byte[] sound = Files.readAllBytes(good);
        close();

        StoredResponse head = StoredResponse.of(REQUEST, ResponseHead.of(200, "ETag", "\"v1\"", "Cache-Control",
                "max-age=60"), T, T);
        // The sound file with a flipped body byte, and cut short.
        byte[] flipped = sound.clone();
        flipped[flipped.length - 10] ^= 1;
        Files.write(dir.resolve("flipped" + DiskTier.PARTS), flipped);
        Files.write(dir.resolve("truncated" + DiskTier.PARTS), java.util.Arrays.copyOf(sound, sound.length - 1));
        // Well-formed files (checksums right) whose contents contradict themselves.
        write("overlapping", head, "ETag \"v1\"", 100, new Range(0, 99), new Range(50, 149));
        write("adjacent", head, "ETag \"v1\"", 100, new Range(0, 99), new Range(100, 149));
        write("unsorted", head, "ETag \"v1\"", 100, new Range(200, 299), new Range(0, 99));
        write("outside", head, "ETag \"v1\"", 100, new Range(9990, TOTAL));
        write("lengthlie", head, "ETag \"v1\"", 150, new Range(0, 99));
        write("othervalidator", head, "ETag \"v0\"", 100, new Range(0, 99));
        write("noranges", head, "ETag \"v1\"", 0);
        StoredResponse weak = StoredResponse.of(REQUEST, ResponseHead.of(200, "ETag", "W/\"v1\""), T, T);
        write("weak", weak, "ETag W/\"v1\"", 100, new Range(0, 99));
        Files.write(dir.resolve("garbage" + DiskTier.PARTS), "not a partial object".getBytes());
        Files.write(dir.resolve("complete-magic" + DiskTier.PARTS), java.util.Arrays.copyOf(DiskObjects.MAGIC, 64));

        open();
        assertThat(disk.corrupt.sum()).isEqualTo(12);
        assertThat(disk.recovered.sum()).as("the sound file").isEqualTo(1);
        assertThat(files(DiskTier.PARTS)).containsExactly(good);
        assertHeld(new Range(0, 2999));
    }

    /** A partial object's file with a correct preamble, header checksum and body checksum. */
    private void write(String name, StoredResponse stored, String validator, int bodyBytes, Range... ranges)
            throws Exception {
        byte[] body = new byte[bodyBytes];
        CRC32C crc = new CRC32C();
        crc.update(body);
        PartialContent.Held held = new PartialContent.Held(validator, TOTAL, List.of(ranges));
        byte[] header = DiskObjects.encodeParts(new DiskObjects.PartsHeader(KEY.value(), stored, Set.of(), held,
                bodyBytes, (int) crc.getValue()));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write(header);
        file.write(body);
        Files.write(dir.resolve(name + DiskTier.PARTS), file.toByteArray());
    }
}
