/**
 * The ONOS application: {@link io.slipstream.controller.onos.SlipstreamManager} (composition root run
 * by ONOS), the pure translation of placement into flow rules and SELECT groups
 * ({@link io.slipstream.controller.onos.SteeringProgrammer}), the network configuration
 * ({@link io.slipstream.controller.onos.SlipstreamConfig}), the REST resource and the CLI commands.
 */
package io.slipstream.controller.onos;
