/** The {@code slipstream bench} commands (compression, wanopt, cache, gateway) and their JSON report rows. */
package io.slipstream.tools.bench;
