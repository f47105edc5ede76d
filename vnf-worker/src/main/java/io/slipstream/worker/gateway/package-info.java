/**
 * The gateway role's data plane, for clusters without an SDN fabric: listeners that accept client
 * connections, classify each by the pushed flow policies and splice it to the worker placement chose
 * (L4 by flow bucket, with a PROXY protocol v2 header for wanopt; L7 by cache key for cache chains),
 * over pre-opened back-end connections.
 */
package io.slipstream.worker.gateway;
