package io.slipstream.controller.placement;

import io.slipstream.contract.Roles;
import io.slipstream.contract.steering.BucketPlacement;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * Computes the steering table from the fleet policy and the fleet: for every policy that is not
 * {@code bypass} and every site where the policy applies, the healthy workers of the chain's first role at
 * that site and the owner of each flow bucket among them ({@link BucketPlacement}, weight = capacity).
 * Pure and deterministic: the same inputs give the same table in every process.
 */
public final class SteeringPlanner {

    private SteeringPlanner() {
    }

    /** The role that receives a chain's flows first, or {@code null} for bypass. */
    public static Role firstRole(ServiceChain chain) {
        switch (chain) {
            case SERVICE_CHAIN_WANOPT:
                return Role.ROLE_WANOPT;
            case SERVICE_CHAIN_CACHE:
            case SERVICE_CHAIN_CACHE_WANOPT:
                return Role.ROLE_CACHE;
            default:
                return null;
        }
    }

    /** The bucket count a policy asks for (0 means {@link FlowHash#DEFAULT_BUCKETS}). */
    public static int bucketCount(FleetPolicy policy) {
        return policy.getBucketCount() == 0 ? FlowHash.DEFAULT_BUCKETS : policy.getBucketCount();
    }

    public static SteeringTable plan(FleetPolicy policy, Collection<? extends FleetMember> workers) {
        return plan(policy, workers, BucketPlacement.DEFAULT_LOAD_FACTOR);
    }

    /**
     * @param workers every known worker; only healthy, non-draining ones receive buckets
     */
    public static SteeringTable plan(FleetPolicy policy, Collection<? extends FleetMember> workers, double loadFactor) {
        int buckets = bucketCount(policy);
        TreeSet<String> sites = new TreeSet<>();
        for (FleetMember w : workers) {
            sites.add(w.record().site());
        }
        SteeringTable.Builder table = SteeringTable.newBuilder().setBucketCount(buckets);
        for (FlowPolicy p : policy.getPoliciesList()) {
            Role role = firstRole(p.getChain());
            if (role == null) {
                continue;
            }
            for (String site : sites) {
                if (!p.getIngressSite().isEmpty() && !p.getIngressSite().equals(site)) {
                    continue;
                }
                table.addEntries(entry(p, site, role, workers, buckets, loadFactor));
            }
        }
        return table.build();
    }

    /**
     * The second hop of the {@code cache+wanopt} chain for cache workers at {@code site}: for each such policy
     * entering there, the site's wanopt workers and the bucket owners among them (buckets of the origin, placed as
     * a wanopt policy's flow buckets are). Empty when no such policy enters at {@code site}.
     *
     * @param workers every known worker; only healthy, non-draining wanopt workers at {@code site} receive buckets
     */
    public static SteeringTable chainHops(FleetPolicy policy, Collection<? extends FleetMember> workers, String site) {
        int buckets = bucketCount(policy);
        SteeringTable.Builder table = SteeringTable.newBuilder().setBucketCount(buckets);
        for (FlowPolicy p : policy.getPoliciesList()) {
            if (p.getChain() != ServiceChain.SERVICE_CHAIN_CACHE_WANOPT
                    || !p.getIngressSite().isEmpty() && !p.getIngressSite().equals(site)) {
                continue;
            }
            table.addEntries(entry(p, site, Role.ROLE_WANOPT, workers, buckets, BucketPlacement.DEFAULT_LOAD_FACTOR));
        }
        return table.build();
    }

    private static SteeringEntry entry(FlowPolicy p, String site, Role role, Collection<? extends FleetMember> workers,
            int buckets, double loadFactor) {
        List<FleetMember> members = new ArrayList<>();
        for (FleetMember w : workers) {
            if (w.steerable() && w.record().site().equals(site) && Roles.parse(w.record().role()) == role) {
                members.add(w);
            }
        }
        members.sort(Comparator.comparing(FleetMember::id));
        SteeringEntry.Builder entry = SteeringEntry.newBuilder()
                .setPolicy(p.getName())
                .setSite(site)
                .setChain(p.getChain());
        List<BucketPlacement.Member> placementMembers = new ArrayList<>();
        for (FleetMember w : members) {
            Peer peer = member(w);
            entry.addMembers(peer);
            placementMembers.add(new BucketPlacement.Member(w.id(), peer.getWeight()));
        }
        for (int owner : BucketPlacement.assign(buckets, placementMembers, loadFactor)) {
            entry.addOwners(owner);
        }
        return entry.build();
    }

    /** A worker as a steering member: its steered endpoint (else its data endpoint), weight = capacity in MB/s. */
    public static Peer member(FleetMember w) {
        String endpoint = !w.record().steeredEndpoint().isEmpty() ? w.record().steeredEndpoint()
                : !w.record().dataEndpoint().isEmpty() ? w.record().dataEndpoint() : w.record().controlEndpoint();
        long megabytes = w.record().capacityBytesPerSecond() / 1_000_000;
        return Peer.newBuilder()
                .setWorkerId(w.id())
                .setSite(w.record().site())
                .setDataEndpoint(endpoint)
                .setWeight((int) Math.max(1, Math.min(Integer.MAX_VALUE, megabytes)))
                .build();
    }
}
