package io.slipstream.contract.steering;

import io.slipstream.proto.v1.Site;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Which site a destination address belongs to: the site with the longest matching prefix. */
public final class SiteMap {

    private final List<String> names = new ArrayList<>();
    private final List<Prefix> prefixes = new ArrayList<>();

    /**
     * @throws IllegalArgumentException naming the site and prefix that does not parse
     */
    public SiteMap(List<Site> sites) {
        for (int i = 0; i < sites.size(); i++) {
            Site site = sites.get(i);
            for (int j = 0; j < site.getPrefixesCount(); j++) {
                try {
                    prefixes.add(Prefix.parse(site.getPrefixes(j)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("sites[" + i + "].prefixes[" + j + "]: " + e.getMessage(), e);
                }
                names.add(site.getName());
            }
        }
    }

    /** The site of {@code address}, longest prefix first; empty when no site claims it. */
    public Optional<String> siteOf(InetAddress address) {
        byte[] bytes = address.getAddress();
        int best = -1;
        for (int i = 0; i < prefixes.size(); i++) {
            if (prefixes.get(i).contains(bytes) && (best < 0 || prefixes.get(i).length() > prefixes.get(best).length())) {
                best = i;
            }
        }
        return best < 0 ? Optional.empty() : Optional.of(names.get(best));
    }
}
