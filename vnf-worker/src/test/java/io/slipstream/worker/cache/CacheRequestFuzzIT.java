package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of the cache proxy's HTTP request path: the pipeline of
 * {@link CacheServerInitializer} ({@link StrictRequestDecoder}, {@link RequestGuard},
 * {@link RequestAggregator}, {@link CacheFrontendHandler}) on an {@link EmbeddedChannel}, fed any bytes
 * as one client's connection. The origin is configured but unreachable from the embedded event loop, so
 * a request that passes every check ends in a 502/504, not in I/O. Properties, per input:
 *
 * <ul>
 *   <li>no exception reaches the pipeline (the decoder turns bad input into a failed message, the
 *       frontend into a 4xx/5xx answer);</li>
 *   <li>every answer is a well-formed HTTP/1.1 status line, never 500 ("internal error" means an
 *       unexpected exception in the frontend);</li>
 *   <li>at most one answer per request the client could have sent (no duplicated responses).</li>
 * </ul>
 */
class CacheRequestFuzzIT {

    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 ([0-9]{3}) ");
    private static final CacheProxySettings SETTINGS = CacheProxySettings.builder()
            .origin(URI.create("http://127.0.0.1:9")).adminToken("fuzz-token").forwardProxy(true)
            .maxHeaderBytes(4096).maxInitialLineBytes(1024).maxRequestBodyBytes(8192).build();

    @FuzzTest(maxDuration = "10s")
    void cacheRequestPath_anyClientBytes_answeredWithHttpErrorsNeverInternal(byte[] input) {
        CacheContext cache = new CacheContext(SETTINGS);
        List<Throwable> escaped = new ArrayList<>();
        EmbeddedChannel channel = new EmbeddedChannel();
        CacheServerInitializer.addHandlers(channel.pipeline(), cache);
        channel.pipeline().addBefore("frontend", "witness", new ChannelDuplexHandler() {
                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        escaped.add(cause);
                        ctx.fireExceptionCaught(cause);
                    }
                });
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(input));
            channel.runPendingTasks();
            channel.checkException();
            assertThat(escaped).as("exceptions that reached the pipeline").isEmpty();

            StringBuilder out = new StringBuilder();
            ByteBuf b;
            while ((b = channel.readOutbound()) != null) {
                out.append(b.toString(StandardCharsets.ISO_8859_1));
                b.release();
            }
            String answers = out.toString();
            if (!answers.isEmpty()) {
                assertThat(answers).startsWith("HTTP/1.1 ");
            }
            Matcher m = STATUS_LINE.matcher(answers);
            int count = 0;
            while (m.find()) {
                count++;
                int status = Integer.parseInt(m.group(1));
                assertThat(status).as("answer %d: %s", count, answers).isNotEqualTo(500).isBetween(100, 599);
            }
            assertThat(answers).doesNotContain("internal error");
            assertThat(count).as("answers for %d input bytes", input.length)
                    .isLessThanOrEqualTo(Math.max(1, countLineFeeds(input)));
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    private static int countLineFeeds(byte[] input) {
        int n = 0;
        for (byte b : input) {
            if (b == '\n') {
                n++;
            }
        }
        return n;
    }
}
