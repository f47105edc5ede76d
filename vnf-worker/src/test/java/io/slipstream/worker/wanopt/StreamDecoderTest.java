package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.CorruptedFrameException;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a DATA payload may decode to is bounded, whatever a peer declares: no decompression bombs. */
class StreamDecoderTest {

    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final StreamDecoder decoder = new StreamDecoder(compressor, null);

    @AfterEach
    void close() {
        registry.close();
    }

    private ByteBuf blocks(int count, int blockBytes) {
        ByteBuf payload = Unpooled.buffer();
        ByteBuffer envelope = compressor.compress(ByteBuffer.allocate(blockBytes)); // zeros: tiny when compressed
        for (int i = 0; i < count; i++) {
            payload.writeByte(Records.BLOCK).writeBytes(envelope.duplicate());
        }
        return payload;
    }

    @Test
    void decode_blocksWithinBudget_deliverEveryByte() {
        List<Object> out = new ArrayList<>();
        decoder.decode(ByteBufAllocator.DEFAULT, blocks(4, 64 * 1024), out);
        assertThat(out).hasSize(4).allSatisfy(b -> assertThat(((ByteBuf) b).readableBytes()).isEqualTo(64 * 1024));
        out.forEach(b -> ((ByteBuf) b).release());
    }

    @Test
    void decode_blockLargerThanAChunk_isRejectedBeforeAllocating() {
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ByteBufAllocator.DEFAULT, blocks(1, 2 << 20), out))
                .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("expected: <= " + StreamDecoder.MAX_CHUNK);
        assertThat(out).isEmpty();
    }

    @Test
    void decode_payloadOfTinyBombs_isRejectedAndReleasesWhatItDecoded() {
        // 64 blocks of 1 MiB zeros take a few KiB on the wire and would decode to 64 MiB.
        ByteBuf payload = blocks(64, 1 << 20);
        assertThat(payload.readableBytes()).isLessThan(64 * 1024);
        List<Object> out = new ArrayList<>();
        assertThatThrownBy(() -> decoder.decode(ByteBufAllocator.DEFAULT, payload, out))
                .isInstanceOf(CorruptedFrameException.class).hasMessageContaining("decompression bomb");
        assertThat(out).isEmpty();
        assertThat(payload.refCnt()).isZero();
    }
}
