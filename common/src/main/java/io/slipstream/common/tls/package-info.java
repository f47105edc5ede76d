/**
 * Mutual TLS material of the fleet: certificate, key and CA from PEM files (or a Kubernetes Secret mounted as
 * files), reloaded when they change, and the fleet identities certificates carry as URI SANs.
 */
package io.slipstream.common.tls;
