/**
 * Deduplication core of the WAN optimizer: content-defined chunking (FastCDC with a Gear rolling hash),
 * keyed chunk fingerprints, and the bounded per-peer-pair chunk stores (receiver) and sent indexes (sender).
 * Pure classes, no I/O; see docs/dedup.md.
 */
package io.slipstream.worker.dedup;
