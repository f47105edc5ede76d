/**
 * The wanopt role: client connections at one site carried to their destination through a worker
 * at the peer site, over the tunnel, with deduplication and compression on the way.
 */
package io.slipstream.worker.wanopt;
