package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.slipstream.worker.compression.CompressionConfig;
import io.slipstream.worker.compression.CompressionProviderRegistry;
import io.slipstream.worker.compression.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.wanopt.tunnel.Frame;
import io.slipstream.worker.wanopt.tunnel.FrameType;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamSplice} on embedded channels: what a read leaves after the last cut goes out on the
 * read-complete path, with no timer, and the tunnel's fair queue puts a small message ahead of bulk.
 */
class StreamSpliceTest {

    private static final ResilientCompressor COMPRESSOR =
            CompressionProviderRegistry.builder().build().compressor(CompressionConfig.defaults());

    private final DataPlaneStats stats = new DataPlaneStats();
    private final WanoptCounters counters = new WanoptCounters(new SimpleMeterRegistry(), "test", stats);
    private final PeerDictionary sender = new PeerDictionary(new byte[16], 16 << 20);
    private final PeerDictionary receiver = new PeerDictionary(new byte[16], 16 << 20);
    private final TunnelConnection tunnel = new TunnelConnection(false,
            new Frames.Hello(Frames.VERSION, "a", "a", 1, new byte[16]), (c, id, open) -> null, null);
    private final EmbeddedChannel tunnelChannel = new EmbeddedChannel(tunnel);
    private final List<EmbeddedChannel> locals = new ArrayList<>();

    StreamSpliceTest() {
        sender.peerHello(1, new byte[16]);
        receiver.peerHello(1, new byte[16]);
        Frame hello = tunnelChannel.readOutbound();
        hello.release();
        tunnelChannel.writeInbound(Frames.hello(tunnelChannel.alloc(),
                new Frames.Hello(Frames.VERSION, "b", "b", 1, new byte[16])));
    }

    /** The next frame the tunnel wrote that is not a PING (answered, as the peer would). */
    private Frame next() {
        Frame f;
        while ((f = tunnelChannel.readOutbound()) != null && f.type() == FrameType.PING) {
            long nonce = f.payload().readLong();
            f.release();
            tunnelChannel.writeInbound(Frames.ping(tunnelChannel.alloc(), FrameType.PONG, nonce));
        }
        return f;
    }

    @AfterEach
    void close() {
        locals.forEach(EmbeddedChannel::finishAndReleaseAll);
        tunnelChannel.finishAndReleaseAll();
    }

    /** What a read that emptied the socket gives: the bytes, in a buffer they do not fill. */
    private static io.netty.buffer.ByteBuf read(byte[] bytes) {
        return Unpooled.buffer(bytes.length + 1).writeBytes(bytes);
    }

    private EmbeddedChannel splice(int streamId) {
        StreamSplice splice = new StreamSplice(tunnel, 4 << 20, new StreamEncoder(COMPRESSOR, sender,
                WanOptimizer.CHUNKER, counters), new StreamDecoder(COMPRESSOR, receiver), stats, counters, "test");
        splice.streamId(streamId);
        EmbeddedChannel local = new EmbeddedChannel();
        locals.add(local);
        splice.attach(local);
        return local;
    }

    @Test
    void smallMessage_deliveredOnReadComplete_withoutAnyTimer() {
        EmbeddedChannel local = splice(1);
        byte[] message = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        local.pipeline().fireChannelRead(read(message));
        assertThat(next()).as("held until the read batch ends").isNull();

        local.pipeline().fireChannelReadComplete();

        Frame data = next();
        assertThat(data.type()).isEqualTo(FrameType.DATA);
        assertThat(decode(List.of(data))).isEqualTo(message);
        assertThat(tunnelChannel.runScheduledPendingTasks()).as("nothing scheduled on the loop").isEqualTo(-1);
        assertThat(local.runScheduledPendingTasks()).isEqualTo(-1);
    }

