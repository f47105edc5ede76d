/**
 * The chaos suite (issue 9): real ZooKeeper, controller and worker JVMs, real sockets; each scenario breaks one part
 * of the running fleet under traffic, checks every byte delivered, and measures how the fleet recovers. Control-plane
 * scenarios and their helpers are the {@code Control*} classes; data-plane ones live beside them.
 */
package io.slipstream.e2e.chaos;
