/** Pieces shared by the providers and the runtime (envelope, breaker, metrics, submitter, pools); not API. */
package io.slipstream.worker.compression.internal;
