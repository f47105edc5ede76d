/**
 * The HTTP caching decisions of the cache worker (RFC 9111, RFC 5861) as pure functions of
 * (request, stored response, now): storability, freshness, age, reuse, validation, Vary and invalidation;
 * range requests (RFC 9110 §14, {@link io.slipstream.worker.cache.policy.ByteRanges}) and targeted
 * cache-control fields (RFC 9213, {@link io.slipstream.worker.cache.policy.TargetedCacheControl}).
 * No I/O and no Netty types; the proxy feeds in {@link io.slipstream.worker.cache.policy.RequestHead} /
 * {@link io.slipstream.worker.cache.policy.ResponseHead} and acts on the returned decisions.
 */
package io.slipstream.worker.cache.policy;
