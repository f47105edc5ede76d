/** Worker JVMs started as local processes on this machine (demo, tests, the local scale target). */
package io.slipstream.controller.local;
