package io.slipstream.worker.compression.runtime;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.CorruptBlockException;
import io.slipstream.worker.compression.DeviceLostException;
import io.slipstream.worker.compression.QueueFullException;
import io.slipstream.worker.compression.Ticker;
import io.slipstream.worker.compression.internal.BlockEnvelope;
import io.slipstream.worker.compression.internal.CircuitBreaker;
import io.slipstream.worker.compression.internal.CompressionMetrics.Recorder;
import io.slipstream.worker.compression.internal.CompressionMetrics;
import io.slipstream.worker.compression.internal.Futures;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The resilient switch. Compresses blocks into self-describing envelopes (see {@link #HEADER_BYTES}
 * and docs/compression.md) and decompresses them, choosing per block:
 *
 * <ul>
 *   <li>blocks below {@link CompressionConfig#minHardwareBlockBytes()} go to software;
 *   <li>larger ones go to the selected provider (the best available, or the forced one);
 *   <li>a provider error on a block, at start or mid-stream, re-runs that block in software; the
 *       envelope is identical in form, so the receiver cannot tell (only the metrics can);
 *   <li>after {@code maxFailures} consecutive failures the provider's circuit breaker keeps it out
 *       for a back-off, then lets one block probe it again.
 * </ul>
 *
 * Blocks are independent (no state carries from one to the next), which is what makes a mid-stream
 * switch safe. Thread-safe. Buffers: the caller owns them; {@code src} is read from position to
 * limit and its position moved to the limit; envelopes are written at {@code dst}'s position.
 */
public final class ResilientCompressor {

    /** Bytes of the envelope header in front of each block's payload. */
    public static final int HEADER_BYTES = BlockEnvelope.HEADER_BYTES;

    private static final String COMPRESS = "compress";
    private static final String DECOMPRESS = "decompress";

    private final CompressionProviderRegistry registry;
    private final CompressionConfig config;
    private final CompressionProvider primary;
    private final CompressionProvider software;
    private final CompressionEngine primaryEngine;
    private final CompressionEngine softwareEngine;
    private final boolean switching;
    private final CircuitBreaker breaker;
    private final CompressionProviderRegistry.Health health;
    private final CompressionMetrics metrics;
    private final Ticker ticker;
    private final Recorder primaryCompress;
    private final Recorder primaryDecompress;
    private final Recorder softwareCompress;
    private final Recorder softwareDecompress;

    ResilientCompressor(CompressionProviderRegistry registry, CompressionConfig config) {
        this.registry = registry;
        this.config = config;
        this.software = registry.software(config.codec());
        this.primary = registry.select(config);
        this.softwareEngine = registry.engine(software, config.codec(), config.level());
        this.primaryEngine = primary == software ? softwareEngine : registry.engine(primary, config.codec(), config.level());
        this.switching = primaryEngine != softwareEngine;
        this.health = registry.health(primary);
        this.breaker = health.breaker;
        this.metrics = registry.metrics();
        this.ticker = registry.ticker();
        this.primaryCompress = metrics.recorder(primary.name(), config.codec(), COMPRESS);
        this.primaryDecompress = metrics.recorder(primary.name(), config.codec(), DECOMPRESS);
        this.softwareCompress = metrics.recorder(software.name(), config.codec(), COMPRESS);
        this.softwareDecompress = metrics.recorder(software.name(), config.codec(), DECOMPRESS);
    }

    public CompressionConfig config() {
        return config;
    }

    /** The provider large blocks go to while it is healthy. */
    public CompressionProvider primary() {
        return primary;
    }

    /** The software provider of every small block and every fallback. */
    public CompressionProvider software() {
        return software;
    }

    /** The most bytes an envelope of a {@code length}-byte block can take. */
    public int maxEnvelopeLength(int length) {
        int bound = Math.max(length, Math.max(softwareEngine.maxCompressedLength(length),
                primaryEngine.maxCompressedLength(length)));
        return HEADER_BYTES + bound;
    }

    /** Compresses the remaining bytes of {@code src} into a new envelope (heap buffer, ready to read). */
    public ByteBuffer compress(ByteBuffer src) {
        ByteBuffer dst = ByteBuffer.allocate(maxEnvelopeLength(src.remaining()));
        compress(src, dst);
        return dst.flip();
    }

    /**
     * Compresses the remaining bytes of {@code src} into one envelope at {@code dst}'s position;
     * {@code dst} needs {@link #maxEnvelopeLength(int)} bytes free.
     *
     * @return the envelope's length
     */
    public int compress(ByteBuffer src, ByteBuffer dst) {
        int n = checkBlock(src, dst);
        int crc = BlockEnvelope.crc(src);
        ByteBuffer payload = dst.slice(dst.position() + HEADER_BYTES, dst.remaining() - HEADER_BYTES);
        int written = -1;
        if (routeToPrimary(n)) {
            long t0 = ticker.read();
            try {
                written = primaryEngine.compress(src.duplicate(), payload.duplicate());
                verify(payload, written, n, crc);
                breaker.onSuccess();
                primaryCompress.record(n, written, ticker.read() - t0);
            } catch (Throwable t) {
                rethrowFatal(t);
                hardwareFailed(t);
                written = -1;
            }
        }
        if (written < 0) {
            written = softwareCompress(src.duplicate(), payload);
        }
        return finish(src, dst, payload, n, written, crc);
    }

    /**
     * Compresses asynchronously through the primary provider's queue. A full queue is back-pressure:
     * the block is then compressed in software on the caller's thread before this returns. The
     * future completes with a new envelope (heap buffer, ready to read). {@code src}'s position moves
     * to its limit at once, but its bytes must not change until the future completes.
     */
    public CompletableFuture<ByteBuffer> compressAsync(ByteBuffer src) {
        int n = src.remaining();
        ByteBuffer dst = ByteBuffer.allocate(maxEnvelopeLength(n));
        checkBlock(src, dst);
        if (!switching || n < config.minHardwareBlockBytes()) {
            try {
                compress(src, dst);
                return CompletableFuture.completedFuture(dst.flip());
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        ByteBuffer in = src.duplicate();
        src.position(src.limit());
        int crc = BlockEnvelope.crc(in);
        ByteBuffer payload = dst.slice(HEADER_BYTES, dst.capacity() - HEADER_BYTES);
        if (!routeToPrimary(n)) {
            int w = softwareCompress(in.duplicate(), payload);
            finish(in, dst, payload, n, w, crc);
            return CompletableFuture.completedFuture(dst.flip());
        }
        long t0 = ticker.read();
        CompletableFuture<Integer> submitted;
        try {
            submitted = primaryEngine.submitCompress(in.duplicate(), payload.duplicate());
        } catch (Throwable t) {
            rethrowFatal(t);
            submitted = CompletableFuture.failedFuture(t);
        }
        return submitted.handle((w, err) -> {
            int written = -1;
            if (err == null) {
                try {
                    verify(payload, w, n, crc);
                    breaker.onSuccess();
                    primaryCompress.record(n, w, ticker.read() - t0);
                    written = w;
                } catch (RuntimeException e) {
                    err = e;
                }
            }
            if (err != null) {
                hardwareFailed(Futures.unwrap(err));
                written = softwareCompress(in.duplicate(), payload);
            }
            finish(in, dst, payload, n, written, crc);
            return dst.flip();
        });
    }

    /** Decompresses one envelope at {@code src}'s position into a new heap buffer (ready to read). */
    public ByteBuffer decompress(ByteBuffer src) {
        BlockEnvelope.Header h = header(src);
        ByteBuffer dst = ByteBuffer.allocate(h.originalLength);
        decompress(src, dst, h);
        return dst.flip();
    }

    /**
     * Decompresses one envelope at {@code src}'s position into {@code dst} and moves both positions
     * past it. Bytes after the envelope in {@code src} are left for the next call.
     *
     * @return the block's length
     * @throws CorruptBlockException when the envelope or its payload is invalid, the block expands past
     *     its declared size or the configured maximum, or its checksum does not match; nothing is
     *     written to {@code dst} beyond the declared size
     */
    public int decompress(ByteBuffer src, ByteBuffer dst) {
        return decompress(src, dst, header(src));
    }

    /**
     * The total length of the envelope at {@code src}'s position, or -1 when fewer than
     * {@link #HEADER_BYTES} bytes are available: lets a stream reader know how much to wait for.
     *
     * @throws CorruptBlockException when the header is invalid
     */
    public int peekEnvelopeLength(ByteBuffer src) {
        try {
            return BlockEnvelope.peekLength(src, config.maxBlockBytes());
        } catch (CorruptBlockException e) {
            metrics.rejected("bad_header");
            throw e;
        }
    }

    /** The block length declared by the envelope at {@code src}'s position. */
    public int peekOriginalLength(ByteBuffer src) {
        return header(src).originalLength;
    }

    /** Submissions in flight in the primary engine. */
    public int queueDepth() {
        return primaryEngine.queueDepth();
    }

    private BlockEnvelope.Header header(ByteBuffer src) {
        BlockEnvelope.Header h;
        try {
            h = BlockEnvelope.parse(src, config.maxBlockBytes());
        } catch (CorruptBlockException e) {
            metrics.rejected("bad_header");
            throw e;
        }
        if (src.remaining() < h.envelopeLength()) {
            metrics.rejected("truncated");
            throw new CorruptBlockException("block: envelope of " + h.envelopeLength() + " bytes truncated to "
                    + src.remaining());
        }
        return h;
    }

    private int decompress(ByteBuffer src, ByteBuffer dst, BlockEnvelope.Header h) {
        if (dst.remaining() < h.originalLength) {
            throw new IllegalArgumentException("dst: " + dst.remaining() + " bytes free (expected: >= "
                    + h.originalLength + ", the block's declared size)");
        }
        ByteBuffer payload = src.slice(src.position() + HEADER_BYTES, h.payloadLength);
        ByteBuffer out = dst.slice(dst.position(), h.originalLength);
        if (h.stored) {
            out.duplicate().put(payload.duplicate());
            check(out, h.originalLength, h);
        } else {
            decode(h, payload, out);
        }
        src.position(src.position() + h.envelopeLength());
        dst.position(dst.position() + h.originalLength);
        return h.originalLength;
    }

    private void decode(BlockEnvelope.Header h, ByteBuffer payload, ByteBuffer out) {
        boolean sameCodec = h.codec == config.codec();
        Throwable hardwareFailure = null;
        if (sameCodec && routeToPrimary(h.originalLength)) {
            long t0 = ticker.read();
            try {
                int w = primaryEngine.decompress(payload.duplicate(), out.duplicate());
                if (w == h.originalLength && BlockEnvelope.crc(out.duplicate()) == h.crc) {
                    breaker.onSuccess();
                    primaryDecompress.record(h.payloadLength, w, ticker.read() - t0);
                    return;
                }
                hardwareFailure = new VerifyFailedException("decoded block does not match its envelope");
            } catch (QueueFullException e) {
                hardwareFailed(e);
            } catch (Throwable t) {
                rethrowFatal(t);
                hardwareFailure = t;
            }
        }
        CompressionEngine engine = sameCodec ? softwareEngine
                : registry.engine(registry.software(h.codec), h.codec, 0);
        long t0 = ticker.read();
        int w;
        try {
            w = engine.decompress(payload.duplicate(), out.duplicate());
        } catch (CompressionException e) {
            if (hardwareFailure != null) {
                breaker.neutral(); // the input was bad, not the hardware
            }
            metrics.rejected("codec_error");
            throw e instanceof CorruptBlockException ? e
                    : new CorruptBlockException(h.codec + " payload rejected: " + e.getMessage(), e);
        }
        try {
            check(out, w, h);
        } catch (CorruptBlockException e) {
            if (hardwareFailure != null) {
                breaker.neutral();
            }
            throw e;
        }
        if (hardwareFailure != null) {
            hardwareFailed(hardwareFailure);
        }
        if (sameCodec) {
            softwareDecompress.record(h.payloadLength, w, ticker.read() - t0);
        } else {
            metrics.recorder(software.name(), h.codec, DECOMPRESS).record(h.payloadLength, w, ticker.read() - t0);
        }
    }

    private void check(ByteBuffer out, int written, BlockEnvelope.Header h) {
        if (written != h.originalLength) {
            metrics.rejected("size_mismatch");
            throw new CorruptBlockException("block: declared " + h.originalLength + " bytes, decoded " + written);
        }
        if (BlockEnvelope.crc(out.duplicate().limit(written)) != h.crc) {
            metrics.rejected("checksum");
            throw new CorruptBlockException("block: CRC-32C mismatch (corrupted in transit or by a provider)");
        }
    }

    private int checkBlock(ByteBuffer src, ByteBuffer dst) {
        int n = src.remaining();
        if (n > config.maxBlockBytes()) {
            throw new IllegalArgumentException("block: " + n + " bytes (expected: <= maxBlockBytes "
                    + config.maxBlockBytes() + "); cut the stream into smaller blocks");
        }
        int need = maxEnvelopeLength(n);
        if (dst.remaining() < need) {
            throw new IllegalArgumentException("dst: " + dst.remaining() + " bytes free (expected: >= maxEnvelopeLength("
                    + n + ") = " + need + ")");
        }
        return n;
    }

    /** Whether this block goes to the primary provider; counts circuit_open fallbacks. */
    private boolean routeToPrimary(int n) {
        if (!switching || n < config.minHardwareBlockBytes()) {
            return false;
        }
        if (!breaker.allow()) {
            fallback(CompressionMetrics.REASON_CIRCUIT_OPEN);
            return false;
        }
        if (breaker.state() == CircuitBreaker.State.HALF_OPEN) {
            Availability a = CompressionProviderRegistry.safeAvailability(primary);
            if (!a.isAvailable()) {
                breaker.probeSkipped("unavailable: " + a.reason());
                fallback(CompressionMetrics.REASON_CIRCUIT_OPEN);
                return false;
            }
        }
        return true;
    }

    private void verify(ByteBuffer payload, int written, int n, int crc) {
        if (!config.verifyHardwareOutput() || !primary.hardware()) {
            return;
        }
        ByteBuffer check = ByteBuffer.allocate(n);
        try {
            int w = softwareEngine.decompress(payload.duplicate().limit(written), check);
            if (w != n || BlockEnvelope.crc(check.flip()) != crc) {
                throw new VerifyFailedException("provider output decodes to different bytes");
            }
        } catch (VerifyFailedException e) {
            throw e;
        } catch (CompressionException e) {
            throw new VerifyFailedException("software cannot decode the provider's output: " + e.getMessage());
        }
    }

    private void hardwareFailed(Throwable t) {
        String reason;
        if (t instanceof QueueFullException) {
            breaker.neutral();
            reason = CompressionMetrics.REASON_QUEUE_FULL;
        } else {
            if (t instanceof DeviceLostException) {
                reason = CompressionMetrics.REASON_DEVICE_LOST;
            } else if (t instanceof VerifyFailedException) {
                reason = CompressionMetrics.REASON_VERIFY_FAILED;
            } else {
                reason = CompressionMetrics.REASON_HARDWARE_ERROR;
            }
            breaker.onFailure(reason + ": " + t.getMessage());
        }
        fallback(reason);
    }

    private void fallback(String reason) {
        health.fallbacks.increment();
        metrics.fallback(primary.name(), reason);
    }

    private int softwareCompress(ByteBuffer src, ByteBuffer payload) {
        long t0 = ticker.read();
        int n = src.remaining();
        int w = softwareEngine.compress(src, payload.duplicate());
        softwareCompress.record(n, w, ticker.read() - t0);
        return w;
    }

    private int finish(ByteBuffer src, ByteBuffer dst, ByteBuffer payload, int n, int written, int crc) {
        boolean stored = false;
        if (config.storeIncompressible() && written >= n) {
            payload.duplicate().put(src.duplicate());
            written = n;
            stored = true;
        }
        BlockEnvelope.writeHeader(dst, dst.position(), config.codec(), stored, n, written, crc);
        dst.position(dst.position() + HEADER_BYTES + written);
        src.position(src.limit());
        return HEADER_BYTES + written;
    }

    private static void rethrowFatal(Throwable t) {
        if (t instanceof VirtualMachineError && !(t instanceof InternalError)) {
            throw (VirtualMachineError) t;
        }
    }

    /** Provider output that software does not decode to the original bytes. */
    static final class VerifyFailedException extends CompressionException {
        private static final long serialVersionUID = 1L;

        VerifyFailedException(String message) {
            super(message);
        }
    }

    @Override
    public String toString() {
        return "ResilientCompressor[" + config.codec() + " level " + config.level() + ", primary " + primary.name()
                + ", software " + software.name() + "]";
    }
}
