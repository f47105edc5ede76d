/** Implementation details of the compression SPI (software codecs, envelope, breaker, submitter); not API. */
package io.slipstream.worker.compression.internal;
