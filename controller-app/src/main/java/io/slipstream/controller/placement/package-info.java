/**
 * Placement: which healthy worker serves which flow bucket of which policy at which site. Pure; shared
 * by the standalone controller (which programs gateways) and the ONOS app (which programs switches).
 * It sees workers as {@link io.slipstream.controller.placement.FleetMember}s and depends on no other
 * controller package.
 */
package io.slipstream.controller.placement;
