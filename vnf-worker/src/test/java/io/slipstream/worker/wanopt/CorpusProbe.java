package io.slipstream.worker.wanopt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.slipstream.worker.compression.emulator.CardEmulator;
import io.slipstream.worker.compression.emulator.CardEmulatorProvider;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.GearChunker;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A measuring tool, not a test (compiled by the build, never run by it): the encoder and decoder of one
 * stream direction back to back, no tunnel, over pairs of files (first version, second version); prints
 * the WAN bytes of the first version, the second and the second again, and the encoder's CPU speed on
 * the second. Chunk size by {@code -Davg=32768} (min avg/4, max avg x 8), the card emulator as primary
 * provider by {@code -Dcard=true}. The figures of docs/dedup.md come from it:
 *
 * <pre>
 * java -Davg=32768 -cp "$(cat cp.txt):vnf-worker/target/classes:vnf-worker/target/test-classes" \
 *     io.slipstream.worker.wanopt.CorpusProbe a-1.tar a-2.tar b-1.tar b-2.tar ...
 * </pre>
 * Every transfer is checked byte for byte.
 */
public final class CorpusProbe {

    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();
    private static final int READ = 64 << 10;

    private long encodeNanos;

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args.length % 2 != 0) {
            throw new IllegalArgumentException("arguments: pairs of files, first version then second version");
        }
        new CorpusProbe().run(args);
    }

    private void run(String[] args) throws Exception {
        int avg = Integer.getInteger("avg", WanOptimizer.CHUNKER.averageSize());
        GearChunker chunker = GearChunker.builder().minSize(avg / 4).averageSize(avg).maxSize(avg * 8).build();
        CompressionProviderRegistry.Builder withCard = CompressionProviderRegistry.builder();
        if (Boolean.getBoolean("card")) {
            withCard.addProvider(new CardEmulatorProvider(CardEmulator.builder().build()));
        }
        try (CompressionProviderRegistry registry = withCard.build()) {
            ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
            byte[] keyA = new byte[16];
            keyA[0] = 1;
            byte[] keyB = new byte[16];
            keyB[0] = 2;
            PeerDictionary sender = new PeerDictionary(keyA, 1L << 30);
            sender.peerHello(1, keyB);
            PeerDictionary receiver = new PeerDictionary(keyB, 1L << 30);
            receiver.peerHello(1, keyA);
            WanoptCounters counters = new WanoptCounters(new SimpleMeterRegistry(), "probe", new DataPlaneStats());
            long size1 = 0;
            long size2 = 0;
            long[] total = new long[3];
            double seconds = 0;
            for (int i = 0; i < args.length; i += 2) {
                byte[] v1 = Files.readAllBytes(Path.of(args[i]));
                byte[] v2 = Files.readAllBytes(Path.of(args[i + 1]));
                long[] wan = new long[3];
                wan[0] = transfer(compressor, sender, receiver, chunker, counters, v1);
                long before = encodeNanos;
                wan[1] = transfer(compressor, sender, receiver, chunker, counters, v2);
                seconds += (encodeNanos - before) / 1e9;
                wan[2] = transfer(compressor, sender, receiver, chunker, counters, v2);
                System.out.printf(Locale.ROOT, "%s: first %.2f%% second %.3f%% repeat %.3f%%%n", args[i + 1],
                        100.0 * wan[0] / v1.length, 100.0 * wan[1] / v2.length, 100.0 * wan[2] / v2.length);
                size1 += v1.length;
                size2 += v2.length;
                for (int k = 0; k < 3; k++) {
                    total[k] += wan[k];
                }
            }
            System.out.printf(Locale.ROOT, "TOTAL first %.2f%% second %.3f%% (%d bytes) repeat %.3f%%, encoder on second"
                    + " versions %.1f MB/s per core%n", 100.0 * total[0] / size1, 100.0 * total[1] / size2, total[1],
                    100.0 * total[2] / size2, size2 / 1e6 / seconds);
        }
    }

    private long transfer(ResilientCompressor compressor, PeerDictionary sender, PeerDictionary receiver,
                          GearChunker chunker, WanoptCounters counters, byte[] data) {
        ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        StreamEncoder encoder = new StreamEncoder(compressor, sender, chunker, counters);
        StreamDecoder decoder = new StreamDecoder(compressor, receiver);
        List<ByteBuf> payloads = new ArrayList<>();
        try {
            for (int at = 0; at < data.length; at += READ) {
                ByteBuf in = Unpooled.copiedBuffer(data, at, Math.min(READ, data.length - at));
                long t0 = MX.getCurrentThreadCpuTime();
                ByteBuf p = encoder.encode(alloc, in);
                encodeNanos += MX.getCurrentThreadCpuTime() - t0;
                if (p != null) {
                    payloads.add(p);
                }
            }
            ByteBuf tail = encoder.flushTail(alloc);
            if (tail != null) {
                payloads.add(tail);
            }
            long wan = 0;
            byte[] got = new byte[data.length];
            int pos = 0;
            List<Object> out = new ArrayList<>();
            for (ByteBuf payload : payloads) {
                wan += payload.readableBytes();
                out.clear();
                decoder.decode(alloc, payload, out);
                for (Object item : out) {
                    ByteBuf b = item instanceof ByteBuf ? (ByteBuf) item : decoder.resolve((StreamDecoder.Missing) item);
                    int n = b.readableBytes();
                    b.readBytes(got, pos, n).release();
                    pos += n;
                }
            }
            if (pos != data.length || !Arrays.equals(got, data)) {
                throw new IllegalStateException("the bytes decoded differ from the bytes sent");
            }
            return wan;
        } finally {
            encoder.release();
            decoder.release();
        }
    }
}
