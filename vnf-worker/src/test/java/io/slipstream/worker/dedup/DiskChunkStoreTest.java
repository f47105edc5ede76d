package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskChunkStoreTest {

    private static final ChunkFingerprinter FINGERPRINTER = ChunkFingerprinter.withKey(new byte[16]);
    private static final int SEGMENT = 64 << 10;

    @TempDir
    Path dir;

    private static byte[] chunk(int i, int len) {
        return DedupTestData.random(5000L + i, len);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private DiskChunkStore open(long maxBytes) throws IOException {
        return DiskChunkStore.open(dir, maxBytes, SEGMENT, DiskChunkStore.SegmentFiles.DEFAULT);
    }

    @Test
    void put_thenGet_returnsReadOnlyCopy() throws IOException {
        try (DiskChunkStore store = open(1 << 20)) {
            byte[] b = chunk(1, 5000);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
            store.put(fp, b);
            b[0] ^= 1;
            ByteBuffer got = store.get(fp);
            assertThat(got.isReadOnly()).isTrue();
            assertThat(bytes(got)).isEqualTo(chunk(1, 5000));
            ChunkStoreStats stats = store.stats();
            assertThat(stats.hits()).isEqualTo(1);
            assertThat(stats.chunks()).isEqualTo(1);
            assertThat(stats.bytesHeld()).isEqualTo(5000);
            assertThat(stats.bytesOnDisk()).isGreaterThan(5000);
            assertThat(store.get(ChunkFingerprint.of(1, 2))).isNull();
            assertThat(store.stats().misses()).isEqualTo(1);
        }
    }

    @Test
    void put_directBufferSlice_storesRemainingBytesAndKeepsPosition() throws IOException {
        try (DiskChunkStore store = open(1 << 20)) {
            byte[] b = chunk(2, 300);
            ByteBuffer direct = ByteBuffer.allocateDirect(400).put(10, b).position(10).limit(310);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
            store.put(fp, direct);
            assertThat(direct.position()).isEqualTo(10);
            assertThat(bytes(store.get(fp))).isEqualTo(b);
        }
    }

    @Test
    void reopen_afterClose_findsEveryChunk() throws IOException {
        List<ChunkFingerprint> fps = new ArrayList<>();
        try (DiskChunkStore store = open(1 << 20)) {
            for (int i = 0; i < 100; i++) {
                byte[] b = chunk(i, 1000 + i * 37);
                ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
                store.put(fp, b);
                fps.add(fp);
            }
        }
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().chunks()).isEqualTo(100);
            assertThat(store.stats().corruptDropped()).isZero();
            for (int i = 0; i < 100; i++) {
                assertThat(bytes(store.get(fps.get(i)))).isEqualTo(chunk(i, 1000 + i * 37));
            }
            // and it goes on writing after what it found
            byte[] more = chunk(1000, 4000);
            store.put(FINGERPRINTER.fingerprint(more), more);
        }
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().chunks()).isEqualTo(101);
        }
    }

    @Test
    void reopen_segmentsLargerThanTheScanBlock_recordsAcrossBlockEndsFound() throws IOException {
        int segment = 8 << 20; // opening reads 4 MiB at a time: records straddle the block ends
        List<ChunkFingerprint> fps = new ArrayList<>();
        try (DiskChunkStore store = DiskChunkStore.open(dir, 64L << 20, segment, DiskChunkStore.SegmentFiles.DEFAULT)) {
            for (int i = 0; i < 2600; i++) { // ~10 MiB: segment 0 whole, into segment 1
                byte[] b = chunk(i, 1000 + (i * 7919) % 7000);
                fps.add(FINGERPRINTER.fingerprint(b));
                store.put(fps.get(i), b);
            }
        }
        try (DiskChunkStore store = DiskChunkStore.open(dir, 64L << 20, segment, DiskChunkStore.SegmentFiles.DEFAULT)) {
            assertThat(store.stats().corruptDropped()).isZero();
            assertThat(store.stats().chunks()).isEqualTo(2600);
            for (int i = 0; i < 2600; i++) {
                assertThat(bytes(store.get(fps.get(i)))).isEqualTo(chunk(i, 1000 + (i * 7919) % 7000));
            }
        }
    }

    @Test
    void put_tenTimesTheBound_staysWithinItAndEvicts() throws IOException {
        long max = 1 << 20;
        try (DiskChunkStore store = open(max)) {
            for (int i = 0; i < 2600; i++) {
                byte[] b = chunk(i, 4000);
                store.put(FINGERPRINTER.fingerprint(b), b);
                assertThat(store.stats().bytesHeld()).isLessThanOrEqualTo(max);
            }
            ChunkStoreStats stats = store.stats();
            assertThat(stats.evictions()).isPositive();
            assertThat(stats.bytesOnDisk()).isLessThanOrEqualTo(max);
            assertThat(stats.chunks()).isGreaterThan(150); // most of the bound holds chunks
        }
        try (DiskChunkStore store = open(max)) {
            assertThat(store.stats().corruptDropped()).isZero();
        }
    }

    @Test
    void eviction_hotChunksReadAgainSurviveTenTimesTheBoundOfOneOffChunks() throws IOException {
        long max = 1 << 20;
        try (DiskChunkStore store = open(max)) {
            List<ChunkFingerprint> hot = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] b = chunk(i, 4000);
                ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
                store.put(fp, b);
                hot.add(fp);
            }
            for (int i = 0; i < 2600; i++) {
                byte[] b = chunk(100_000 + i, 4000);
                store.put(FINGERPRINTER.fingerprint(b), b);
                if (i % 50 == 0) {
                    for (ChunkFingerprint fp : hot) {
                        assertThat(store.get(fp)).as("hot chunk after %d one-off chunks", i).isNotNull();
                    }
                }
            }
            assertThat(store.stats().evictions()).isGreaterThan(2000);
        }
    }

    @Test
    void eviction_chunksNeverReadGoFirstInFifoOrder() throws IOException {
        long max = 1 << 20;
        try (DiskChunkStore store = open(max)) {
            byte[] first = chunk(0, 4000);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(first);
            store.put(fp, first);
            for (int i = 1; i < 400; i++) {
                byte[] b = chunk(i, 4000);
                store.put(FINGERPRINTER.fingerprint(b), b);
            }
            assertThat(store.contains(fp)).isFalse();
        }
    }

    @Test
    void flippedDataByte_detectedOnGet_droppedAndCounted() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        byte[] other = chunk(2, 3000);
        ChunkFingerprint otherFp = FINGERPRINTER.fingerprint(other);
        try (DiskChunkStore store = open(1 << 20)) {
            store.put(fp, b);
            store.put(otherFp, other);
            flip(dir.resolve("seg-0000"), DiskChunkStore.SEGMENT_HEADER + DiskChunkStore.RECORD_HEADER + 100);
            assertThat(store.get(fp)).isNull();
            assertThat(store.contains(fp)).isFalse();
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
            assertThat(bytes(store.get(otherFp))).isEqualTo(other);
        }
    }

    @Test
    void flippedDataByte_detectedOnOpen_onlyThatRecordDropped() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        byte[] other = chunk(2, 3000);
        ChunkFingerprint otherFp = FINGERPRINTER.fingerprint(other);
        try (DiskChunkStore store = open(1 << 20)) {
            store.put(fp, b);
            store.put(otherFp, other);
        }
        flip(dir.resolve("seg-0000"), DiskChunkStore.SEGMENT_HEADER + DiskChunkStore.RECORD_HEADER + 4999);
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
            assertThat(store.contains(fp)).isFalse();
            assertThat(bytes(store.get(otherFp))).isEqualTo(other);
        }
    }

    @Test
    void flippedHeaderByte_detectedOnOpen_restOfSegmentDropped() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        byte[] other = chunk(2, 3000);
        try (DiskChunkStore store = open(1 << 20)) {
            store.put(fp, b);
            store.put(FINGERPRINTER.fingerprint(other), other);
        }
        flip(dir.resolve("seg-0000"), DiskChunkStore.SEGMENT_HEADER + 5); // the first record's length
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
            assertThat(store.stats().chunks()).isZero();
            assertThat(store.get(fp)).isNull();
            // the segment is written again from where the damage begins
            store.put(fp, b);
            assertThat(bytes(store.get(fp))).isEqualTo(b);
        }
    }

    @Test
    void truncatedSegment_detectedOnOpen_recordsBeforeTheCutKept() throws IOException {
        List<ChunkFingerprint> fps = new ArrayList<>();
        try (DiskChunkStore store = open(1 << 20)) {
            for (int i = 0; i < 5; i++) {
                byte[] b = chunk(i, 4000);
                fps.add(FINGERPRINTER.fingerprint(b));
                store.put(fps.get(i), b);
            }
        }
        long cut = DiskChunkStore.SEGMENT_HEADER + 3L * DiskChunkStore.recordSize(4000) + 1000;
        try (FileChannel ch = FileChannel.open(dir.resolve("seg-0000"), StandardOpenOption.WRITE)) {
            ch.truncate(cut);
        }
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
            assertThat(store.stats().chunks()).isEqualTo(3);
            for (int i = 0; i < 3; i++) {
                assertThat(bytes(store.get(fps.get(i)))).isEqualTo(chunk(i, 4000));
            }
            assertThat(store.get(fps.get(3))).isNull();
        }
    }

    @Test
    void truncatedWhileOpen_detectedOnGet_answeredAsMiss() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        try (DiskChunkStore store = open(1 << 20)) {
            store.put(fp, b);
            try (FileChannel ch = FileChannel.open(dir.resolve("seg-0000"), StandardOpenOption.WRITE)) {
                ch.truncate(DiskChunkStore.SEGMENT_HEADER + 1000);
            }
            assertThat(store.get(fp)).isNull();
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
        }
    }

    @Test
    void damagedSegmentHeader_segmentDroppedOthersKept() throws IOException {
        List<ChunkFingerprint> fps = new ArrayList<>();
        try (DiskChunkStore store = open(1 << 20)) {
            for (int i = 0; i < 40; i++) { // fills segment 0 and goes on into segment 1
                byte[] b = chunk(i, 4000);
                fps.add(FINGERPRINTER.fingerprint(b));
                store.put(fps.get(i), b);
            }
        }
        flip(dir.resolve("seg-0000"), 9); // its generation
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().corruptDropped()).isEqualTo(1);
            assertThat(store.contains(fps.get(0))).isFalse();
            assertThat(bytes(store.get(fps.get(39)))).isEqualTo(chunk(39, 4000));
        }
    }

    @Test
    void recycle_segmentDamagedWhileOpen_keepsWhatPrecedesTheDamageAndForgetsTheRest() throws IOException {
        try (DiskChunkStore store = open(1 << 20)) {
            List<ChunkFingerprint> fps = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] b = chunk(i, 4000);
                fps.add(FINGERPRINTER.fingerprint(b));
                store.put(fps.get(i), b);
            }
            assertThat(store.get(fps.get(0))).isNotNull(); // referenced: kept when segment 0 is recycled
            assertThat(store.get(fps.get(5))).isNotNull();
            flip(dir.resolve("seg-0000"), DiskChunkStore.SEGMENT_HEADER + 3L * DiskChunkStore.recordSize(4000) + 1);
            for (int i = 0; i < 300; i++) { // a whole turn of the ring: segment 0 is recycled
                byte[] b = chunk(10_000 + i, 4000);
                store.put(FINGERPRINTER.fingerprint(b), b);
            }
            assertThat(bytes(store.get(fps.get(0)))).isEqualTo(chunk(0, 4000));
            long corrupt = store.stats().corruptDropped();
            assertThat(corrupt).isEqualTo(1);
            assertThat(store.contains(fps.get(5))).as("after the damage: dropped, not left pointing at new data")
                    .isFalse();
            assertThat(store.get(fps.get(5))).isNull();
            assertThat(store.stats().corruptDropped()).isEqualTo(corrupt);
        }
    }

    @Test
    void put_chunkOfTheTunnelsLargestSize_heldEvenInTheSmallestSegments() throws IOException {
        try (DiskChunkStore store = open(1 << 20)) {
            byte[] b = chunk(1, 32 << 10);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
            store.put(fp, b);
            assertThat(bytes(store.get(fp))).isEqualTo(b);
            byte[] tooLarge = chunk(2, SEGMENT);
            store.put(FINGERPRINTER.fingerprint(tooLarge), tooLarge);
            assertThat(store.contains(FINGERPRINTER.fingerprint(tooLarge))).as("larger than a segment").isFalse();
            assertThat(store.stats().writeFailures()).isZero();
        }
    }

    @Test
    void clear_dropsEverythingOnDiskToo() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        try (DiskChunkStore store = open(1 << 20)) {
            store.put(fp, b);
            store.clear();
            assertThat(store.contains(fp)).isFalse();
            assertThat(store.stats().bytesHeld()).isZero();
        }
        try (DiskChunkStore store = open(1 << 20)) {
            assertThat(store.stats().chunks()).isZero();
            store.put(fp, b);
            assertThat(bytes(store.get(fp))).isEqualTo(b);
        }
    }

    @Test
    void open_fileWhereTheDirectoryShouldBe_failsWithTheReason() throws IOException {
        Path file = Files.createFile(dir.resolve("not-a-dir"));
        assertThatThrownBy(() -> DiskChunkStore.open(file, 1 << 20)).isInstanceOf(IOException.class);
    }

    @Test
    void open_badSizes_sayWhatIsExpected() {
        assertThatThrownBy(() -> DiskChunkStore.open(dir, 1000))
                .hasMessage("chunk store: 1000 bytes (expected: 262144..1099243192320)");
        assertThatThrownBy(() -> DiskChunkStore.open(dir, 1 << 20, 1000, DiskChunkStore.SegmentFiles.DEFAULT))
                .hasMessageContaining("segment: 1000 bytes (expected: a multiple of 8 in 65536..268435456)");
    }

    @Test
    void segmentBytesFor_scalesWithTheStore() {
        assertThat(DiskChunkStore.segmentBytesFor(1L << 20)).isEqualTo(256 << 10);
        assertThat(DiskChunkStore.segmentBytesFor(4L << 30)).isEqualTo(128 << 20);
        assertThat(DiskChunkStore.segmentBytesFor(1L << 40)).isEqualTo(256 << 20);
    }

    @Test
    void diskFull_writeFailsCountedChunkNotHeld_thenWritesAgain() throws IOException {
        boolean[] full = {false};
        DiskChunkStore.SegmentFiles files = file -> new FailingChannel(
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                full);
        try (DiskChunkStore store = DiskChunkStore.open(dir, 1 << 20, SEGMENT, files)) {
            byte[] a = chunk(1, 5000);
            store.put(FINGERPRINTER.fingerprint(a), a);
            full[0] = true;
            byte[] b = chunk(2, 5000);
            ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
            store.put(fp, b);
            assertThat(store.contains(fp)).isFalse();
            assertThat(store.get(fp)).isNull();
            assertThat(store.stats().writeFailures()).isEqualTo(1);
            assertThat(bytes(store.get(FINGERPRINTER.fingerprint(a)))).isEqualTo(a);
            full[0] = false;
            store.put(fp, b);
            assertThat(bytes(store.get(fp))).isEqualTo(b);
        }
    }

    @Test
    void mirror_sentIndexBackedByTheStore_followsForgetAndClearAndSurvivesReopen() throws IOException {
        byte[] b = chunk(1, 5000);
        ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
        try (DiskChunkStore sent = open(1 << 20)) {
            SentIndex mirror = SentIndex.mirroring(sent);
            assertThat(mirror.peerHolds(fp)).isFalse();
            mirror.recordSent(fp, b.length);
            sent.put(fp, b);
            assertThat(mirror.peerHolds(fp)).isTrue();
            mirror.forget(fp);
            assertThat(mirror.peerHolds(fp)).isFalse();
            assertThat(sent.contains(fp)).as("the bytes stay to answer a NEED").isTrue();
            mirror.recordSent(fp, b.length);
            assertThat(mirror.peerHolds(fp)).isTrue();
            assertThat(mirror.stats().chunks()).isEqualTo(1);
            mirror.clear();
            assertThat(mirror.peerHolds(fp)).isFalse();
            mirror.recordSent(fp, b.length);
        }
        try (DiskChunkStore sent = open(1 << 20)) {
            assertThat(SentIndex.mirroring(sent).peerHolds(fp)).isTrue();
        }
    }

    @Test
    void mirror_sameEventsUnderSameGeometry_evictsTheSameChunksAsTheReceiver(@TempDir Path other) throws IOException {
        try (DiskChunkStore sent = open(1 << 20);
             DiskChunkStore received = DiskChunkStore.open(other, 1 << 20, SEGMENT,
                     DiskChunkStore.SegmentFiles.DEFAULT)) {
            SentIndex mirror = SentIndex.mirroring(sent);
            java.util.Random random = new java.util.Random(3);
            int refs = 0;
            for (int i = 0; i < 5000; i++) {
                int id = random.nextInt(10) < 3 ? random.nextInt(40) : 1000 + i; // 30% from a hot set
                byte[] b = chunk(id, 2000 + id % 3000);
                ChunkFingerprint fp = FINGERPRINTER.fingerprint(b);
                if (mirror.peerHolds(fp) && sent.contains(fp)) {
                    assertThat(received.get(fp)).as("reference %d", i).isNotNull();
                    refs++;
                } else {
                    mirror.recordSent(fp, b.length);
                    sent.put(fp, b);
                    received.put(fp, b);
                }
            }
            assertThat(refs).isGreaterThan(1000);
            assertThat(sent.stats().evictions()).isEqualTo(received.stats().evictions()).isPositive();
        }
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            ch.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
            ch.write(one, position);
        }
    }

    /** A channel whose writes fail with ENOSPC's message while {@code full[0]}. */
    private static final class FailingChannel extends FileChannel {
        private final FileChannel delegate;
        private final boolean[] full;

        FailingChannel(FileChannel delegate, boolean[] full) {
            this.delegate = delegate;
            this.full = full;
        }

        private void check() throws IOException {
            if (full[0]) {
                throw new IOException("No space left on device");
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return delegate.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return delegate.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            check();
            return delegate.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            check();
            return delegate.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return delegate.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            delegate.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            check();
            delegate.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            delegate.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return delegate.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            check();
            return delegate.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            check();
            return delegate.write(src, position);
        }

        @Override
        public java.nio.MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return delegate.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return delegate.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return delegate.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            delegate.close();
        }
    }
}
