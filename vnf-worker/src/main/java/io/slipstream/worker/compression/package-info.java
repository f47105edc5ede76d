/** The compression SPI: providers, engines, their registry and the resilient hardware-to-software switch. */
package io.slipstream.worker.compression;
