package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.RequestHead;
import java.util.List;

/**
 * The request being answered on one client connection (one at a time, in order): what the frontend read
 * of it, for {@link CacheLookup} and {@link ClientResponses}. One per connection, reset by the frontend for
 * each request; only touched on the connection's event loop.
 */
final class Exchange {

    /** Whether the connection stays open after this response. */
    boolean keepAlive;
    boolean http10;
    boolean headOnly;
    /** Whether a shard member sent the request (it is not passed on to another). */
    boolean fromPeer;
    /** The request in the policy's model once built (null on the hit fast path and before). */
    RequestHead head;
    /** The GET's Range and If-Range field lines (empty when it has no Range, or is not a GET). */
    List<String> rangeLines = List.of();
    List<String> ifRangeLines = List.of();
}
