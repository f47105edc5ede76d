package io.slipstream.controller.config;

import io.slipstream.contract.Roles;
import io.slipstream.controller.placement.FleetMember;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Derives each worker's configuration from the fleet policy and the healthy fleet. Pure.
 *
 * <ul>
 *   <li>every worker gets the flow policies;</li>
 *   <li>wanopt workers get the compression settings and, as peers, the healthy wanopt workers of
 *       the other sites;</li>
 *   <li>cache workers get the cache settings with the healthy cache workers of their site as shard
 *       members (themselves included), so they agree on who owns which key;</li>
 *   <li>gateways get the steering table ({@link SteeringPlanner}): which worker serves each flow bucket.</li>
 * </ul>
 */
public final class WorkerConfigPlanner {

    private WorkerConfigPlanner() {}

    /** Desired configuration for every worker in {@code workers} (healthy or not), by id. */
    public static Map<String, WorkerConfig> plan(FleetPolicy policy, Collection<? extends FleetMember> workers, long generation) {
        List<FleetMember> healthy = new ArrayList<>();
        for (FleetMember w : workers) {
            if (w.healthy()) {
                healthy.add(w);
            }
        }
        healthy.sort(Comparator.comparing(FleetMember::id));
        Map<String, WorkerConfig> plan = new LinkedHashMap<>();
        SteeringTable steering = null;
        for (FleetMember w : workers) {
            WorkerConfig config = configFor(policy, w, healthy, generation);
            if (config.getRole() == Role.ROLE_GATEWAY) {
                if (steering == null) {
                    steering = SteeringPlanner.plan(policy, workers);
                }
                config = config.toBuilder().setSteering(steering).build();
            } else if (config.getRole() == Role.ROLE_CACHE) {
                SteeringTable chain = SteeringPlanner.chainHops(policy, workers, config.getSite());
                if (chain.getEntriesCount() > 0) {
                    config = config.toBuilder().setChain(chain).build();
                }
            }
            plan.put(w.id(), config);
        }
        return plan;
    }

    static WorkerConfig configFor(FleetPolicy policy, FleetMember worker, List<? extends FleetMember> healthy, long generation) {
        Role role = Roles.parse(worker.record().role());
        String site = worker.record().site();
        WorkerConfig.Builder config = WorkerConfig.newBuilder()
                .setGeneration(generation)
                .setRole(role)
                .setSite(site)
                .addAllPolicies(policy.getPoliciesList())
                .addAllSites(policy.getSitesList());
        if (role == Role.ROLE_WANOPT) {
            if (policy.hasCompression()) {
                config.setCompression(policy.getCompression());
            }
            for (FleetMember other : healthy) {
                if (other.record().role().equals(worker.record().role()) && !other.record().site().equals(site)) {
                    config.addPeers(peer(other));
                }
            }
        } else if (role == Role.ROLE_CACHE) {
            var cache = policy.getCache().toBuilder().clearShardMembers();
            for (FleetMember other : healthy) {
                if (other.record().role().equals(worker.record().role()) && other.record().site().equals(site)) {
                    cache.addShardMembers(peer(other));
                }
            }
            config.setCache(cache);
        }
        return config.build();
    }

    private static Peer peer(FleetMember w) {
        long megabytes = w.record().capacityBytesPerSecond() / 1_000_000;
        return Peer.newBuilder()
                .setWorkerId(w.id())
                .setSite(w.record().site())
                .setDataEndpoint(w.record().dataEndpoint().isEmpty()
                        ? w.record().controlEndpoint() : w.record().dataEndpoint())
                .setWeight((int) Math.max(1, Math.min(Integer.MAX_VALUE, megabytes)))
                .build();
    }
}
