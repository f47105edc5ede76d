package io.slipstream.worker.compression;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One provider's compressor for one codec and level. Thread-safe. Output is a standard frame of the
 * codec, so any engine of the same codec decodes it.
 *
 * <p>Buffers: heap or direct. {@code compress}/{@code decompress} read {@code src} from its position
 * to its limit and write {@code dst} from its position, never past its limit. On success both
 * positions advance (src to its limit); on failure both positions are unchanged and the bytes of
 * {@code dst} between position and limit are unspecified. The caller owns both buffers, except while
 * an asynchronous submission is in flight: then they belong to the engine until the future completes.
 */
public interface CompressionEngine extends AutoCloseable {

    Codec codec();

    int level();

    /** An upper bound of the compressed size of {@code srcLength} bytes. */
    int maxCompressedLength(int srcLength);

    /**
     * Compresses all remaining bytes of {@code src} as one frame into {@code dst}.
     *
     * @return the number of bytes written
     * @throws CompressionException when {@code dst} is too small or the engine fails
     */
    int compress(ByteBuffer src, ByteBuffer dst);

    /**
     * Decompresses exactly one frame (all remaining bytes of {@code src}) into {@code dst}.
     *
     * @return the number of bytes written
     * @throws CorruptBlockException when {@code src} is not one valid frame, or its content does not fit
     *     in {@code dst} (decompression is bounded by {@code dst.remaining()})
     */
    int decompress(ByteBuffer src, ByteBuffer dst);

    /**
     * Submits a compression to the engine's queue. When the queue is full the future fails at once
     * with {@link QueueFullException} (back-pressure; nothing is buffered). Software engines have no
     * queue and complete on the caller's thread. Submissions do not move the buffers' positions; the
     * future's value is the number of bytes written at {@code dst}'s position.
     */
    default CompletableFuture<Integer> submitCompress(ByteBuffer src, ByteBuffer dst) {
        try {
            return CompletableFuture.completedFuture(compress(src.duplicate(), dst.duplicate()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** As {@link #submitCompress}, for decompression. */
    default CompletableFuture<Integer> submitDecompress(ByteBuffer src, ByteBuffer dst) {
        try {
            return CompletableFuture.completedFuture(decompress(src.duplicate(), dst.duplicate()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Submissions waiting or running; 0 for engines without a queue. */
    default int queueDepth() {
        return 0;
    }

    /** The most submissions the engine holds at once; 0 for engines without a queue. */
    default int queueCapacity() {
        return 0;
    }

    /** Releases native resources. Idempotent. */
    @Override
    default void close() {
    }
}
