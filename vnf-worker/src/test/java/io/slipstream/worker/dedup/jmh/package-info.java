/** JMH benchmarks of chunking and fingerprinting (compiled with the tests, run by hand; see docs/dedup.md). */
package io.slipstream.worker.dedup.jmh;
