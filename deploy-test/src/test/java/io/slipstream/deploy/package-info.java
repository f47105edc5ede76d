/**
 * Deployment tests: the container image (built with the local engine, run with Testcontainers), the Helm
 * chart {@code helm/slipstream} (real Helm through helm-java: lint, template, rendered-object checks,
 * values schema) and the kustomize manifests under {@code k8s/}, kept in step with the chart.
 */
package io.slipstream.deploy;
