package io.slipstream.worker.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.contract.RendezvousHash;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.contract.steering.FlowKey;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SteeringSnapshotTest {

    static final int BUCKETS = 16;

    static Peer peer(String id, String endpoint) {
        return Peer.newBuilder().setWorkerId(id).setSite("a").setDataEndpoint(endpoint).setWeight(1).build();
    }

    static FlowPolicy policy(String name, ServiceChain chain, int port) {
        return FlowPolicy.newBuilder().setName(name).setChain(chain)
                .addDstPorts(PortRange.newBuilder().setFirst(port).setLast(port)).build();
    }

    /** Owners alternate between the two members bucket by bucket. */
    static SteeringEntry entry(String policy, ServiceChain chain, Peer... members) {
        SteeringEntry.Builder e = SteeringEntry.newBuilder().setPolicy(policy).setSite("a").setChain(chain);
        for (Peer p : members) {
            e.addMembers(p);
        }
        if (members.length > 0) {
            for (int b = 0; b < BUCKETS; b++) {
                e.addOwners(b % members.length);
            }
        }
        return e.build();
    }

    static WorkerConfig config(SteeringEntry... entries) {
        return WorkerConfig.newBuilder()
                .addPolicies(policy("web", ServiceChain.SERVICE_CHAIN_CACHE, 80))
                .addPolicies(policy("smb", ServiceChain.SERVICE_CHAIN_WANOPT, 445))
                .addPolicies(policy("ssh", ServiceChain.SERVICE_CHAIN_BYPASS, 22))
                .setSteering(SteeringTable.newBuilder().setBucketCount(BUCKETS).addAllEntries(java.util.List.of(entries)))
                .build();
    }

    static FlowKey flow(int srcPort, int dstPort, String site) throws Exception {
        return FlowKey.tcp(InetAddress.getByName("198.18.1.10"), srcPort, InetAddress.getByName("198.18.2.20"), dstPort,
                site);
    }

    final Peer w1 = peer("wan-1", "127.0.0.1:7001");
    final Peer w2 = peer("wan-2", "127.0.0.1:7002");

    @Test
    void decide_noPolicyMatches_bypassesAsNone() throws Exception {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1, w2)));
        SteeringSnapshot.Decision d = s.decide(flow(40000, 5432, "a"));
        assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.BYPASS);
        assertThat(d.policy()).isEqualTo("none");
    }

    @Test
    void decide_bypassPolicy_bypassesNamingThePolicy() throws Exception {
        SteeringSnapshot.Decision d = SteeringSnapshot.of(config()).decide(flow(40000, 22, "a"));
        assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.BYPASS);
        assertThat(d.policy()).isEqualTo("ssh");
        assertThat(d.chain()).isEqualTo("bypass");
    }

    @Test
    void decide_wanoptPolicy_steersToTheBucketOwner() throws Exception {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1, w2)));
        Map<String, Integer> seen = new HashMap<>();
        for (int port = 40000; port < 40200; port++) {
            FlowKey f = flow(port, 445, "a");
            SteeringSnapshot.Decision d = s.decide(f);
            assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.STEER);
            assertThat(d.chain()).isEqualTo("wanopt");
            Peer expected = FlowHash.bucket(f, BUCKETS) % 2 == 0 ? w1 : w2;
            assertThat(d.member()).isEqualTo(expected);
            assertThat(s.decide(f).member()).as("deterministic").isEqualTo(d.member());
            seen.merge(d.member().getWorkerId(), 1, Integer::sum);
        }
        assertThat(seen).containsOnlyKeys("wan-1", "wan-2");
    }

    @Test
    void decide_cachePolicy_readsHttpFirst() throws Exception {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("web", ServiceChain.SERVICE_CHAIN_CACHE, w1, w2)));
        SteeringSnapshot.Decision d = s.decide(flow(40000, 80, "a"));
        assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.HTTP);
        assertThat(d.entry().getMembersCount()).isEqualTo(2);
    }

    @Test
    void decide_entryWithoutOwners_refuses() throws Exception {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT)));
        SteeringSnapshot.Decision d = s.decide(flow(40000, 445, "a"));
        assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.REFUSE);
        assertThat(d.reason()).contains("no healthy wanopt worker", "smb", "site a");
    }

    @Test
    void decide_noEntryForTheIngressSite_refuses() throws Exception {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1)));
        SteeringSnapshot.Decision d = s.decide(flow(40000, 445, "b"));
        assertThat(d.action()).isEqualTo(SteeringSnapshot.Action.REFUSE);
        assertThat(d.reason()).contains("no steering entry", "site b");
    }

    @Test
    void decide_noTableYet_bypassPoliciesStillWork() throws Exception {
        WorkerConfig noTable = config().toBuilder().clearSteering().build();
        SteeringSnapshot s = SteeringSnapshot.of(noTable);
        assertThat(s.decide(flow(40000, 22, "a")).action()).isEqualTo(SteeringSnapshot.Action.BYPASS);
        assertThat(s.decide(flow(40000, 445, "a")).action()).isEqualTo(SteeringSnapshot.Action.REFUSE);
        assertThat(SteeringSnapshot.EMPTY.decide(flow(40000, 445, "a")).action())
                .isEqualTo(SteeringSnapshot.Action.BYPASS);
    }

    @Test
    void cacheOwner_isTheCacheWorkersRendezvousOwner() {
        SteeringEntry e = entry("web", ServiceChain.SERVICE_CHAIN_CACHE, w1, w2);
        for (int i = 0; i < 100; i++) {
            String key = "http://site/obj" + i;
            assertThat(SteeringSnapshot.cacheOwner(e, key))
                    .isEqualTo(RendezvousHash.owner(key, e.getMembersList(), Peer::getWorkerId, Peer::getWeight));
        }
    }

    @Test
    void of_ownerIndexOutOfRange_isRejectedNamingTheField() {
        SteeringEntry bad = entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1).toBuilder().setOwners(3, 7).build();
        assertThatThrownBy(() -> SteeringSnapshot.of(config(bad)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("steering.entries[0].owners[3]: 7");
    }

    @Test
    void of_ownerIndexAboveTwoToThe31_isRejectedNotReadAsNegative() {
        // uint32 4294967295 is -1 as a Java int: a signed check would pass it and fail later in getMembers(-1).
        SteeringEntry bad = entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1).toBuilder().setOwners(3, -1).build();
        assertThatThrownBy(() -> SteeringSnapshot.of(config(bad)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("steering.entries[0].owners[3]: 4294967295");
    }

    @Test
    void of_ownersNotOnePerBucket_isRejected() {
        SteeringEntry bad = entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1).toBuilder().addOwners(0).build();
        assertThatThrownBy(() -> SteeringSnapshot.of(config(bad)))
                .hasMessageContaining("expected: 0 or bucket_count = 16");
    }

    @Test
    void members_areTheTablesDistinctEndpoints() {
        SteeringSnapshot s = SteeringSnapshot.of(config(entry("smb", ServiceChain.SERVICE_CHAIN_WANOPT, w1, w2),
                entry("web", ServiceChain.SERVICE_CHAIN_CACHE, w1)));
        assertThat(s.members()).extracting(Peer::getDataEndpoint)
                .containsExactlyInAnyOrder("127.0.0.1:7001", "127.0.0.1:7002");
    }
}
