/** An in-process compression card (queue depth, latency, injected faults) for tests and the demo. */
package io.slipstream.worker.compression.emulator;
