package io.slipstream.worker.gateway;

import io.slipstream.contract.steering.FlowHash;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.contract.steering.PolicyClassifier;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.cache.CacheShards;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One pushed configuration as the gateway routes by it: the compiled policies and the steering table.
 * Immutable and pure (no I/O): {@link #decide} says where a flow goes, {@link #cacheOwner} which cache
 * worker owns an HTTP request's key. A new configuration is a new snapshot, swapped in atomically.
 */
public final class SteeringSnapshot {

    /** What happens to a connection. */
    public enum Action {
        /** Splice straight to the original destination (no policy matched, or the policy is bypass). */
        BYPASS,
        /** Hand the connection to {@link Decision#member()} with a PROXY v2 header (wanopt chain). */
        STEER,
        /** Read the HTTP request head, then hand it to the cache worker owning its key (cache chains). */
        HTTP,
        /** The policy steers the flow but nobody can take it: reset the client. */
        REFUSE
    }

    /**
     * Where one flow goes.
     *
     * @param policy the matching policy's name, {@code "none"} when none matched
     * @param chain the chain's short name ({@code bypass}, {@code wanopt}, {@code cache}, {@code cache+wanopt})
     * @param member the worker for {@link Action#STEER}, else {@code null}
     * @param entry the steering entry for {@link Action#HTTP}, else {@code null}
     * @param reason why for {@link Action#REFUSE}, else {@code null}
     */
    public record Decision(Action action, String policy, String chain, Peer member, SteeringEntry entry,
                           String reason) {
    }

    /** Before the first configuration: no policies, so everything is bypassed. */
    public static final SteeringSnapshot EMPTY = new SteeringSnapshot(PolicyClassifier.of(List.of()), List.of(),
            SteeringTable.getDefaultInstance());

    private final PolicyClassifier classifier;
    private final List<FlowPolicy> policies;
    private final int bucketCount;
    private final Map<String, SteeringEntry> entries = new HashMap<>();
    private final SteeringTable table;

    private SteeringSnapshot(PolicyClassifier classifier, List<FlowPolicy> policies, SteeringTable table) {
        this.classifier = classifier;
        this.policies = List.copyOf(policies);
        this.table = table;
        this.bucketCount = table.getBucketCount();
        for (SteeringEntry e : table.getEntriesList()) {
            entries.put(key(e.getPolicy(), e.getSite()), e);
        }
    }

    /**
     * The snapshot of a pushed configuration.
     *
     * @throws IllegalArgumentException naming the policy or table field that is not usable
     */
    public static SteeringSnapshot of(WorkerConfig config) {
        SteeringTable table = config.getSteering();
        if (table.getEntriesCount() > 0) {
            FlowHash.checkBucketCount(table.getBucketCount());
            for (int i = 0; i < table.getEntriesCount(); i++) {
                SteeringEntry e = table.getEntries(i);
                if (e.getOwnersCount() != 0 && e.getOwnersCount() != table.getBucketCount()) {
                    throw new IllegalArgumentException("steering.entries[" + i + "].owners: " + e.getOwnersCount()
                            + " (expected: 0 or bucket_count = " + table.getBucketCount() + ")");
                }
                for (int b = 0; b < e.getOwnersCount(); b++) {
                    if (Integer.toUnsignedLong(e.getOwners(b)) >= e.getMembersCount()) { // uint32, not negative
                        throw new IllegalArgumentException("steering.entries[" + i + "].owners[" + b + "]: "
                                + Integer.toUnsignedString(e.getOwners(b)) + " (expected: an index into " + e.getMembersCount() + " members)");
                    }
                }
            }
        }
        return new SteeringSnapshot(PolicyClassifier.of(config.getPoliciesList()), config.getPoliciesList(), table);
    }

    private static String key(String policy, String site) {
        return policy + '\n' + site;
    }

    /** The chain's short name, as in the policy JSON. */
    public static String chainName(ServiceChain chain) {
        switch (chain) {
            case SERVICE_CHAIN_WANOPT:
                return "wanopt";
            case SERVICE_CHAIN_CACHE:
                return "cache";
            case SERVICE_CHAIN_CACHE_WANOPT:
                return "cache+wanopt";
            default:
                return "bypass";
        }
    }

    /** Where {@code flow} goes: the first matching policy, then the owner of its bucket at its site. */
    public Decision decide(FlowKey flow) {
        int i = classifier.indexOf(flow);
        if (i < 0) {
            return new Decision(Action.BYPASS, "none", "bypass", null, null, null);
        }
        FlowPolicy policy = policies.get(i);
        String chain = chainName(policy.getChain());
        if (policy.getChain() != ServiceChain.SERVICE_CHAIN_WANOPT && policy.getChain() != ServiceChain.SERVICE_CHAIN_CACHE
                && policy.getChain() != ServiceChain.SERVICE_CHAIN_CACHE_WANOPT) {
            return new Decision(Action.BYPASS, policy.getName(), chain, null, null, null);
        }
        SteeringEntry entry = entries.get(key(policy.getName(), flow.ingressSite()));
        if (entry == null) {
            return refuse(policy, chain, "no steering entry for policy " + policy.getName() + " at site "
                    + flow.ingressSite());
        }
        if (entry.getOwnersCount() == 0 || entry.getMembersCount() == 0) {
            return refuse(policy, chain, "no healthy " + (chain.equals("wanopt") ? "wanopt" : "cache")
                    + " worker for policy " + policy.getName() + " at site " + flow.ingressSite());
        }
        if (policy.getChain() == ServiceChain.SERVICE_CHAIN_WANOPT) {
            Peer member = entry.getMembers(entry.getOwners(FlowHash.bucket(flow, bucketCount)));
            return new Decision(Action.STEER, policy.getName(), chain, member, null, null);
        }
        return new Decision(Action.HTTP, policy.getName(), chain, null, entry, null);
    }

    private static Decision refuse(FlowPolicy policy, String chain, String reason) {
        return new Decision(Action.REFUSE, policy.getName(), chain, null, null, reason);
    }

    /** The cache worker of {@code entry} that owns {@code cacheKey}, by the cache workers' own sharding. */
    public static Peer cacheOwner(SteeringEntry entry, String cacheKey) {
        return CacheShards.owner(cacheKey, entry.getMembersList());
    }

    /** Every member endpoint of the table (what the back-end pools keep connections to). */
    public List<Peer> members() {
        Map<String, Peer> byEndpoint = new HashMap<>();
        for (SteeringEntry e : table.getEntriesList()) {
            for (Peer p : e.getMembersList()) {
                byEndpoint.putIfAbsent(p.getDataEndpoint(), p);
            }
        }
        return List.copyOf(byEndpoint.values());
    }

    public int policies() {
        return policies.size();
    }

    public int entries() {
        return entries.size();
    }
}
