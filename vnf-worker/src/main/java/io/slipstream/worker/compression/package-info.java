/** The compression SPI a provider implements: codecs, providers, engines, their exceptions. */
package io.slipstream.worker.compression;
