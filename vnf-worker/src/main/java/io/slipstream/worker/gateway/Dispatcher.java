package io.slipstream.worker.gateway;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.SteeringEntry;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection from accept to splice: classify it ({@link SteeringSnapshot#decide}), for L7 read
 * its first request head, take a back-end connection (pre-opened, else a connect), hand over (a PROXY v2
 * header for wanopt; the buffered head for cache), then splice with {@link Relay} and leave the pipeline.
 * A refused flow is reset at once. Owns what the client sent before the splice (the held buffers and the
 * head) until it is written to the back end, and releases it if the dispatch fails.
 */
final class Dispatcher extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    private final Gateway gateway;
    private final InetSocketAddress destination;
    private final long acceptedNanos = System.nanoTime();
    private final ArrayDeque<Object> held = new ArrayDeque<>();
    /** How long a rejected client's further input is read and discarded before the close. */
    static final long LINGER_MILLIS = 2000;
    private ChannelHandlerContext ctx;
    private SteeringSnapshot.Decision decision;
    private FlowKey flow;
    private ByteBuf head;
    private boolean headDone;
    private boolean clientGone;
    private boolean finished;
    private boolean handingOver;
    private List<Peer> candidates = List.of();
    private int attempt;
    private ScheduledFuture<?> headTimeout;

    Dispatcher(Gateway gateway, InetSocketAddress destination) {
        this.gateway = gateway;
        this.destination = destination;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        InetSocketAddress client = (InetSocketAddress) ctx.channel().remoteAddress();
        flow = FlowKey.tcp(client.getAddress(), client.getPort(), destination.getAddress(), destination.getPort(),
                gateway.settings.site());
        decision = gateway.snapshot().decide(flow);
        switch (decision.action()) {
            case BYPASS -> connect(null, false);
            case STEER -> {
                candidates = fallbackOrder(decision.member(), decision.entry());
                connect(HostPort.parse(candidates.get(0).getDataEndpoint()), true);
            }
            case HTTP -> {
                head = ctx.alloc().buffer(1024);
                long timeout = gateway.settings.headTimeoutMillis();
                headTimeout = ctx.executor().schedule(() -> refuse(408, "Request Timeout", "head_timeout",
                        "no complete request head within " + timeout + " ms"), timeout, TimeUnit.MILLISECONDS);
                ctx.read();
            }
            default -> {
                if (gateway.mayWarn()) {
                    log.warn("gateway: {}: {}; resetting the client (at most one such warning a second)", flow,
                            decision.reason());
                }
                fail("refused");
            }
        }
    }

    /** The chosen member first, then the entry's other members (tried when a connect fails). */
    private static List<Peer> fallbackOrder(Peer chosen, SteeringEntry entry) {
        List<Peer> list = new ArrayList<>();
        list.add(chosen);
        if (entry != null) {
            for (Peer p : entry.getMembersList()) {
                if (!p.getWorkerId().equals(chosen.getWorkerId())) {
                    list.add(p);
                }
            }
        }
        return list;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (finished || handingOver || decision.action() != SteeringSnapshot.Action.HTTP || headDone) {
            if (finished) {
                ReferenceCountUtil.release(msg);
            } else {
                held.add(msg);
            }
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            head.writeBytes(in);
        } finally {
            in.release();
        }
        int length = HttpHead.headLength(head);
        if (length < 0) {
            if (head.readableBytes() > gateway.settings.maxHeadBytes()) {
                badRequest("request head larger than " + gateway.settings.maxHeadBytes() + " bytes");
            } else {
                ctx.read();
            }
            return;
        }
        if (length > gateway.settings.maxHeadBytes()) {
            badRequest("request head larger than " + gateway.settings.maxHeadBytes() + " bytes");
            return;
        }
        headDone = true;
        headTimeout.cancel(false);
        HttpHead parsed;
        try {
            parsed = HttpHead.parse(HttpHead.text(head, length),
                    HostPort.of(destination.getAddress().getHostAddress(), destination.getPort()).toString());
        } catch (IllegalArgumentException e) {
            badRequest(e.getMessage());
            return;
        }
        Peer owner = SteeringSnapshot.cacheOwner(decision.entry(), parsed.cacheKey());
        candidates = fallbackOrder(owner, decision.entry());
        connect(HostPort.parse(owner.getDataEndpoint()), false);
    }

    private void connect(HostPort endpoint, boolean proxyHeader) {
        // Bypass: straight to the original destination (endpoint null), already resolved.
        Future<Channel> backend = endpoint == null
                ? gateway.pools.acquireDirect(destination, ctx.channel().eventLoop())
                : gateway.pools.acquire(endpoint, ctx.channel().eventLoop());
        backend.addListener(f -> ctx.executor().execute(() -> {
            if (!f.isSuccess()) {
                connectFailed(endpoint, proxyHeader, f.cause());
                return;
            }
            Channel ch = (Channel) f.getNow();
            if (clientGone || finished) {
                ch.close();
                return;
            }
            splice(ch, proxyHeader);
        }));
    }

    private void connectFailed(HostPort endpoint, boolean proxyHeader, Throwable cause) {
        if (endpoint != null) {
            gateway.pools.failed(endpoint);
        }
        if (!clientGone && !finished && attempt + 1 < candidates.size()) {
            attempt++;
            log.debug("gateway: {} -> {} failed ({}); trying {}", flow, endpoint, cause.toString(),
                    candidates.get(attempt).getWorkerId());
            connect(HostPort.parse(candidates.get(attempt).getDataEndpoint()), proxyHeader);
            return;
        }
        if (gateway.mayWarn()) {
            log.warn("gateway: {}: connect to {} failed: {}; resetting the client (at most one such warning a "
                    + "second)", flow, endpoint != null ? endpoint : destination, cause.toString());
        }
        fail("connect_failed");
    }

    /**
     * On the client's loop: hand over to {@code backend} and relay both ways. First, on the back end's loop:
     * the PROXY header, the bytes the client sent so far, and the back end's relay; then, back on the client's
     * loop: whatever the client sent meanwhile, and the client's relay. Each relay is installed on its own
     * channel's loop (a transport may deliver data even with AUTO_READ off), and nothing the client sends can
     * overtake the header or the replay.
     */
    private void splice(Channel backend, boolean proxyHeader) {
        handingOver = true;
        Channel client = ctx.channel();
        List<Object> replay = takeHeld();
        Relay.Pair pair = new Relay.Pair(gateway.stats::flowClosed);
        HAProxyMessage header = proxyHeader ? proxyMessage(flow) : null;
        backend.eventLoop().execute(() -> {
            if (header != null) {
                backend.pipeline().addLast("proxy-v2", HAProxyMessageEncoder.INSTANCE);
                backend.write(header);
                backend.pipeline().remove("proxy-v2");
            }
            boolean ended = writeAll(backend, replay);
            backend.flush();
            gateway.stats.flowOpened();
            gateway.count(decision, "spliced");
            gateway.dispatched(decision, System.nanoTime() - acceptedNanos);
            Relay.install(backend, client, pair, gateway.bytesDownstream);
            backend.read();
            client.eventLoop().execute(() -> {
                if (finished) { // the client left during the hand-over
                    pair.closeBoth(client, backend, true);
                    return;
                }
                finished = true;
                boolean endedNow = writeAll(backend, takeHeld());
                backend.flush();
                ctx.pipeline().remove(this);
                Relay.install(client, backend, pair, gateway.bytesUpstream);
                if (ended || endedNow) {
                    // The client half-closed before the splice: pass it on after its bytes.
                    client.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
                } else {
                    client.read();
                }
            });
        });
    }

    /** The buffered head and what was held since, in order; the dispatcher no longer owns them. */
    private List<Object> takeHeld() {
        List<Object> list = new ArrayList<>();
        if (head != null) {
            list.add(head);
            head = null;
        }
        Object item;
        while ((item = held.poll()) != null) {
            list.add(item);
        }
        return list;
    }

    /** Writes the buffers to {@code backend}; true if the list held the client's half-close. */
    private boolean writeAll(Channel backend, List<Object> items) {
        boolean ended = false;
        for (Object item : items) {
            if (item instanceof ByteBuf buf) {
                gateway.bytesUpstream.increment(buf.readableBytes());
                backend.write(buf);
            } else {
                ended = true;
                ReferenceCountUtil.release(item);
            }
        }
        return ended;
    }

    private void badRequest(String reason) {
        refuse(400, "Bad Request", "bad_request", reason);
    }

    /** Answers {@code status} with {@code reason} in the body, counts {@code outcome}, and closes lingering. */
    private void refuse(int status, String statusText, String outcome, String reason) {
        if (finished) {
            return;
        }
        finished = true;
        gateway.count(decision, outcome);
        log.debug("gateway: {}: {} request head: {}", flow, outcome, reason);
        String body = (status == 400 ? "bad request: " : "") + reason + "\n";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String response = "HTTP/1.1 " + status + " " + statusText + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + bytes.length + "\r\nConnection: close\r\n\r\n";
        ByteBuf out = Unpooled.wrappedBuffer(response.getBytes(StandardCharsets.ISO_8859_1), bytes);
        releaseHeld();
        // Lingering close: end our side, then read and discard what the client still sends for a moment, so
        // that closing with unread input does not reset the connection before the client has read the 400.
        Channel ch = ctx.channel();
        ctx.writeAndFlush(out).addListener(f -> {
            if (ch instanceof io.netty.channel.socket.SocketChannel s) {
                s.shutdownOutput();
            }
            ch.config().setAutoRead(true);
            ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        });
    }

    private void fail(String outcome) {
        if (finished) {
            return;
        }
        finished = true;
        gateway.count(decision, clientGone ? "client_gone" : outcome);
        releaseHeld();
        Relay.abort(ctx.channel());
    }

    private void releaseHeld() {
        if (headTimeout != null) {
            headTimeout.cancel(false);
        }
        if (head != null) {
            head.release();
            head = null;
        }
        Object item;
        while ((item = held.poll()) != null) {
            ReferenceCountUtil.release(item);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent && finished && !handingOver) {
            ctx.close(); // a rejected client finished sending
            return;
        }
        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
            if (decision.action() == SteeringSnapshot.Action.HTTP && !headDone && !handingOver) {
                fail("client_gone");
            } else {
                held.add(evt);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clientGone = true;
        if (!finished) {
            fail("client_gone");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("gateway: {}: {}", flow, cause.toString());
        fail("client_gone");
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (!finished) {
            releaseHeld();
        }
    }

    /** The PROXY v2 header for {@code flow}: its original source and destination. */
    static HAProxyMessage proxyMessage(FlowKey flow) {
        InetAddress src = flow.src();
        InetAddress dst = flow.dst();
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                v4 ? src.getHostAddress() : v6(src), v4 ? dst.getHostAddress() : v6(dst), flow.srcPort(), flow.dstPort());
    }

    private static String v6(InetAddress a) {
        return a instanceof Inet6Address ? a.getHostAddress() : "::ffff:" + a.getHostAddress();
    }
}
