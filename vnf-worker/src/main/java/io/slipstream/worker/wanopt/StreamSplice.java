package io.slipstream.worker.wanopt;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.wanopt.tunnel.Frame;
import io.slipstream.worker.wanopt.tunnel.FrameType;
import io.slipstream.worker.wanopt.tunnel.Frames;
import io.slipstream.worker.wanopt.tunnel.StreamListener;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splices a local TCP connection (the client's at the ingress, the destination's at the egress)
 * to one tunnel stream, in both directions.
 *
 * <ul>
 *   <li>Local to tunnel: bytes read are encoded into DATA frames while the peer's credit lasts; the
 *       local socket is read only when there is credit and the stream has room in the tunnel's fair
 *       queue, so a slow receiver holds back only its own stream and memory stays bounded by the
 *       window. What a read batch smaller than one average chunk leaves after the last chunk cut goes
 *       out at the end of the batch (no timer): an interactive message is never held back; in a
 *       bulk-sized burst it waits for more input or a short quiet time (see {@link #readBatchDone}).</li>
 *   <li>Tunnel to local: DATA is decoded (and verified) and written; credit goes back once the bytes
 *       are written to the local socket.</li>
 *   <li>Half-close travels as FIN; a local error or reset as RST (the other end then resets its
 *       socket, SO_LINGER 0); a lost tunnel connection resets every stream on it.</li>
 *   <li>The stream ends once both directions are done and the peer has returned all of its credit: it
 *       returns what it owes as soon as it has written everything before our FIN, so until then it may
 *       still ask for a chunk it lacks (NEED), and this side is still there to answer.</li>
 * </ul>
 *
 * All state is touched on the tunnel connection's event loop; events of the local channel hop to it
 * when the two differ. Buffers: DATA payloads handed to {@link #onData} are owned here and released
 * by the decoder; decoded buffers are released by the local channel's write.
 */
final class StreamSplice implements StreamListener {

    private static final Logger log = LoggerFactory.getLogger(StreamSplice.class);

    private final TunnelConnection tunnel;
    private final EventLoop loop;
    private final StreamEncoder encoder;
    private final StreamDecoder decoder;
    private final DataPlaneStats stats;
    private final String description;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private int streamId;
    private Channel local;
    private int sendCredit;
    /** The credit the peer gives a stream to start with; all of it back means the peer wrote all we sent. */
    private final int window;
    private boolean localInputDone;
    private boolean remoteFin;
    private boolean outputShut;
    private boolean closed;
    private int writesInFlight;
    private io.netty.channel.ChannelFuture lastWrite;
    private int creditOwed;
    private final int creditThreshold;
    private final WanoptCounters counters;
    /** Default bound on an unanswered NEED. */
    static final long DEFAULT_NEED_TIMEOUT_MILLIS = 60_000;
    private final long needTimeoutMillis;
    /**
     * A burst (bytes read since the local socket was last quiet for {@link #BULK_QUIET_MICROS}) of at
     * least this many bytes, one average chunk, looks like bulk: the bytes after the last cut wait for
     * more input (Nagle-like), so a bulk stream keeps its content-defined chunks whole and deduplicated.
     * A smaller burst looks like a message: they go out at the end of the read batch.
     */
    static final int INTERACTIVE_BURST_BYTES = 32 << 10;
    /** Quiet time that ends a burst; after a bulk-looking burst, the bytes after its last cut go then. */
    static final long BULK_QUIET_MICROS = 2000;
    /**
     * A read batch of at least this many bytes whose last read filled its buffer may be the start of a bulk
     * stream (Netty's first buffer is 2 KiB); a smaller one is a message that fitted its buffer exactly.
     */
    static final int BULK_START_BATCH_BYTES = 2048;
    /**
     * A bulk burst ends with a quiet time only if the conversation turned (this side wrote the peer's bytes
     * to the local socket since its last read: the next bytes may answer them) or after this much quiet: a
     * sender that paused for a few ms in the middle of a transfer (descheduled on a busy machine) keeps its
     * chunks whole. A message-sized burst ends with a quiet time or a turn (on a LAN the answer comes back
     * sooner than the quiet time: messages of a conversation must not add up to bulk).
     */
    static final long BULK_PAUSE_MICROS = 50_000;
    private long burstBytes;
    /** Bytes from the peer were written to the local socket since the last read from it. */
    private boolean turned;
    /** Where read times come from (tests set their own). */
    LongSupplier clock = System::nanoTime;
    /**
     * This side stopped reading (no credit, or no room in the fair queue): the local socket's silence since
     * then is ours, not the application's, and neither ends a burst nor sends an open chunk early.
     */
    private boolean heldBack;
    private long lastReadNanos;
    /** The last read filled its buffer: the socket may have more. */
    private boolean lastReadFull;
    /** Reads in the current read batch (Netty ends a batch after {@code maxMessagesPerRead}, 16 by default). */
    private int batchReads;
    /** Bytes of the current read batch. */
    private long batchBytes;
    private long reads;
    private boolean openFlushScheduled;

    StreamSplice(TunnelConnection tunnel, int initialCredit, StreamEncoder encoder, StreamDecoder decoder,
                 DataPlaneStats stats, WanoptCounters counters, String description) {
        this(tunnel, initialCredit, encoder, decoder, stats, counters, description, DEFAULT_NEED_TIMEOUT_MILLIS);
    }

    /**
     * @param needTimeoutMillis how long a NEED may go unanswered before the stream is reset: a peer that
     *     references a chunk and then never sends it must not hold the flow open forever
     */
    StreamSplice(TunnelConnection tunnel, int initialCredit, StreamEncoder encoder, StreamDecoder decoder,
                 DataPlaneStats stats, WanoptCounters counters, String description, long needTimeoutMillis) {
        this.needTimeoutMillis = needTimeoutMillis;
        this.counters = counters;
        this.creditThreshold = Math.max(1, initialCredit / 4);
        this.tunnel = tunnel;
        this.loop = tunnel.channel().eventLoop();
        this.sendCredit = initialCredit;
        this.window = initialCredit;
        this.encoder = encoder;
        this.decoder = decoder;
        this.stats = stats;
        this.description = description;
        stats.flowOpened();
    }

    /** The stream id, once opened (ingress) or accepted (egress). */
    void streamId(int id) {
        this.streamId = id;
    }

    /**
     * Holds what a local channel reads before its splice is attached (a transport may read once even
     * with AUTO_READ off: epoll does). Put it in the pipeline from the start; {@link #attach}
     * replays what it held, in order, to the splice and removes it. Owns held buffers until then.
     */
    static final class Holding extends ChannelInboundHandlerAdapter {
        private final ArrayDeque<Object> held = new ArrayDeque<>();
        private boolean inactive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                held.add(evt);
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inactive = true;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            held.add(cause);
        }

        /** Hands everything held to the handlers after this one, then leaves the pipeline. */
        void replayAndRemove(ChannelHandlerContext ctx) {
            Object item;
            boolean read = false;
            while ((item = held.poll()) != null) {
                if (item instanceof Throwable) {
                    ctx.fireExceptionCaught((Throwable) item);
                } else if (item instanceof ChannelInputShutdownEvent) {
                    ctx.fireUserEventTriggered(item);
                } else {
                    read = true;
                    ctx.fireChannelRead(item);
                }
            }
            if (read) {
                ctx.fireChannelReadComplete();
            }
            if (inactive) {
                ctx.fireChannelInactive();
            }
            ctx.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            Object item;
            while ((item = held.poll()) != null) {
                io.netty.util.ReferenceCountUtil.release(item);
            }
        }
    }

    /** The local socket is connected: start relaying. Call on any thread. */
    void attach(Channel channel) {
        Runnable install = () -> {
            // On the channel's own loop, so the handler is live at once and nothing slips past it.
            channel.pipeline().addLast("splice", new LocalHandler());
            ChannelHandlerContext holding = channel.pipeline().context(Holding.class);
            if (holding != null) {
                ((Holding) holding.handler()).replayAndRemove(holding);
            }
            run(() -> {
                if (closed) {
                    abort(channel);
                    return;
                }
                local = channel;
                drainPending();
                maybeRead();
            });
        };
        if (channel.eventLoop().inEventLoop()) {
            install.run();
        } else {
            channel.eventLoop().execute(install);
        }
    }

    /** The local socket could not be connected (egress). */
    void connectFailed(String reason) {
        run(() -> {
            log.info("stream {} ({}): {}", streamId, description, reason);
            tunnel.reset(streamId, Frames.RST_CONNECT_FAILED, reason);
            finish();
        });
    }

    private void run(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            loop.execute(r);
        }
    }

    // ---- tunnel side (on the loop) ----

    @Override
    public void onData(ByteBuf payload) {
        if (closed) {
            payload.release();
            return;
        }
        batching = true;
        int credit = payload.readableBytes();
        List<Object> decoded = new ArrayList<>(8);
        try {
            decoder.decode(tunnel.channel().alloc(), payload, decoded);
        } catch (RuntimeException e) {
            corrupt(e);
            return;
        }
        for (Object item : decoded) {
            if (item instanceof StreamDecoder.Missing) {
                StreamDecoder.Missing missing = (StreamDecoder.Missing) item;
                for (ChunkFingerprint wanted : decoder.needed(missing)) {
                    counters.need();
                    ByteBuf fp = tunnel.channel().alloc().buffer(16);
                    StreamEncoder.writeFingerprint(fp, wanted);
                    tunnel.write(new Frame(FrameType.NEED, streamId, fp));
                }
                loop.schedule(() -> needDeadline(missing), needTimeoutMillis, TimeUnit.MILLISECONDS);
            }
        }
        tunnel.flush();
        pending.addAll(decoded);
        pending.add(new Credit(credit));
        drainPending();
    }

    /** The NEED for {@code missing} went unanswered: nothing after it can be delivered, so reset. */
    private void needDeadline(StreamDecoder.Missing missing) {
        if (!closed && pending.contains(missing) && !decoder.holds(missing)) {
            corrupt(new CorruptedFrameException("chunk " + missing.fingerprint + " (" + missing.length
                    + " bytes) referenced but not sent within " + needTimeoutMillis + " ms of asking for it"));
        }
    }

    private void corrupt(RuntimeException e) {
        log.warn("stream {} ({}): corrupt data, resetting: {}", streamId, description, e.getMessage());
        tunnel.reset(streamId, Frames.RST_CORRUPT, e.getMessage() == null ? e.toString() : e.getMessage());
        abortLocal();
        finish();
    }

    @Override
    public void onChunk(ByteBuf chunk) {
        if (closed) {
            return;
        }
        try {
            decoder.storeChunk(tunnel.channel().alloc(), chunk, pending);
        } catch (RuntimeException e) {
            corrupt(e);
            return;
        }
        drainPending();
    }

    /** Marks where a DATA payload's bytes end, so its credit is returned once they are written. */
    private static final class Credit {
        final int bytes;

        Credit(int bytes) {
            this.bytes = bytes;
        }
    }

    private void drainPending() {
        if (local == null || closed) {
            return;
        }
        boolean wrote = false;
        Object item;
        // A slow local socket holds decoded bytes here, and its credit with them, not in Netty's buffer.
        while ((item = pending.peek()) != null && (local.isWritable() || !(item instanceof ByteBuf
                || item instanceof StreamDecoder.Missing))) {
            if (item instanceof StreamDecoder.Missing) {
                ByteBuf arrived;
                try {
                    arrived = decoder.resolve((StreamDecoder.Missing) item);
                } catch (RuntimeException e) {
                    corrupt(e);
                    return;
                }
                if (arrived == null) {
                    break; // wait for the CHUNK that answers our NEED
                }
                pending.poll();
                item = arrived;
            } else {
                pending.poll();
            }
            if (item instanceof ByteBuf) {
                writesInFlight++;
                wrote = true;
                lastWrite = local.write(item);
                turned = true;
                lastWrite.addListener(this::written);
            } else if (item instanceof Credit) {
                int bytes = ((Credit) item).bytes;
                if (lastWrite == null || lastWrite.isDone()) {
                    grant(bytes);
                } else {
                    lastWrite.addListener(f -> {
                        if (f.isSuccess()) {
                            run(() -> grant(bytes));
                        }
                    });
                }
            }
        }
        if (wrote) {
            unflushed = true;
            if (!batching) {
                flushLocal();
            }
        }
        maybeShutdownOutput();
    }

    private void written(io.netty.util.concurrent.Future<? super Void> f) {
        run(() -> {
            writesInFlight--;
            if (!f.isSuccess() && !closed) {
                resetBoth("write to local socket failed: " + f.cause());
                return;
            }
            maybeShutdownOutput();
        });
    }

    /**
     * Bytes of the peer's DATA are out of this side: owe it that much credit, and send what is owed
     * once it reaches a quarter of the window. No deadlock: a sender that ran out of credit has a
     * full window outstanding, which, once written here, is more than the threshold.
     */
    private void grant(int bytes) {
        if (closed && !outputShut) {
            return; // reset: the peer has forgotten the stream
        }
        creditOwed += bytes;
        // Once the output is shut (all the peer sent is written), every byte goes back at once: the peer
        // waits for all of it to end the stream. A grant whose write completed just after the shut, or
        // after this side ended, still goes.
        if (creditOwed >= creditThreshold || outputShut) {
            sendOwedCredit();
        }
    }

    private void sendOwedCredit() {
        if (creditOwed > 0) {
            tunnel.write(Frames.credit(tunnel.channel().alloc(), streamId, creditOwed));
            tunnel.flush();
            creditOwed = 0;
        }
    }

    /** While the tunnel delivers a batch of frames, local writes are flushed once at its end. */
    private boolean batching;
    private boolean unflushed;

    private void flushLocal() {
        if (unflushed && local != null) {
            unflushed = false;
            local.flush();
        }
    }

    @Override
    public void onReadComplete() {
        batching = false;
        flushLocal();
    }

    @Override
    public void onCredit(int bytes) {
        sendCredit += bytes;
        maybeRead();
        maybeClose();
    }

    @Override
    public void onFin() {
        remoteFin = true;
        maybeShutdownOutput();
    }

    private void maybeShutdownOutput() {
        if (remoteFin && !outputShut && local != null && pending.isEmpty() && writesInFlight == 0 && !closed) {
            outputShut = true;
            // Everything before the peer's FIN is written: it will not ask for a chunk again (NEED), so
            // it may end the stream as soon as it has all of its credit back.
            sendOwedCredit();
            if (local instanceof SocketChannel) {
                ((SocketChannel) local).shutdownOutput().addListener(f -> run(this::maybeClose));
            } else {
                maybeClose();
            }
        }
    }

    @Override
    public void onReset(String reason) {
        if (closed) {
            return;
        }
        log.debug("stream {} ({}) reset: {}", streamId, description, reason);
        abortLocal();
        finish();
    }

    @Override
    public void onNeed(ByteBuf request) {
        if (closed) {
            return;
        }
        ByteBuf chunk = request.readableBytes() == 16 ? encoder.chunkFor(tunnel.channel().alloc(),
                StreamEncoder.readFingerprint(request)) : null;
        if (chunk == null) {
            log.info("stream {} ({}): peer asked for a chunk no longer held; resetting", streamId, description);
            tunnel.reset(streamId, Frames.RST_CHUNK_LOST, "chunk no longer held by the sender");
            abortLocal();
            finish();
            return;
        }
        tunnel.write(new Frame(FrameType.CHUNK, streamId, chunk));
        tunnel.flush();
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
        if (writable) {
            maybeRead();
        }
    }

    private void maybeRead() {
        // The tunnel's fair queue, not its socket, is the limit: a stream with data waiting its turn reads no more.
        if (local != null && !closed && !localInputDone) {
            if (sendCredit > 0 && tunnel.hasRoom(streamId)) {
                if (heldBack) {
                    // Reading again: the socket's quiet time counts from now (a pending open-chunk flush waits
                    // a whole quiet time more, a burst goes on).
                    heldBack = false;
                    reads++;
                    lastReadNanos = clock.getAsLong();
                }
                local.read();
            } else {
                heldBack = true;
            }
        }
    }

    // ---- local side ----

    private final class LocalHandler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            run(() -> {
                if (closed || localInputDone) {
                    buf.release();
                    return;
                }
                reads++;
                long now = clock.getAsLong();
                long quiet = now - lastReadNanos;
                boolean quietEnough = quiet >= TimeUnit.MICROSECONDS.toNanos(BULK_QUIET_MICROS);
                boolean newBurst = burstBytes < INTERACTIVE_BURST_BYTES
                        ? quietEnough || turned // after a message: a pause, or the answer to the peer's bytes
                        : quietEnough && (turned || quiet >= TimeUnit.MICROSECONDS.toNanos(BULK_PAUSE_MICROS));
                if (newBurst) {
                    burstBytes = 0; // a new burst (a new message?) starts
                }
                turned = false;
                lastReadNanos = now;
                burstBytes += buf.readableBytes();
                lastReadFull = buf.writableBytes() == 0;
                batchReads++;
                batchBytes += buf.readableBytes();
                send(encoder.encode(tunnel.channel().alloc(), buf));
            });
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            run(StreamSplice.this::readBatchDone);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                run(() -> {
                    if (!closed && !localInputDone) {
                        localInputDone = true;
                        send(encoder.flushTail(tunnel.channel().alloc()));
                        tunnel.write(Frames.empty(FrameType.FIN, streamId));
                        tunnel.flush();
                        maybeClose();
                    }
                });
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                run(StreamSplice.this::drainPending);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            run(() -> {
                if (!closed) {
                    resetBoth("local connection closed before both directions finished");
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            run(() -> {
                if (!closed) {
                    resetBoth("local connection failed: " + cause);
                }
            });
        }
    }

    private void send(ByteBuf payload) {
        if (payload != null) {
            sendCredit -= payload.readableBytes();
            tunnel.write(new Frame(FrameType.DATA, streamId, payload));
        }
    }

    /**
     * The local socket has nothing more to give right now. While the burst is smaller than
     * {@link #INTERACTIVE_BURST_BYTES} (a message), what the batch left after the last chunk cut goes
     * out with it, in the same flush, without any timer (the chunker carries on, so the cuts stay where
     * the content puts them). In a larger burst (bulk), or when the batch looks like the start of a bulk
     * stream (its last read filled its buffer, and it read {@link #BULK_START_BATCH_BYTES} or more or made
     * as many reads as Netty makes in one batch: the socket likely has more), those bytes wait for more
     * input, and go once the socket has been quiet for {@link #BULK_QUIET_MICROS}: sent early, a chunk's
     * head could not be deduplicated, and a bulk reader empties the socket often.
     */
    void readBatchDone() {
        if (closed || localInputDone) {
            return;
        }
        // A batch that ended on a full buffer: the socket may have more (Netty's read limit), or a read that
        // exactly fitted emptied it. Bulk starts are read in buffers of 2 KiB and up (2+2+4+8+16+32 KiB fit a
        // 64 KiB write exactly); a small message filling the small buffer Netty guessed after a run of small
        // ones (64 bytes) is a message.
        boolean bulkStart = lastReadFull
                && (batchReads >= maxMessagesPerRead() || batchBytes >= BULK_START_BATCH_BYTES);
        batchReads = 0;
        batchBytes = 0;
        if (burstBytes < INTERACTIVE_BURST_BYTES && !bulkStart) {
            send(encoder.flushOpen(tunnel.channel().alloc()));
        } else {
            scheduleOpenFlush();
        }
        tunnel.flush();
        maybeRead();
    }

    private int maxMessagesPerRead() {
        RecvByteBufAllocator allocator = local == null ? null : local.config().getRecvByteBufAllocator();
        return allocator instanceof MaxMessagesRecvByteBufAllocator
                ? ((MaxMessagesRecvByteBufAllocator) allocator).maxMessagesPerRead() : 1;
    }

    private void scheduleOpenFlush() {
        if (openFlushScheduled || closed || encoder.tailBytes() == 0) {
            return;
        }
        openFlushScheduled = true;
        long readsThen = reads;
        loop.schedule(() -> {
            openFlushScheduled = false;
            if (closed || localInputDone) {
                return;
            }
            if (reads != readsThen || heldBack) {
                scheduleOpenFlush(); // more came, or we are not reading: not a quiet socket
                return;
            }
            burstBytes = 0;
            send(encoder.flushOpen(tunnel.channel().alloc()));
            tunnel.flush();
        }, BULK_QUIET_MICROS, TimeUnit.MICROSECONDS);
    }

    private void maybeClose() {
        if (!closed && localInputDone && remoteFin && outputShut && writesInFlight == 0 && sendCredit >= window) {
            local.close();
            tunnel.remove(streamId);
            finish();
        }
    }

    private void resetBoth(String reason) {
        log.debug("stream {} ({}): {}", streamId, description, reason);
        tunnel.reset(streamId, Frames.RST_ABORTED, reason);
        abortLocal();
        finish();
    }

    private void abortLocal() {
        if (local != null) {
            abort(local);
        }
    }

    /** Closes with a TCP reset, so the application sees the failure instead of a clean end. */
    static void abort(Channel channel) {
        if (channel.isActive()) {
            channel.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        channel.close();
    }

    private void finish() {
        if (closed) {
            return;
        }
        closed = true;
        encoder.release();
        decoder.release();
        Object item;
        while ((item = pending.poll()) != null) {
            if (item instanceof ByteBuf) {
                ((ByteBuf) item).release();
            } else if (item instanceof StreamDecoder.Missing) {
                ((StreamDecoder.Missing) item).release();
            }
        }
        stats.flowClosed();
    }

}
