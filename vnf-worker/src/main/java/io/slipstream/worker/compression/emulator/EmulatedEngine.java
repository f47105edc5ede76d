package io.slipstream.worker.compression.emulator;

import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.DeviceLostException;
import io.slipstream.worker.compression.internal.BoundedSubmitter;
import io.slipstream.worker.compression.internal.Futures;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/** An engine on the emulated card: requests queue on the card, run on its engines, and meet its faults. */
final class EmulatedEngine implements CompressionEngine {

    private final CardEmulator card;
    private final CompressionEngine codec;
    private final BoundedSubmitter queue;

    EmulatedEngine(CardEmulator card, CompressionEngine codec) {
        this.card = card;
        this.codec = codec;
        this.queue = new BoundedSubmitter("emulated-card-" + codec.codec().name().toLowerCase(java.util.Locale.ROOT),
                card.engines(), card.queueDepth());
    }

    @Override
    public Codec codec() {
        return codec.codec();
    }

    @Override
    public int level() {
        return codec.level();
    }

    @Override
    public int maxCompressedLength(int srcLength) {
        return codec.maxCompressedLength(srcLength);
    }

    @Override
    public int compress(ByteBuffer src, ByteBuffer dst) {
        return complete(src, dst, Futures.join(submitCompress(src.duplicate(), dst.duplicate())));
    }

    @Override
    public int decompress(ByteBuffer src, ByteBuffer dst) {
        return complete(src, dst, Futures.join(submitDecompress(src.duplicate(), dst.duplicate())));
    }

    private static int complete(ByteBuffer src, ByteBuffer dst, int n) {
        src.position(src.limit());
        dst.position(dst.position() + n);
        return n;
    }

    @Override
    public CompletableFuture<Integer> submitCompress(ByteBuffer src, ByteBuffer dst) {
        return run(src, dst, true);
    }

    @Override
    public CompletableFuture<Integer> submitDecompress(ByteBuffer src, ByteBuffer dst) {
        return run(src, dst, false);
    }

    private CompletableFuture<Integer> run(ByteBuffer src, ByteBuffer dst, boolean compress) {
        ByteBuffer in = src.duplicate();
        ByteBuffer out = dst.duplicate();
        CompletableFuture<Integer> f = queue.submit(() -> {
            card.awaitRunnable();
            long n = card.nextRequest();
            if (card.latencyNanos() > 0) {
                LockSupport.parkNanos(card.latencyNanos());
            }
            boolean ok = false;
            try {
                CardEmulator.Fault fault = card.faultFor(n);
                switch (fault) {
                    case DEVICE_LOST:
                        throw new DeviceLostException("emulated card: device lost at request " + n);
                    case ERROR:
                        throw new CompressionException("emulated card: engine error at request " + n);
                    default:
                        break;
                }
                int start = out.position();
                int w = compress ? codec.compress(in, out) : codec.decompress(in, out);
                if (fault == CardEmulator.Fault.CORRUPT && w > 0) {
                    int at = start + w / 2;
                    out.put(at, (byte) (out.get(at) ^ 0x5A));
                }
                ok = true;
                return w;
            } finally {
                card.onDone(ok);
            }
        });
        return f;
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
        codec.close();
    }
}
