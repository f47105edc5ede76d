/**
 * The worker process: its settings (shared, and one record per role), the composition root that wires control,
 * registry and drain, and one {@link io.slipstream.worker.DataPlane} per role.
 */
package io.slipstream.worker;
