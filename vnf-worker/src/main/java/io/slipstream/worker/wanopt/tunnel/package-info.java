/** The tunnel between peer wanopt workers: versioned frames, streams multiplexed over persistent connections, credit flow control. */
package io.slipstream.worker.wanopt.tunnel;
