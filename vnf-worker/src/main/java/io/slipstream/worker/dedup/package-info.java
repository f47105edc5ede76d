/**
 * Deduplication core of the WAN optimizer: content-defined chunking (FastCDC with a Gear rolling hash),
 * keyed chunk fingerprints, and the bounded per-peer-pair chunk stores (receiver) and sent indexes (sender).
 * The chunker and fingerprints are pure; the only I/O is the stores' own files ({@link
 * io.slipstream.worker.dedup.DiskChunkStore}, {@link io.slipstream.worker.dedup.StoreIdentity}); no network.
 * See docs/dedup.md.
 */
package io.slipstream.worker.dedup;
