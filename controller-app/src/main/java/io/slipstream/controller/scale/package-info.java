/**
 * Autoscaling: the scaling policy (pure, injected clock) that turns load reports into a desired replica
 * count per role and site, and the {@link io.slipstream.controller.scale.ScaleTarget}s that make it so
 * (Kubernetes Deployments, or worker processes on this machine).
 */
package io.slipstream.controller.scale;
