package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
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
@org.junit.jupiter.api.extension.ExtendWith(io.slipstream.worker.cache.NettyLeakCheck.class)
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
    private StreamSplice lastSplice;

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
        return splice(streamId, 4 << 20);
    }

    private EmbeddedChannel splice(int streamId, int credit) {
        StreamSplice splice = new StreamSplice(tunnel, credit, new StreamEncoder(COMPRESSOR, sender,
                WanOptimizer.CHUNKER, counters), new StreamDecoder(COMPRESSOR, receiver), stats, counters, "test");
        splice.streamId(streamId);
        lastSplice = splice;
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
        // A batch of 2 KiB whose last buffer was full: the start of a bulk stream, the socket likely has more.
        local.pipeline().fireChannelRead(Unpooled.copiedBuffer(text, 0, 1_024));
        local.pipeline().fireChannelRead(Unpooled.copiedBuffer(text, 1_024, 1_024));
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
    void smallReadsThatFillTheirBuffers_batchAtNettysReadLimit_openChunkWaits() {
        EmbeddedChannel local = splice(1);
        tunnelChannel.freezeTime();
        int reads = ((io.netty.channel.MaxMessagesRecvByteBufAllocator) local.config().getRecvByteBufAllocator())
                .maxMessagesPerRead();
        byte[] text = StreamEncoderFlushOpenTest.textLike(new Random(10), 64 * reads);
        for (int i = 0; i < reads; i++) {
            local.pipeline().fireChannelRead(Unpooled.copiedBuffer(text, i * 64, 64));
        }
        local.pipeline().fireChannelReadComplete();
        assertThat(next()).as("Netty stopped at its read limit: nothing sent early").isNull();
    }

    @Test
    void messageThatFillsItsReadBuffer_batchEndsBeforeTheReadLimit_sentWithoutATimer() {
        // After a run of small messages Netty guesses a 64-byte buffer; a 64-byte message fills it, Netty's next
        // read finds the socket empty and the batch ends: a message, not the start of a bulk stream.
        EmbeddedChannel local = splice(1);
        tunnelChannel.freezeTime();
        byte[] message = new byte[64];
        new Random(9).nextBytes(message);
        local.pipeline().fireChannelRead(Unpooled.copiedBuffer(message));
        local.pipeline().fireChannelReadComplete();

        Frame data = next();
        assertThat(data).as("sent at the end of the batch").isNotNull();
        assertThat(decode(List.of(data))).isEqualTo(message);
        assertThat(tunnelChannel.runScheduledPendingTasks()).as("nothing scheduled on the loop").isEqualTo(-1);
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

    @Test
    void bulkBurst_outOfCredit_openChunkNotSentWhileHeldBack_thenAfterQuietOnceReadingAgain() {
        EmbeddedChannel local = splice(1, 16 << 10);
        StreamSplice splice = lastSplice;
        tunnelChannel.freezeTime();
        byte[] text = StreamEncoderFlushOpenTest.textLike(new Random(9), 300 << 10);
        local.pipeline().fireChannelRead(read(text));
        local.pipeline().fireChannelReadComplete();
        List<Frame> frames = new ArrayList<>();
        Frame f;
        int sent = 0;
        while ((f = next()) != null) {
            sent += f.payload().readableBytes();
            frames.add(f);
        }
        assertThat(sent).as("the chunks cut so far spent the credit").isGreaterThanOrEqualTo(16 << 10);

        // Quiet, but only because this side stopped reading: the open chunk stays whole.
        for (int i = 0; i < 3; i++) {
            tunnelChannel.advanceTimeBy(StreamSplice.BULK_QUIET_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
            tunnelChannel.runScheduledPendingTasks();
        }
        assertThat(next()).as("nothing sent early while held back").isNull();

        splice.onCredit(1 << 20); // reading again; the socket has nothing more
        tunnelChannel.advanceTimeBy(StreamSplice.BULK_QUIET_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
        tunnelChannel.runScheduledPendingTasks();
        tunnelChannel.advanceTimeBy(StreamSplice.BULK_QUIET_MICROS, java.util.concurrent.TimeUnit.MICROSECONDS);
        tunnelChannel.runScheduledPendingTasks();
        while ((f = next()) != null) {
            frames.add(f);
        }
        assertThat(decode(frames)).as("the rest once the socket has been quiet while read").isEqualTo(text);
    }

    /** A bulk burst, then a pause of {@code pauseMicros}, then (after a turn, if asked) a small read. */
    private List<Frame> pauseThenSmallRead(long pauseMicros, boolean turn) {
        return burstPauseThenSmallRead(200 << 10, pauseMicros, turn);
    }

    /** A burst of {@code burst} bytes, then a pause, then (after a turn, if asked) a small read. */
    private List<Frame> burstPauseThenSmallRead(int burst, long pauseMicros, boolean turn) {
        EmbeddedChannel local = splice(1);
        StreamSplice splice = lastSplice;
        long[] now = {0};
        splice.clock = () -> now[0];
        byte[] bulk = StreamEncoderFlushOpenTest.textLike(new Random(10), burst);
        local.pipeline().fireChannelRead(read(bulk));
        local.pipeline().fireChannelReadComplete();
        for (Frame cut; (cut = next()) != null; ) {
            cut.release(); // the chunks cut so far
        }
        if (turn) { // the peer's bytes written to the local socket: the next bytes may answer them
            StreamEncoder peer = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
            ByteBuf reply = peer.encode(tunnelChannel.alloc(), Unpooled.wrappedBuffer(new byte[] {'?'}));
            ByteBuf tail = peer.flushTail(tunnelChannel.alloc());
            peer.release();
            splice.onData(reply == null ? tail : Unpooled.wrappedBuffer(reply, tail));
            splice.onReadComplete();
            ((ByteBuf) local.readOutbound()).release();
        }
        now[0] += java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(pauseMicros);
        local.pipeline().fireChannelRead(read(new byte[] {'!'}));
        local.pipeline().fireChannelReadComplete();
        List<Frame> frames = new ArrayList<>();
        Frame f;
        while ((f = next()) != null) {
            frames.add(f);
        }
        return frames;
    }

    /** How many frames went out (each released: the test only counts them). */
    private static int sent(List<Frame> frames) {
        frames.forEach(Frame::release);
        return frames.size();
    }

    @Test
    void bulkTransfer_senderPausesAFewMs_openChunkStillWaits() {
        assertThat(sent(pauseThenSmallRead(5_000, false))).as("a pause inside a transfer: still bulk").isZero();
    }

    @Test
    void bulkTransfer_conversationTurnsThenSmallMessage_sentAtOnce() {
        assertThat(sent(pauseThenSmallRead(5_000, true))).as("an answer after the peer spoke: a message").isPositive();
    }

    @Test
    void messageThenAnswerWithinTheQuietTime_answerSentAtOnce() {
        // A LAN conversation: the answer comes before 2 ms of quiet; with the message before it, it would add up
        // to a bulk-sized burst.
        assertThat(sent(burstPauseThenSmallRead(StreamSplice.INTERACTIVE_BURST_BYTES - 1, 100, true))).isPositive();
        assertThat(sent(burstPauseThenSmallRead(StreamSplice.INTERACTIVE_BURST_BYTES - 1, 100, false)))
                .as("no turn, no quiet: the same burst goes on").isZero();
    }

    @Test
    void bulkTransfer_longPauseThenSmallMessage_sentAtOnce() {
        assertThat(sent(pauseThenSmallRead(StreamSplice.BULK_PAUSE_MICROS, false))).isPositive();
    }

    @Test
    void bothDirectionsDone_peerStillOwesCredit_streamStaysToAnswerItsNeed_thenEnds() {
        EmbeddedChannel local = splice(1);
        StreamSplice splice = lastSplice;
        byte[] message = new byte[4_000];
        new Random(3).nextBytes(message);
        local.pipeline().fireChannelRead(read(message));
        local.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        Frame data = next();
        assertThat(data.type()).isEqualTo(FrameType.DATA);
        int sent = data.payload().readableBytes();
        data.release();
        assertThat(next().type()).isEqualTo(FrameType.FIN);

        splice.onFin(); // the peer is done sending, but has not written all we sent yet
        assertThat(local.isOpen()).as("the peer has not given back its credit: it may still need a chunk").isTrue();

        ByteBuf need = Unpooled.buffer(16);
        StreamEncoder.writeFingerprint(need, sender.ours.fingerprint(java.nio.ByteBuffer.wrap(message)));
        splice.onNeed(need);
        Frame chunk = next();
        assertThat(chunk.type()).as("the NEED of the message's chunk is answered").isEqualTo(FrameType.CHUNK);
        chunk.release();
        assertThat(local.isOpen()).isTrue();

        splice.onCredit(sent); // the peer wrote everything
        assertThat(local.isOpen()).as("ended once all credit is back").isFalse();
    }

    @Test
    void peerFinAfterSmallData_allOwedCreditGoesBackOnceWritten() {
        EmbeddedChannel local = splice(1);
        StreamSplice splice = lastSplice;
        byte[] message = "a small reply".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        StreamEncoder peer = new StreamEncoder(COMPRESSOR, sender, WanOptimizer.CHUNKER, counters);
        ByteBuf payload = peer.encode(tunnelChannel.alloc(), Unpooled.wrappedBuffer(message));
        ByteBuf tail = peer.flushTail(tunnelChannel.alloc());
        peer.release();
        ByteBuf all = payload == null ? tail : Unpooled.wrappedBuffer(payload, tail);
        int bytes = all.readableBytes();

        splice.onData(all);
        splice.onReadComplete();
        ByteBuf written = local.readOutbound();
        assertThat(written.toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("a small reply");
        written.release();
        assertThat(next()).as("far below a quarter of the window: nothing owed is sent yet").isNull();

        splice.onFin();

        Frame credit = next();
        assertThat(credit.type()).isEqualTo(FrameType.CREDIT);
        assertThat(Frames.readCredit(credit.payload())).as("every byte of the peer's DATA").isEqualTo(bytes);
        credit.release();
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
