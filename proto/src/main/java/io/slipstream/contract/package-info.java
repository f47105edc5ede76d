/**
 * What the controller and the workers must compute identically: the registration payload and
 * its ZooKeeper location, role names, configuration validation and the configuration digest.
 */
package io.slipstream.contract;
