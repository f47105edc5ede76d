package io.slipstream.worker.compression.qat;

import com.intel.qat.QatZipper;
import io.slipstream.worker.compression.AbstractCompressionEngine;
import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CorruptBlockException;
import io.slipstream.worker.compression.internal.BoundedSubmitter;
import io.slipstream.worker.compression.internal.Pool;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One codec on QAT. qat-java calls are synchronous and a {@link QatZipper} is not thread-safe, so the
 * engine keeps a pool of sessions and a bounded queue of submissions served by {@code sessions}
 * threads. Only loaded after the provider's probe succeeded.
 */
final class QatEngine extends AbstractCompressionEngine {

    private final Pool<QatZipper> sessions;
    private final BoundedSubmitter queue;

    QatEngine(Codec codec, int level, int sessionCount, int queueDepth) {
        super(codec, level);
        int lvl = level();
        this.sessions = new Pool<>(() -> newZipper(codec, lvl), QatEngine::end, sessionCount);
        this.queue = new BoundedSubmitter("qat-" + codec.name().toLowerCase(java.util.Locale.ROOT), sessionCount,
                queueDepth);
    }

    static Availability probeHardware() {
        boolean available = QatZipper.isQatAvailable();
        try {
            // Opening a hardware session tells why when isQatAvailable() only says false.
            QatZipper z = newZipper(Codec.DEFLATE, 6);
            z.end();
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError && !(t instanceof InternalError)) {
                throw (VirtualMachineError) t;
            }
            return Availability.unavailable("qat-java loaded, but no QAT hardware session could be opened "
                    + "(needs QATzip, libqatzip.so.3, and a QAT device the process may use)", t);
        }
        return available ? Availability.available()
                : Availability.unavailable("qat-java: QatZipper.isQatAvailable() is false (no QAT device)");
    }

    private static QatZipper newZipper(Codec codec, int level) {
        QatZipper.Builder b = new QatZipper.Builder().setMode(QatZipper.Mode.HARDWARE).setLevel(level);
        switch (codec) {
            case ZSTD:
                b.setAlgorithm(QatZipper.Algorithm.ZSTD);
                break;
            case LZ4:
                b.setAlgorithm(QatZipper.Algorithm.LZ4);
                break;
            case GZIP:
                b.setAlgorithm(QatZipper.Algorithm.DEFLATE).setDataFormat(QatZipper.DataFormat.DEFLATE_GZIP);
                break;
            default:
                b.setAlgorithm(QatZipper.Algorithm.DEFLATE).setDataFormat(QatZipper.DataFormat.DEFLATE_RAW);
                break;
        }
        return b.build();
    }

    private static void end(QatZipper z) {
        try {
            z.end();
        } catch (RuntimeException ignored) {
            // already ended
        }
    }

    @Override
    public int maxCompressedLength(int srcLength) {
        QatZipper z = sessions.borrow();
        try {
            return z.maxCompressedLength(srcLength);
        } finally {
            sessions.release(z, false);
        }
    }

    @Override
    protected int doCompress(ByteBuffer src, ByteBuffer dst) {
        QatZipper z = sessions.borrow();
        boolean broken = true;
        try {
            int n = z.compress(src, dst);
            broken = false;
            return n;
        } catch (RuntimeException e) {
            throw new CompressionException("qat " + codec() + " compression failed: " + e.getMessage(), e);
        } finally {
            sessions.release(z, broken);
        }
    }

    @Override
    protected int doDecompress(ByteBuffer src, ByteBuffer dst) {
        if (!src.hasRemaining()) {
            throw new CorruptBlockException("qat: empty input (expected: a frame)");
        }
        QatZipper z = sessions.borrow();
        boolean broken = true;
        try {
            int n = z.decompress(src, dst);
            broken = false;
            return n;
        } catch (RuntimeException e) {
            throw new CompressionException("qat " + codec() + " decompression failed: " + e.getMessage(), e);
        } finally {
            sessions.release(z, broken);
        }
    }

    @Override
    public CompletableFuture<Integer> submitCompress(ByteBuffer src, ByteBuffer dst) {
        ByteBuffer in = src.duplicate();
        ByteBuffer out = dst.duplicate();
        return queue.submit(() -> compress(in, out));
    }

    @Override
    public CompletableFuture<Integer> submitDecompress(ByteBuffer src, ByteBuffer dst) {
        ByteBuffer in = src.duplicate();
        ByteBuffer out = dst.duplicate();
        return queue.submit(() -> decompress(in, out));
    }

    @Override
    public int queueDepth() {
        return queue.depth();
    }

    @Override
    public int queueCapacity() {
        return queue.capacity();
    }

    @Override
    public void close() {
        queue.close();
        sessions.close();
    }
}
