package io.slipstream.worker.compression;

import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Decompression bombs, for every codec: a small envelope that declares a huge block is refused against
 * the maximum block size before anything is allocated; a frame that expands beyond the size its envelope
 * declares (or beyond the destination an engine is given) is stopped at that size, never written past it.
 */
class DecompressionBombTest {

    private static final int MAX_BLOCK = 1 << 20;
    private static final byte GUARD = (byte) 0x5A;
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().loadServices(false)
            .addProvider(new SoftwareCompressionProvider()).build();

    @AfterEach
    void close() {
        registry.close();
    }

    private ResilientCompressor compressor(Codec codec, int maxBlockBytes) {
        return registry.compressor(CompressionConfig.builder().codec(codec).maxBlockBytes(maxBlockBytes).build());
    }

    /** 8 MiB of zeros: a few KiB or less on the wire in every codec. */
    private static ByteBuffer bomb(ResilientCompressor c) {
        ByteBuffer envelope = c.compress(ByteBuffer.allocate(8 << 20));
        assertThat(envelope.remaining()).isLessThan(64 * 1024);
        return envelope;
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void decompress_envelopeDeclaringFourGigabytes_isRefusedBeforeAllocating(Codec codec) {
        ResilientCompressor c = compressor(codec, MAX_BLOCK);
        ByteBuffer envelope = c.compress(ByteBuffer.wrap(TestData.text(4096)));
        envelope.putInt(6, 0xFFFF_FFFF); // 4 GiB - 1: allocating it would fail with OutOfMemoryError
        assertThatThrownBy(() -> c.decompress(envelope.duplicate()))
                .isInstanceOf(CorruptBlockException.class)
                .hasMessageContaining("declared size 4294967295 exceeds the maximum block size " + MAX_BLOCK);
        assertThatThrownBy(() -> c.peekEnvelopeLength(envelope.duplicate())).isInstanceOf(CorruptBlockException.class);
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void decompress_honestBombAboveTheMaximum_isRefusedBeforeAllocating(Codec codec) {
        ResilientCompressor sender = compressor(codec, 16 << 20);
        ByteBuffer envelope = bomb(sender);
        assertThatThrownBy(() -> compressor(codec, MAX_BLOCK).decompress(envelope))
                .isInstanceOf(CorruptBlockException.class)
                .hasMessageContaining("declared size " + (8 << 20) + " exceeds the maximum block size " + MAX_BLOCK);
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void decompress_frameExpandingBeyondItsDeclaredSize_stopsAtThatSize(Codec codec) {
        ResilientCompressor c = compressor(codec, 16 << 20);
        ByteBuffer envelope = bomb(c);
        envelope.putInt(6, 1000); // the header lies: the payload expands to 8 MiB
        ByteBuffer backing = ByteBuffer.allocate(1000 + 4096);
        Arrays.fill(backing.array(), GUARD);
        ByteBuffer dst = backing.duplicate().limit(1000);
        assertThatThrownBy(() -> c.decompress(envelope.duplicate(), dst)).isInstanceOf(CorruptBlockException.class);
        for (int i = 1000; i < backing.capacity(); i++) {
            assertThat(backing.get(i)).as("byte %d past the declared size", i).isEqualTo(GUARD);
        }
        // The allocating variant sizes its buffer by the (lying) header, and is stopped the same way.
        assertThatThrownBy(() -> c.decompress(envelope.duplicate())).isInstanceOf(CorruptBlockException.class);
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void engine_frameLargerThanItsDestination_isRejectedWithoutWritingPastIt(Codec codec) throws Exception {
        try (CompressionEngine engine = new SoftwareCompressionProvider().engine(codec, codec.defaultLevel())) {
            ByteBuffer src = ByteBuffer.allocate(8 << 20);
            ByteBuffer frame = ByteBuffer.allocate(engine.maxCompressedLength(src.remaining()));
            engine.compress(src, frame);
            frame.flip();
            ByteBuffer backing = ByteBuffer.allocate(4096 + 4096);
            Arrays.fill(backing.array(), GUARD);
            ByteBuffer dst = backing.duplicate().limit(4096);
            assertThatThrownBy(() -> engine.decompress(frame, dst)).isInstanceOf(CompressionException.class);
            for (int i = 4096; i < backing.capacity(); i++) {
                assertThat(backing.get(i)).isEqualTo(GUARD);
            }
        }
    }
}
