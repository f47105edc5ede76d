package io.slipstream.worker.cache;

import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.contract.steering.PolicyClassifier;
import io.slipstream.contract.steering.SiteMap;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How a cache worker reaches an origin: directly, or through a wanopt worker of its own site when a
 * {@code cache+wanopt} policy covers the origin and the origin is at another site (the chain's second hop,
 * docs/steering.md). Pure and immutable: a new configuration is a new instance.
 *
 * <p>A policy covers an origin by its destination prefixes, ports and ingress site (this worker's site); its
 * source prefixes name the clients, not the cache, so they do not count here. The wanopt worker is the owner
 * of the origin's bucket in the pushed chain table, the site's other wanopt workers follow as fallbacks.
 */
public final class ChainRoutes {

    /** A configuration with no chain: every origin is fetched directly. */
    public static final ChainRoutes NONE = new ChainRoutes("", new SiteMap(List.of()), PolicyClassifier.of(List.of()),
            Map.of(), 1);

    /** Where one fetch goes. */
    public sealed interface Route permits Direct, Tunnel, Refused {}

    /**
     * Fetch directly.
     *
     * @param bypass a chain policy covers the origin but no wanopt worker of this site serves it, and the policy
     *               says bypass
     * @param policy the chain policy when {@code bypass}, else {@code null}
     */
    public record Direct(boolean bypass, String policy) implements Route {}

    /**
     * Fetch through a wanopt worker: connect to {@code hops.get(0)} (then the next on failure), send a PROXY v2
     * header naming {@code origin}, then the request.
     *
     * @param origin the origin's address, as the header carries it
     * @param bypassWhenNoHop no hop answers: fetch directly ({@code peerUnavailable: bypass}), else refuse
     */
    public record Tunnel(String policy, String site, InetSocketAddress origin, List<HostPort> hops,
            boolean bypassWhenNoHop) implements Route {

        /** This route with the hops in {@code last} after the others (each part in its order). */
        public Tunnel withHopsLast(java.util.Set<HostPort> last) {
            List<HostPort> first = new ArrayList<>(hops.size());
            List<HostPort> after = new ArrayList<>();
            for (HostPort h : hops) {
                (last.contains(h) ? after : first).add(h);
            }
            first.addAll(after);
            return new Tunnel(policy, site, origin, List.copyOf(first), bypassWhenNoHop);
        }
    }

    /** Refuse the fetch (502): a chain policy with {@code peerUnavailable: fail-fast} and no wanopt worker. */
    public record Refused(String policy, String reason) implements Route {}

    private static final Direct DIRECT = new Direct(false, null);

    private final String ownSite;
    private final SiteMap sites;
    /** The chain policies entering at this site, source prefixes cleared. */
    private final PolicyClassifier chainPolicies;
    /** Hops of each chain policy, by name. */
    private final Map<String, SteeringEntry> hops;
    private final int bucketCount;
    /** Every wanopt worker of every entry. */
    private final Set<HostPort> allHops;

    private ChainRoutes(String ownSite, SiteMap sites, PolicyClassifier chainPolicies, Map<String, SteeringEntry> hops,
            int bucketCount) {
        this.ownSite = ownSite;
        this.sites = sites;
        this.chainPolicies = chainPolicies;
        this.hops = hops;
        this.bucketCount = bucketCount;
        Set<HostPort> all = new HashSet<>();
        for (SteeringEntry e : hops.values()) {
            for (int i = 0; i < e.getMembersCount(); i++) {
                all.add(HostPort.parse(e.getMembers(i).getDataEndpoint()));
            }
        }
        this.allHops = Set.copyOf(all);
    }

    /**
     * The routes a pushed configuration asks for.
     *
     * @throws IllegalArgumentException naming a prefix that does not parse (the controller validated it)
     */
    public static ChainRoutes of(WorkerConfig config) {
        List<FlowPolicy> chained = new ArrayList<>();
        for (FlowPolicy p : config.getPoliciesList()) {
            if (p.getChain() == ServiceChain.SERVICE_CHAIN_CACHE_WANOPT
                    && (p.getIngressSite().isEmpty() || p.getIngressSite().equals(config.getSite()))) {
                chained.add(p.toBuilder().clearSrcPrefixes().build());
            }
        }
        if (chained.isEmpty()) {
            return NONE;
        }
        SteeringTable table = config.getChain();
        Map<String, SteeringEntry> hops = new HashMap<>();
        for (SteeringEntry e : table.getEntriesList()) {
            hops.put(e.getPolicy(), e);
        }
        int buckets = table.getBucketCount() == 0 ? FlowHash.DEFAULT_BUCKETS : table.getBucketCount();
        return new ChainRoutes(config.getSite(), new SiteMap(config.getSitesList()), PolicyClassifier.of(chained),
                Map.copyOf(hops), FlowHash.checkBucketCount(buckets));
    }

    /** Whether {@code hop} is one of the wanopt workers of any chain policy. */
    public boolean usesHop(HostPort hop) {
        return allHops.contains(hop);
    }

    /** Whether any chain policy enters at this site. */
    public boolean any() {
        return chainPolicies.size() > 0;
    }

    /**
     * The route to {@code origin}. Resolves a host name (the JVM's cache; the connection would resolve it too).
     */
    public Route route(HostPort origin) {
        if (!any()) {
            return DIRECT;
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(origin.host());
        } catch (UnknownHostException e) {
            return DIRECT; // the direct connection reports the name that does not resolve
        }
        FlowKey flow = FlowKey.tcp(address, 0, address, origin.port(), ownSite);
        Optional<FlowPolicy> policy = chainPolicies.classify(flow);
        if (policy.isEmpty()) {
            return DIRECT;
        }
        Optional<String> site = sites.siteOf(address);
        if (site.isEmpty() || site.get().equals(ownSite)) {
            return DIRECT; // nothing to carry across the WAN (the wanopt worker would refuse it too)
        }
        FlowPolicy p = policy.get();
        boolean bypass = p.getPeerUnavailable() != PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST;
        SteeringEntry entry = hops.get(p.getName());
        if (entry == null || entry.getMembersCount() == 0) {
            if (bypass) {
                return new Direct(true, p.getName());
            }
            return new Refused(p.getName(), "no wanopt worker at site " + ownSite + " for policy " + p.getName()
                    + " (chain cache+wanopt, peerUnavailable fail-fast)");
        }
        return new Tunnel(p.getName(), site.get(), new InetSocketAddress(address, origin.port()),
                hopsFor(entry, origin), bypass);
    }

    /** The owner of the origin's bucket first, then the entry's other members in order after it. */
    private List<HostPort> hopsFor(SteeringEntry entry, HostPort origin) {
        int members = entry.getMembersCount();
        int owner = 0;
        if (entry.getOwnersCount() == bucketCount) {
            owner = entry.getOwners(FlowHash.bucket(origin.host() + ":" + origin.port(), bucketCount));
            if (owner < 0 || owner >= members) {
                owner = 0;
            }
        }
        List<HostPort> list = new ArrayList<>(members);
        for (int i = 0; i < members; i++) {
            list.add(HostPort.parse(entry.getMembers((owner + i) % members).getDataEndpoint()));
        }
        return List.copyOf(list);
    }
}
