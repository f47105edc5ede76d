package io.slipstream.controller.placement;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.ConfigValidator;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.config.WorkerConfigPlanner;
import io.slipstream.controller.fleet.FleetDirectory;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.MutableClock;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SteeringPlannerTest {

    private final FleetDirectory directory = new FleetDirectory(new MutableClock(), Duration.ofSeconds(10));
    private final List<WorkerRecord> records = new ArrayList<>();
    private final FleetPolicy policy = FleetPolicy.newBuilder()
            .addPolicies(FlowPolicy.newBuilder().setName("smb").setChain(ServiceChain.SERVICE_CHAIN_WANOPT))
            .addPolicies(FlowPolicy.newBuilder().setName("web").setIngressSite("a").setChain(ServiceChain.SERVICE_CHAIN_CACHE))
            .addPolicies(FlowPolicy.newBuilder().setName("rest").setChain(ServiceChain.SERVICE_CHAIN_BYPASS))
            .addSites(Site.newBuilder().setName("b").addPrefixes("198.19.0.0/16"))
            .setBucketCount(64)
            .build();

    private void add(String id, String role, String site, long capacity, Health health) {
        records.add(new WorkerRecord(id, role, site, "127.0.0.1:" + (9000 + records.size()), "127.0.0.1:1" + records.size(),
                "", capacity, List.of(), "t", role.equals("wanopt") ? "127.0.0.1:2" + records.size() : ""));
        directory.onMembership(records);
        directory.onHealth(id, health);
        directory.onConfigApplied(id, "digest-of-" + id);
    }

    @Test
    void plan_servingWorkerNotYetConfigured_isNotSteeredTo() {
        directory.onZooKeeper(true);
        add("ca1", "cache", "a", 100_000_000, Health.SERVING);
        add("ca2", "cache", "a", 100_000_000, Health.SERVING);
        directory.onConfigApplied("ca2", ""); // restarted: serving, but runs no configuration yet

        SteeringEntry web = entry(SteeringPlanner.plan(policy, directory.workers()), "web", "a");

        assertThat(web.getMembersList()).extracting(p -> p.getWorkerId()).containsExactly("ca1");
        directory.onConfigApplied("ca2", "digest-of-ca2");
        assertThat(entry(SteeringPlanner.plan(policy, directory.workers()), "web", "a").getMembersList())
                .extracting(p -> p.getWorkerId()).containsExactly("ca1", "ca2");
    }

    private static SteeringEntry entry(SteeringTable table, String policy, String site) {
        return table.getEntriesList().stream().filter(e -> e.getPolicy().equals(policy) && e.getSite().equals(site))
                .findFirst().orElseThrow();
    }

    @Test
    void plan_entryPerPolicyAndSite_onlyHealthyMembersOfTheFirstRole() {
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", 200_000_000, Health.SERVING);
        add("wa2", "wanopt", "a", 100_000_000, Health.SERVING);
        add("wa3", "wanopt", "a", 100_000_000, Health.DOWN);
        add("wb1", "wanopt", "b", 100_000_000, Health.SERVING);
        add("ca1", "cache", "a", 100_000_000, Health.SERVING);
        add("ga1", "gateway", "a", 100_000_000, Health.SERVING);

        SteeringTable table = SteeringPlanner.plan(policy, directory.workers());

        assertThat(table.getBucketCount()).isEqualTo(64);
        assertThat(table.getEntriesList()).extracting(e -> e.getPolicy() + "@" + e.getSite())
                .containsExactly("smb@a", "smb@b", "web@a");
        SteeringEntry smbA = entry(table, "smb", "a");
        assertThat(smbA.getMembersList()).extracting(p -> p.getWorkerId()).containsExactly("wa1", "wa2");
        assertThat(smbA.getMembers(0).getDataEndpoint()).as("steered endpoint").startsWith("127.0.0.1:2");
        assertThat(smbA.getMembers(0).getWeight()).isEqualTo(200);
        assertThat(smbA.getOwnersCount()).isEqualTo(64);
        long toBig = smbA.getOwnersList().stream().filter(o -> o == 0).count();
        assertThat(toBig).isBetween(36L, 53L);
        assertThat(entry(table, "web", "a").getMembersList()).extracting(p -> p.getWorkerId()).containsExactly("ca1");
    }

    @Test
    void plan_noHealthyMember_entryWithoutOwners() {
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", 100_000_000, Health.DOWN);
        add("ga1", "gateway", "a", 100_000_000, Health.SERVING);
        SteeringTable table = SteeringPlanner.plan(policy, directory.workers());
        assertThat(entry(table, "smb", "a").getOwnersCount()).isZero();
        assertThat(entry(table, "web", "a").getMembersCount()).isZero();
    }

    @Test
    void workerConfig_gatewayGetsAValidTable_wanoptGetsSites() {
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", 100_000_000, Health.SERVING);
        add("ga1", "gateway", "a", 100_000_000, Health.SERVING);
        Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(policy, directory.workers(), 3);
        WorkerConfig gateway = plan.get("ga1");
        assertThat(gateway.hasSteering()).isTrue();
        assertThat(ConfigValidator.validate(gateway, Role.ROLE_GATEWAY, "a")).isEmpty();
        assertThat(plan.get("wa1").hasSteering()).isFalse();
        assertThat(plan.get("wa1").getSitesList()).hasSize(1);
    }

    @Test
    void workerDeath_movesOnlyItsBuckets() {
        directory.onZooKeeper(true);
        for (int i = 1; i <= 4; i++) {
            add("wa" + i, "wanopt", "a", 100_000_000, Health.SERVING);
        }
        SteeringEntry before = entry(SteeringPlanner.plan(policy, directory.workers()), "smb", "a");
        directory.onHealth("wa2", Health.DOWN);
        SteeringEntry after = entry(SteeringPlanner.plan(policy, directory.workers()), "smb", "a");
        for (int b = 0; b < 64; b++) {
            String was = before.getMembers(before.getOwners(b)).getWorkerId();
            String now = after.getMembers(after.getOwners(b)).getWorkerId();
            if (!was.equals("wa2")) {
                assertThat(now).as("bucket %s", b).isEqualTo(was);
            } else {
                assertThat(now).isNotEqualTo("wa2");
            }
        }
    }

    @Test
    void chain_cacheAtTheIngressSite_getsTheSitesWanoptWorkersByBucket_othersNoChain() {
        FleetPolicy chained = FleetPolicy.newBuilder()
                .addPolicies(FlowPolicy.newBuilder().setName("web-b").setIngressSite("a")
                        .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT))
                .addPolicies(FlowPolicy.newBuilder().setName("smb").setChain(ServiceChain.SERVICE_CHAIN_WANOPT))
                .addSites(Site.newBuilder().setName("b").addPrefixes("198.19.0.0/16"))
                .setBucketCount(64).build();
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", 100_000_000, Health.SERVING);
        add("wa2", "wanopt", "a", 100_000_000, Health.SERVING);
        add("wa3", "wanopt", "a", 100_000_000, Health.DOWN);
        add("wb1", "wanopt", "b", 100_000_000, Health.SERVING);
        add("ca1", "cache", "a", 100_000_000, Health.SERVING);
        add("cb1", "cache", "b", 100_000_000, Health.SERVING);

        Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(chained, directory.workers(), 5);

        WorkerConfig cacheA = plan.get("ca1");
        assertThat(ConfigValidator.validate(cacheA, Role.ROLE_CACHE, "a")).isEmpty();
        assertThat(cacheA.getChain().getEntriesList()).singleElement().satisfies(e -> {
            assertThat(e.getPolicy()).isEqualTo("web-b");
            assertThat(e.getChain()).isEqualTo(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT);
            assertThat(e.getMembersList()).extracting(p -> p.getWorkerId()).containsExactly("wa1", "wa2");
            assertThat(e.getMembers(0).getDataEndpoint()).as("the steered endpoint").startsWith("127.0.0.1:2");
            assertThat(e.getOwnersCount()).isEqualTo(64);
            assertThat(e.getOwnersList()).contains(0, 1);
        });
        assertThat(plan.get("cb1").hasChain()).as("the policy enters at site a only").isFalse();
        assertThat(plan.get("wa1").hasChain()).isFalse();

        // A wanopt worker going down moves only its buckets; the last one gone leaves an entry without members
        directory.onHealth("wa1", Health.DOWN);
        SteeringEntry after = SteeringPlanner.chainHops(chained, directory.workers(), "a").getEntries(0);
        assertThat(after.getMembersList()).extracting(p -> p.getWorkerId()).containsExactly("wa2");
        directory.onHealth("wa2", Health.DOWN);
        SteeringEntry none = SteeringPlanner.chainHops(chained, directory.workers(), "a").getEntries(0);
        assertThat(none.getMembersCount()).isZero();
        assertThat(none.getOwnersCount()).isZero();
    }
}
