/** The Intel QuickAssist provider, through qat-java, loaded only where QATzip and a device are present. */
package io.slipstream.worker.compression.qat;
