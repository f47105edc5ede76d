/** Netty transport selection shared by the data-plane roles. */
package io.slipstream.worker.net;
