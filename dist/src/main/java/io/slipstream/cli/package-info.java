/** The {@code slipstream} command line: demo, worker, controller, zookeeper, bench and policy tools. */
package io.slipstream.cli;
