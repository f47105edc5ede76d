package io.slipstream.worker.wanopt;

import io.slipstream.contract.steering.SiteMap;
import io.slipstream.proto.v1.Site;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Which peer site a steered connection goes to: the site of its destination in the pushed site map, unless that
 * is no site or this worker's own site. Pure and immutable; a new site map is a new decision.
 *
 * @param sites the pushed site map
 * @param ownSite this worker's site
 */
record SiteDecision(SiteMap sites, String ownSite) {

    /** Before the first configuration: no sites, so every destination is in none. */
    static SiteDecision none(String ownSite) {
        return new SiteDecision(new SiteMap(List.of()), ownSite);
    }

    /** The outcome of one decision; {@link #tag} is the metric tag value. */
    enum Outcome {
        /** The destination is at another site: carry the connection there. */
        ACCEPTED("accepted"),
        /** The destination is in no site of the map: no far site to optimise towards. */
        NO_SITE("no_site"),
        /** The destination is at this worker's own site: nothing to carry across the WAN. */
        OWN_SITE("own_site");

        private final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }

        String tag() {
            return tag;
        }
    }

    /** @param site the destination's site, {@code null} for {@link Outcome#NO_SITE} */
    record Decision(Outcome outcome, String site) {}

    /** @param host the destination, an address literal (IPv4 or IPv6) as the PROXY header carries it */
    Decision decide(String host) {
        Optional<String> site;
        try {
            site = sites.siteOf(InetAddress.getByName(host));
        } catch (UnknownHostException e) {
            site = Optional.empty(); // not reached for an address literal
        }
        if (site.isEmpty()) {
            return new Decision(Outcome.NO_SITE, null);
        }
        if (site.get().equals(ownSite)) {
            return new Decision(Outcome.OWN_SITE, site.get());
        }
        return new Decision(Outcome.ACCEPTED, site.get());
    }

    /** @throws IllegalArgumentException naming the site and prefix that does not parse */
    static SiteDecision of(List<Site> sites, String ownSite) {
        return new SiteDecision(new SiteMap(sites), ownSite);
    }
}
