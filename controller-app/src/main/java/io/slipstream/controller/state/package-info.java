/**
 * The standalone controller's durable state in ZooKeeper (fleet policy, scaling overrides: versioned
 * records with their audit fields and history) and the leader election among controllers.
 */
package io.slipstream.controller.state;
