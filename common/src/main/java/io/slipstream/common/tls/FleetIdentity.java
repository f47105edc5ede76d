package io.slipstream.common.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Who a fleet certificate names, read from its URI subject alternative name: a worker
 * ({@code urn:slipstream:worker:<site>:<id>}) or a controller ({@code urn:slipstream:controller:<name>}).
 * The identity, not the host name, is what the fleet checks: a worker's address changes, its
 * identity does not.
 */
public final class FleetIdentity {

    /** Prefix of the URI SAN that names a worker. */
    public static final String WORKER_PREFIX = "urn:slipstream:worker:";
    /** Prefix of the URI SAN that names a controller. */
    public static final String CONTROLLER_PREFIX = "urn:slipstream:controller:";
    private static final int URI_NAME = 6;

    private final boolean controller;
    private final String site;
    private final String name;

    private FleetIdentity(boolean controller, String site, String name) {
        this.controller = controller;
        this.site = site;
        this.name = name;
    }

    /** A worker's identity; neither part may be empty, the site may not contain ':'. */
    public static FleetIdentity worker(String site, String workerId) {
        if (site == null || site.isEmpty() || site.contains(":") || workerId == null || workerId.isEmpty()) {
            throw new IllegalArgumentException("worker identity: site " + site + ", id " + workerId
                    + " (expected: a non-empty site without ':' and a non-empty id)");
        }
        return new FleetIdentity(false, site, workerId);
    }

    /** A controller's identity. */
    public static FleetIdentity controller(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("controller identity: " + name + " (expected: a non-empty name)");
        }
        return new FleetIdentity(true, null, name);
    }

    /** Parses a URI SAN; {@code null} if it is not a fleet identity. */
    public static FleetIdentity parse(String uri) {
        if (uri == null) {
            return null;
        }
        if (uri.startsWith(CONTROLLER_PREFIX) && uri.length() > CONTROLLER_PREFIX.length()) {
            return new FleetIdentity(true, null, uri.substring(CONTROLLER_PREFIX.length()));
        }
        if (uri.startsWith(WORKER_PREFIX)) {
            String rest = uri.substring(WORKER_PREFIX.length());
            int colon = rest.indexOf(':');
            if (colon > 0 && colon < rest.length() - 1) {
                return new FleetIdentity(false, rest.substring(0, colon), rest.substring(colon + 1));
            }
        }
        return null;
    }

    /** The fleet identity a certificate names, or {@code null} if it names none (or more than one). */
    public static FleetIdentity of(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names == null) {
                return null;
            }
            FleetIdentity found = null;
            for (List<?> san : names) {
                if (Integer.valueOf(URI_NAME).equals(san.get(0)) && san.get(1) instanceof String) {
                    FleetIdentity id = parse((String) san.get(1));
                    if (id != null) {
                        if (found != null) {
                            return null;
                        }
                        found = id;
                    }
                }
            }
            return found;
        } catch (CertificateParsingException e) {
            return null;
        }
    }

    public boolean isController() {
        return controller;
    }

    public boolean isWorker() {
        return !controller;
    }

    /** The worker's site; {@code null} for a controller. */
    public String site() {
        return site;
    }

    /** The worker id or the controller's name. */
    public String name() {
        return name;
    }

    /** The URI SAN that carries this identity. */
    public String uri() {
        return controller ? CONTROLLER_PREFIX + name : WORKER_PREFIX + site + ":" + name;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FleetIdentity)) {
            return false;
        }
        FleetIdentity other = (FleetIdentity) o;
        return controller == other.controller && Objects.equals(site, other.site) && name.equals(other.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(controller, site, name);
    }

    @Override
    public String toString() {
        return uri();
    }
}
