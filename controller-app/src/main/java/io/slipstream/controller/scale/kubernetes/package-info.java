/**
 * The Kubernetes scale target: scales a role's Deployment at a site through its scale subresource with
 * the fabric8 client, and marks scale-in victims with the pod-deletion-cost annotation. Everything that
 * touches fabric8 lives here, so the ONOS bundle can leave this package (and fabric8) out.
 */
package io.slipstream.controller.scale.kubernetes;
