/** The worker process: its settings and the composition root that wires control, registry and data plane. */
package io.slipstream.worker;
