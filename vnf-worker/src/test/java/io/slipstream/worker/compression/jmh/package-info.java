/** JMH benchmarks of the compression providers per codec and level (compiled with the tests, run by hand). */
package io.slipstream.worker.compression.jmh;
