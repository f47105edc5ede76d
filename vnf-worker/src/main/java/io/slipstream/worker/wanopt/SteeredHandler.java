package io.slipstream.worker.wanopt;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steered listener's handler: waits for the PROXY v2 header ({@link ProxyHeaderCheck}), looks its destination
 * up in the pushed site map ({@link SiteDecision}) and hands the connection to {@link Ingress} for that site, or
 * resets it (no header in time, a header it cannot use, no site, this worker's own site). Releases the
 * {@link HAProxyMessage}; bytes after the header pass on to the holding handler.
 */
final class SteeredHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(WanOptimizer.class); // the role's log, as before

    /** Header wait on the steered listener: longer than a gateway keeps a pre-opened connection idle. */
    static final long HEADER_TIMEOUT_MILLIS = 30_000;

    private final Supplier<SiteDecision> sites;
    private final SteeredOutcomes outcomes;
    private final Ingress ingress;
    private ScheduledFuture<?> timeout;
    /** A header error was already counted (Netty's decoder may close the channel before it reports one). */
    private boolean badHeaderCounted;

    SteeredHandler(Supplier<SiteDecision> sites, SteeredOutcomes outcomes, Ingress ingress) {
        this.sites = sites;
        this.outcomes = outcomes;
        this.ingress = ingress;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            log.warn("steered {}: no PROXY v2 header within {} ms: resetting", ctx.channel().remoteAddress(),
                    HEADER_TIMEOUT_MILLIS);
            outcomes.count("header_timeout");
            StreamSplice.abort(ctx.channel());
        }, HEADER_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ctx.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg); // after the header: for the holding handler
            return;
        }
        timeout.cancel(false);
        Channel client = ctx.channel();
        try {
            ProxyHeaderCheck.Result checked = ProxyHeaderCheck.check(header);
            if (checked instanceof ProxyHeaderCheck.Local) {
                outcomes.count("local");
                client.close(); // a health check, no connection to carry
                return;
            }
            if (checked instanceof ProxyHeaderCheck.Unusable unusable) {
                log.warn("steered {}: {}: resetting", client.remoteAddress(), unusable.problem());
                outcomes.count("bad_header");
                StreamSplice.abort(client);
                return;
            }
            ProxyHeaderCheck.Proxied proxied = (ProxyHeaderCheck.Proxied) checked;
            String host = proxied.host();
            int port = proxied.port();
            SiteDecision.Decision decision = sites.get().decide(host);
            if (decision.outcome() == SiteDecision.Outcome.NO_SITE) {
                log.warn("steered {}: destination {}:{} is in no site of the pushed site map: resetting (the flow "
                        + "has no far site to optimise towards)", client.remoteAddress(), host, port);
                outcomes.count(decision.outcome().tag());
                StreamSplice.abort(client);
                return;
            }
            if (decision.outcome() == SiteDecision.Outcome.OWN_SITE) {
                log.warn("steered {}: destination {}:{} is at this worker's own site {}: resetting (nothing to "
                        + "carry across the WAN)", client.remoteAddress(), host, port, decision.site());
                outcomes.count(decision.outcome().tag());
                StreamSplice.abort(client);
                return;
            }
            outcomes.count(decision.outcome().tag());
            ctx.pipeline().remove(this);
            ingress.open(client, proxied.source(), decision.site(), host, port, proxied.policy());
        } finally {
            header.release();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            log.warn("steered {}: input ended before a complete PROXY v2 header: resetting",
                    ctx.channel().remoteAddress());
            outcomes.count("bad_header");
            timeout.cancel(false);
            StreamSplice.abort(ctx.channel());
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (badHeaderCounted) {
            return; // already counted and reset for an earlier error in the same input
        }
        badHeaderCounted = true;
        // Netty's HAProxyMessageDecoder closes the channel itself before it reports a wrong signature or an unknown
        // address family, so the channel may already be inactive here: it is still a bad header to count
        log.warn("steered {}: malformed PROXY header: {}: resetting", ctx.channel().remoteAddress(),
                cause.getMessage());
        outcomes.count("bad_header");
        if (timeout != null) {
            timeout.cancel(false);
        }
        StreamSplice.abort(ctx.channel());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        ctx.fireChannelInactive();
    }
}
