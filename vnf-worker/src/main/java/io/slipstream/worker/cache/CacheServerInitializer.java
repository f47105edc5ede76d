package io.slipstream.worker.cache;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;

/** The client pipeline of the cache proxy: head and idle deadlines, strict decoding, framing guard, bounded aggregation, the frontend. */
final class CacheServerInitializer extends ChannelInitializer<SocketChannel> {

    private final CacheContext cache;

    CacheServerInitializer(CacheContext cache) {
        this.cache = cache;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        addHandlers(ch.pipeline(), cache);
    }

    /** The client pipeline's handlers, in order; the last is named {@code frontend}. */
    static void addHandlers(ChannelPipeline pipeline, CacheContext cache) {
        CacheProxySettings s = cache.settings;
        pipeline
                .addLast("deadlines", new ClientDeadlines(s.headTimeoutMillis, s.idleTimeoutMillis, cache.rejected))
                .addLast("decoder", new StrictRequestDecoder(s.maxInitialLineBytes, s.maxHeaderBytes))
                .addLast("encoder", new HttpResponseEncoder())
                .addLast("guard", new RequestGuard(s.maxHeaderCount))
                .addLast("aggregator", new RequestAggregator(s.maxRequestBodyBytes))
                .addLast("frontend", new CacheFrontendHandler(cache));
    }
}
