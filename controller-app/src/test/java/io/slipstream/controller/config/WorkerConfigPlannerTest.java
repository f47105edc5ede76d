package io.slipstream.controller.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.ConfigValidator;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.fleet.FleetDirectory;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.MutableClock;
import io.slipstream.proto.v1.CacheSettings;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.WorkerConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigPlannerTest {

    private final FleetDirectory directory = new FleetDirectory(new MutableClock(), Duration.ofSeconds(10));
    private final FleetPolicy policy = FleetPolicy.newBuilder()
            .addPolicies(FlowPolicy.newBuilder().setName("web").setChain(ServiceChain.SERVICE_CHAIN_CACHE))
            .setCache(CacheSettings.newBuilder().setMaxBytes(1 << 20))
            .build();

    private void add(String id, String role, String site, boolean healthy) {
        directory.onMembership(union(new WorkerRecord(id, role, site, "127.0.0.1:" + (9000 + directory.workers().size()),
                "", "", 250_000_000L, List.of(), "t")));
        directory.onHealth(id, healthy ? Health.SERVING : Health.DOWN);
    }

    private List<WorkerRecord> union(WorkerRecord extra) {
        List<WorkerRecord> all = new java.util.ArrayList<>();
        directory.workers().forEach(v -> all.add(v.record()));
        all.add(extra);
        return all;
    }

    @Test
    void plan_wanopt_peersAreHealthyWanoptOfOtherSites() {
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", true);
        add("wb1", "wanopt", "b", true);
        add("wb2", "wanopt", "b", false);
        add("ca1", "cache", "a", true);
        Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(policy, directory.workers(), 7);
        assertThat(plan.get("wa1").getPeersList()).extracting(Peer::getWorkerId).containsExactly("wb1");
        assertThat(plan.get("wa1").getPeers(0).getWeight()).isEqualTo(250);
        assertThat(plan.get("wb1").getPeersList()).extracting(Peer::getWorkerId).containsExactly("wa1");
        assertThat(plan.get("wa1").getGeneration()).isEqualTo(7);
        assertThat(plan.get("wa1").getPoliciesList()).isEqualTo(policy.getPoliciesList());
    }

    @Test
    void plan_cache_shardMembersAreHealthyCachesOfSameSiteInIdOrder() {
        directory.onZooKeeper(true);
        add("c2", "cache", "a", true);
        add("c1", "cache", "a", true);
        add("c3", "cache", "a", false);
        add("cb", "cache", "b", true);
        Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(policy, directory.workers(), 1);
        assertThat(plan.get("c1").getCache().getShardMembersList()).extracting(Peer::getWorkerId)
                .containsExactly("c1", "c2");
        assertThat(plan.get("c2").getCache()).isEqualTo(plan.get("c1").getCache());
        assertThat(plan.get("c1").getCache().getMaxBytes()).isEqualTo(1 << 20);
        assertThat(plan.get("cb").getCache().getShardMembersList()).extracting(Peer::getWorkerId).containsExactly("cb");
    }

    @Test
    void plan_everyConfig_passesTheWorkersOwnValidation() {
        directory.onZooKeeper(true);
        add("wa1", "wanopt", "a", true);
        add("wb1", "wanopt", "b", true);
        add("c1", "cache", "a", true);
        add("g1", "gateway", "a", true);
        Map<String, WorkerConfig> plan = WorkerConfigPlanner.plan(policy, directory.workers(), 1);
        plan.forEach((id, config) -> {
            var view = directory.get(id);
            Role role = io.slipstream.contract.Roles.parse(view.record().role());
            assertThat(ConfigValidator.validate(config, role, view.record().site())).as(id).isEmpty();
        });
    }
}