    @Test
    void bulkSizedBurst_bytesAfterLastCutWaitForQuietTime_thenDelivered() {
        EmbeddedChannel local = splice(1);
        tunnelChannel.freezeTime(); // the loop's clock moves only by advanceTimeBy (a slow machine cannot fire the timer)
        byte[] text = StreamEncoderFlushOpenTest.textLike(new Random(6), StreamSplice.INTERACTIVE_BURST_BYTES + 1_000);
        local.pipeline().fireChannelRead(read(text));
        local.pipeline().fireChannelReadComplete();
        List<Frame> frames = new ArrayList<>();
        Frame f;
        while ((f = next()) != null) {
            frames.add(f);
        }
        assertThat(frames).as("a bulk-sized burst: its open chunk waits for more input").isEmpty();

        tunnelChannel.advanceTimeBy(StreamSplice.BULK_QUIET_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
        tunnelChannel.runScheduledPendingTasks();

        while ((f = next()) != null) {
            frames.add(f);
        }
        assertThat(decode(frames)).isEqualTo(text);
    }

    @Test
    void smallReadsThatFillTheirBuffers_openChunkWaits_thenDeliveredAfterQuiet() {
        EmbeddedChannel local = splice(1);
        tunnelChannel.freezeTime(); // the loop's clock moves only by advanceTimeBy (a slow machine cannot fire the timer)
        byte[] text = StreamEncoderFlushOpenTest.textLike(new Random(8), 2_048);
        // Netty ended the batch at its read limit, the last buffer full: the socket likely has more.
        local.pipeline().fireChannelRead(Unpooled.copiedBuffer(text));
        local.pipeline().fireChannelReadComplete();
        assertThat(next()).as("the start of a bulk stream: nothing sent early").isNull();

        tunnelChannel.advanceTimeBy(StreamSplice.BULK_QUIET_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
        tunnelChannel.runScheduledPendingTasks();

        List<Frame> frames = new ArrayList<>();
        Frame f;
        while ((f = next()) != null) {
            frames.add(f);
        }
        assertThat(decode(frames)).isEqualTo(text);
    }

    @Test
    void halfCloseRightAfterSmallMessage_bytesThenFin() {
        EmbeddedChannel local = splice(1);
        byte[] message = new byte[100];
        new Random(1).nextBytes(message);
        local.pipeline().fireChannelRead(read(message));
        local.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        Frame data = next();
        Frame fin = next();
        assertThat(data.type()).isEqualTo(FrameType.DATA);
        assertThat(fin.type()).isEqualTo(FrameType.FIN);
        assertThat(decode(List.of(data))).isEqualTo(message);
    }

    @Test
    void smallMessageOnAnotherStream_goesAheadOfBulkQueuedBeforeIt() {
        EmbeddedChannel bulk = splice(1);
        EmbeddedChannel interactive = splice(2);
        byte[] random = new byte[64 * 1024];
        Random r = new Random(2);
        for (int i = 0; i < 16; i++) { // 1 MiB read in one batch, not flushed yet
            r.nextBytes(random);
            bulk.pipeline().fireChannelRead(read(random));
        }
        interactive.pipeline().fireChannelRead(read(new byte[] {1, 2, 3, 4}));
        interactive.pipeline().fireChannelReadComplete();
        bulk.pipeline().fireChannelReadComplete();

        List<Integer> order = new ArrayList<>();
        Frame f;
        while ((f = next()) != null) {
            order.add(f.streamId());
            f.release();
        }
        assertThat(order).as("the bulk stream's frames").hasSizeGreaterThan(8);
        assertThat(order.indexOf(2)).as("frames before the small message: %s", order).isLessThanOrEqualTo(1);
        assertThat(tunnel.queuedBytes()).isZero();
    }

    @Test
    void oneByteAtATime_eachDeliveredAtItsReadComplete_bytesExact() {
        EmbeddedChannel local = splice(1);
        byte[] text = StreamEncoderFlushOpenTest.textLike(new Random(4), 3_000);
        List<Frame> frames = new ArrayList<>();
        for (byte b : text) {
            local.pipeline().fireChannelRead(read(new byte[] {b}));
            local.pipeline().fireChannelReadComplete();
            Frame data = next();
            assertThat(data).as("the byte went out at once").isNotNull();
            frames.add(data);
        }
        assertThat(decode(frames)).isEqualTo(text);
    }

    private byte[] decode(List<Frame> frames) {
        StreamDecoder decoder = new StreamDecoder(COMPRESSOR, receiver);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame frame : frames) {
            List<Object> items = new ArrayList<>();
            decoder.decode(tunnelChannel.alloc(), frame.payload(), items);
            for (Object item : items) {
                ByteBuf b = (ByteBuf) item;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                out.writeBytes(bytes);
            }
        }
        decoder.release();
        return out.toByteArray();
    }
}
