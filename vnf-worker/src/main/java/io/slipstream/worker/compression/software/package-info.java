/** The CPU provider: zstd-jni, lz4-java and the JDK's zlib. */
package io.slipstream.worker.compression.software;
