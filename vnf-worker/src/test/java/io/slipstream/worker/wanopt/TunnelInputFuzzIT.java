package io.slipstream.worker.wanopt;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.wanopt.tunnel.Frame;
import io.slipstream.worker.wanopt.tunnel.FrameCodec;
import io.slipstream.worker.wanopt.tunnel.Frames;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of everything a peer's bytes reach before they are trusted: the frame
 * decoder, the control-frame payload readers and the DATA record decoder (with the compression
 * envelope). Any input must end in a clean rejection ({@link CorruptedFrameException},
 * {@link CompressionException}) and leave no buffer unreleased; anything else is a finding.
 *
 * <p>Without {@code JAZZER_FUZZ} only the seeds and earlier findings replay; {@code bin/test}
 * fuzzes for the bounded {@code maxDuration}.
 */
class TunnelInputFuzzIT {

    private static final CompressionProviderRegistry REGISTRY = CompressionProviderRegistry.builder().build();
    private static final ResilientCompressor COMPRESSOR = REGISTRY.compressor(CompressionConfig.defaults());
    private static final PeerDictionary DICTIONARY = new PeerDictionary(new byte[16], 1 << 20);

    static {
        DICTIONARY.peerHello(1, new byte[16]);
    }

    @FuzzTest(maxDuration = "20s")
    void tunnelInput_anyBytes_areRejectedCleanlyWithoutLeaks(byte[] input) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameCodec(64 * 1024));
        List<Object> decoded = new ArrayList<>();
        rejectingCleanly(() -> channel.writeInbound(Unpooled.wrappedBuffer(input)));
        Frame frame;
        while ((frame = channel.readInbound()) != null) {
            try {
                readPayload(frame, decoded);
            } catch (CorruptedFrameException | CompressionException expected) {
                // a clean rejection
            } finally {
                if (frame.refCnt() > 0 && frame.type() != io.slipstream.worker.wanopt.tunnel.FrameType.DATA
                        && frame.type() != io.slipstream.worker.wanopt.tunnel.FrameType.CHUNK) {
                    frame.release();
                }
            }
        }
        for (Object o : decoded) {
            if (o instanceof ByteBuf) {
                ((ByteBuf) o).release();
            }
        }
        // Closing makes the decoder look at what it kept once more: it must reject that cleanly too.
        rejectingCleanly(() -> channel.finishAndReleaseAll());
        Frame late;
        while ((late = channel.readInbound()) != null) {
            late.release();
        }
    }

    private static void rejectingCleanly(Runnable action) {
        try {
            action.run();
        } catch (DecoderException e) {
            if (!(e instanceof CorruptedFrameException) && !(e.getCause() instanceof CorruptedFrameException)) {
                throw e;
            }
        }
    }

    private static void readPayload(Frame frame, List<Object> decoded) {
        ByteBuf p = frame.payload();
        switch (frame.type()) {
            case HELLO:
                Frames.readHello(p);
                break;
            case OPEN:
                Frames.readOpen(p);
                break;
            case CREDIT:
                Frames.readCredit(p);
                break;
            case RST:
                Frames.readRst(p);
                break;
            case CHUNK:
                try {
                    new StreamDecoder(COMPRESSOR, DICTIONARY).storeChunk(ByteBufAllocator.DEFAULT, p, List.of());
                } finally {
                    frame.release();
                }
                break;
            case DATA: {
                // The decoder owns and releases the payload, also when it throws.
                StreamDecoder decoder = new StreamDecoder(COMPRESSOR, DICTIONARY);
                try {
                    decoder.decode(ByteBufAllocator.DEFAULT, p, decoded);
                } finally {
                    decoder.release(); // its native zstd contexts, if a CLIT or DELTA record made any
                }
                break;
            }
            default:
                break;
        }
    }
}
