/** What the data planes compress through: the provider registry, its config and the resilient hardware-to-software switch. */
package io.slipstream.worker.compression.runtime;
