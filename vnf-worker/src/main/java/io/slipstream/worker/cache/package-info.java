/**
 * The cache role of a worker: an HTTP/1.1 caching proxy (reverse and forward) on Netty, acting on the
 * RFC 9111 decisions of {@link io.slipstream.worker.cache.policy}, with a Caffeine (W-TinyLFU) store of
 * pre-encoded responses, request collapsing, pooled keep-alive origin connections and purge.
 */
package io.slipstream.worker.cache;
