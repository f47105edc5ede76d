/** Generated data and traffic for benches, the demo and tests: corpora, file-like streams, paced flows, a digesting sink. */
package io.slipstream.tools.workload;
