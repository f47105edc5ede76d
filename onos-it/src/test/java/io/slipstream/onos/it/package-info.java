/**
 * The ONOS app's packaging proof: Apache Karaf 4.2.9 with the real onos-api 2.7.0 bundles, the app's
 * {@code .oar} installed as ONOS installs one, and its components activated by test implementations
 * of the ONOS core services ({@link io.slipstream.onos.it.services}). Tests only.
 */
package io.slipstream.onos.it;
