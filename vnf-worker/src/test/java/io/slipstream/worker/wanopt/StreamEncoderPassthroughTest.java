package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Incompressible data passes through raw, in stretches that double while probes find nothing to save, and
 * start short again once something saves.
 */
class StreamEncoderPassthroughTest {

    private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
    private static final ResilientCompressor COMPRESSOR =
            CompressionProviderRegistry.builder().build().compressor(CompressionConfig.defaults());
    private static final int READ = 64 << 10;

    private final PeerDictionary sender = new PeerDictionary(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0}, 64 << 20);
    private final StreamEncoder encoder = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER,
            new WanoptCounters(new SimpleMeterRegistry(), "test", new DataPlaneStats()));
    private final SplittableRandom random = new SplittableRandom(5);

    StreamEncoderPassthroughTest() {
        sender.peerHello(1, new byte[16]);
    }

    @AfterEach
    void release() {
        encoder.release();
    }

    /**
     * Encodes fresh random data until {@code engagements} pass-through stretches were engaged (and at most
     * {@code bound} bytes); returns their lengths.
     */
    private List<Long> sendRandomUntil(int engagements, long bound) {
        List<Long> engaged = new ArrayList<>();
        long before = encoder.passthroughLeft();
        for (long sent = 0; engaged.size() < engagements && sent < bound; sent += READ) {
            sendRandomBlock();
            long left = encoder.passthroughLeft();
            if (left > before) {
                engaged.add(left);
            }
            before = left;
        }
        return engaged;
    }

    private void sendRandomBlock() {
        byte[] block = new byte[READ];
        random.nextBytes(block);
        release(encoder.encode(ALLOC, Unpooled.wrappedBuffer(block)));
    }

    private void sendText(int bytes) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < bytes; i++) {
            text.append("line ").append(i % 97).append(": the quick brown fox jumps over the lazy dog\n");
        }
        byte[] b = text.toString().getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at < b.length; at += READ) {
            release(encoder.encode(ALLOC, Unpooled.wrappedBuffer(b, at, Math.min(READ, b.length - at))));
        }
        release(encoder.flushOpen(ALLOC));
    }

    private static void release(ByteBuf payload) {
        if (payload != null) {
            payload.release();
        }
    }

    @Test
    void randomStream_probesFindNothing_passThroughDoublesUpToItsBound() {
        long p = StreamEncoder.PASSTHROUGH_BYTES;
        assertThat(sendRandomUntil(6, 200L << 20)).containsExactly(p, 2 * p, 4 * p, 8 * p,
                StreamEncoder.MAX_PASSTHROUGH_BYTES, StreamEncoder.MAX_PASSTHROUGH_BYTES);
    }

    @Test
    void compressibleDataBetween_nextPassThroughIsShortAgain() {
        long p = StreamEncoder.PASSTHROUGH_BYTES;
        assertThat(sendRandomUntil(2, 20L << 20)).containsExactly(p, 2 * p);
        while (encoder.passthroughLeft() > 0) {
            sendRandomBlock(); // the 8 MiB stretch ends
        }
        sendText(1 << 20); // saves: the next stretch starts short
        assertThat(sendRandomUntil(1, 8L << 20)).containsExactly(p);
    }
}
