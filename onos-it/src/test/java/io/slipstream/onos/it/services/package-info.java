/**
 * The test-services bundle that OnosAppPackagingIT installs into Karaf: neutral implementations of
 * the ONOS core service interfaces the app references, and a shell command that reports the
 * Declarative Services state of a bundle's components. Compiled with the tests, packed into a
 * bundle by the test, loaded only inside Karaf.
 */
package io.slipstream.onos.it.services;
