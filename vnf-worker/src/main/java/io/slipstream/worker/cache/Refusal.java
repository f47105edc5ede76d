package io.slipstream.worker.cache;

/**
 * A request the proxy answers itself with a short error: the status, the message sent as the body, and
 * whether the connection closes after it. What the pure checks ({@link RequestChecks},
 * {@link RequestTargets}, {@link PurgeRequest}) return instead of writing.
 */
record Refusal(int status, String message, boolean close) {
}
