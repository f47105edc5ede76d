/** Worker JVMs started as local processes on this machine (demo, tests) and the local-process scale target. */
package io.slipstream.controller.local;
