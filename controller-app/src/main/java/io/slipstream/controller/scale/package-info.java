/**
 * Autoscaling: the scaling policy (pure, injected clock) that turns load reports into a desired replica
 * count per role and site, its configuration section, the autoscaler loop that carries decisions out
 * make-before-break, and the {@link io.slipstream.controller.scale.ScaleTarget} interface its targets
 * implement (Kubernetes Deployments, or worker processes on this machine).
 */
package io.slipstream.controller.scale;
