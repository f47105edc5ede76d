package io.slipstream.worker.cache;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder with the proxy's limits, stricter where it is lenient: a request with both
 * {@code Transfer-Encoding: chunked} and {@code Content-Length} is a classic smuggling vector (RFC 9112
 * §6.3: "ought to be handled as an error"), so it fails instead of having its Content-Length dropped.
 * What Netty already rejects as a failed message: over-long request line ({@code TooLongHttpLineException})
 * or header block ({@code TooLongHttpHeaderException}), several different Content-Length values, an
 * invalid Content-Length, invalid characters in field names or values, and invalid methods/versions.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

    StrictRequestDecoder(int maxInitialLineLength, int maxHeaderSize) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLineLength)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(64 * 1024)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false));
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        throw new IllegalArgumentException("both Transfer-Encoding and Content-Length (expected: one of them)");
    }
}
