package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;

/**
 * The CPU cost of the sending side alone, for {@code bench wanopt}: the tunnel's encoder (chunking,
 * fingerprints, sketches, deltas, the literal context) on one thread, timed in that thread's CPU time so
 * that other load on the machine does not count.
 */
public final class EncoderBenchmark {

    private static final int READ = 64 << 10;

    private EncoderBenchmark() {
    }

    /**
     * Encodes every {@code warm} stream (not timed: they fill the peer's dictionary), then every
     * {@code timed} one; returns the CPU seconds of the timed encoding, this thread only.
     */
    public static double encodeCpuSeconds(ResilientCompressor compressor, List<byte[]> warm, List<byte[]> timed) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        byte[] key = new byte[16];
        key[0] = 1;
        PeerDictionary dictionary = new PeerDictionary(key, 1L << 30);
        dictionary.peerHello(1, key);
        WanoptCounters counters = new WanoptCounters(new SimpleMeterRegistry(), "bench", new DataPlaneStats());
        for (byte[] stream : warm) {
            encode(compressor, dictionary, counters, stream);
        }
        long cpu = 0;
        for (byte[] stream : timed) {
            long t0 = mx.getCurrentThreadCpuTime();
            encode(compressor, dictionary, counters, stream);
            cpu += mx.getCurrentThreadCpuTime() - t0;
        }
        return cpu / 1e9;
    }

    private static void encode(ResilientCompressor compressor, PeerDictionary dictionary, WanoptCounters counters,
                               byte[] stream) {
        StreamEncoder encoder = new StreamEncoder(compressor, dictionary, WanOptimizer.CHUNKER, counters);
        try {
            for (int at = 0; at < stream.length; at += READ) {
                release(encoder.encode(PooledByteBufAllocator.DEFAULT,
                        Unpooled.wrappedBuffer(stream, at, Math.min(READ, stream.length - at))));
            }
            release(encoder.flushTail(PooledByteBufAllocator.DEFAULT));
        } finally {
            encoder.release();
        }
    }

    private static void release(ByteBuf payload) {
        if (payload != null) {
            payload.release();
        }
    }
}
