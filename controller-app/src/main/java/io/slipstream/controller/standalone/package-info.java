/** The standalone controller process (no ONOS): wiring, command line and HTTP API. */
package io.slipstream.controller.standalone;
