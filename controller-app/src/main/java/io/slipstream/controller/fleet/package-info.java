/**
 * The controller's view of the fleet: ZooKeeper membership merged with gRPC health and load
 * streams ({@link io.slipstream.controller.fleet.FleetDirectory}, pure) and the I/O that feeds it.
 */
package io.slipstream.controller.fleet;
