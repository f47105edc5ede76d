/** Test networks on loopback: the WAN emulator (rate, delay, queue) and free ports above the ephemeral range. */
package io.slipstream.tools.net;
