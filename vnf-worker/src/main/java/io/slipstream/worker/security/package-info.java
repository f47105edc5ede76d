/** The worker's mutual TLS: its reloadable material, the tunnel's Netty contexts and the control server's credentials. */
package io.slipstream.worker.security;
