/**
 * What the status page shows over time: the bounded one-second history of fleet figures with markers
 * ({@link io.slipstream.controller.status.StatusHistory}) and fleet events folded into lines an operator
 * can read ({@link io.slipstream.controller.status.EventDigest}). Pure: no I/O, time from an injected clock.
 */
package io.slipstream.controller.status;
