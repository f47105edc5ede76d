/** The {@code slipstream bench compression} command and its deterministic corpus. */
package io.slipstream.worker.compression.bench;
