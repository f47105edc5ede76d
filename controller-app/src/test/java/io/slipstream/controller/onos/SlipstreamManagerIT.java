package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.WorkerView;
import java.time.Duration;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.onosproject.cfg.ComponentConfigAdapter;
import org.onosproject.cluster.NodeId;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.flow.instructions.Instructions;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupKey;
import org.osgi.service.component.ComponentContext;

/**
 * The component activated with ONOS's test doubles against a real ZooKeeper (Curator TestingServer) and
 * workers with real gRPC control endpoints on loopback. No packet is sent anywhere: data addresses are
 * only looked up in the (test) host view.
 */
class SlipstreamManagerIT {

    static final DeviceId EDGE = DeviceId.deviceId("of:0000000000000001");
    static final ApplicationId APP = new DefaultApplicationId(7, SlipstreamManager.APP_NAME);
    static final GroupKey BULK = SteeringProgrammer.groupKey("bulk", EDGE);
    static final String POLICY = "{\"policies\":[{\"name\":\"bulk\",\"srcPrefixes\":[\"198.18.1.0/24\"],"
            + "\"dstPrefixes\":[\"198.18.2.0/24\"],\"protocol\":\"PROTOCOL_TCP\","
            + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}],\"bucketCount\":64}";

    private final ObjectMapper mapper = new ObjectMapper();
    private TestingServer zk;
    private CuratorFramework workersClient;
    private final List<FakeWorker> workers = new ArrayList<>();
    private SlipstreamManager manager;
    private OnosDoubles.FlowRules flows;
    private OnosDoubles.Groups groups;
    private OnosDoubles.Leadership leadership;
    private OnosDoubles.NetworkConfig netcfg;
    private OnosDoubles.Hosts hosts;
    private boolean active;

    @BeforeEach
    void setUp() throws Exception {
        zk = new TestingServer(true);
        workersClient = ZooKeeperClients.newClient(zk.getConnectString(), 5000);
        workersClient.start();
        manager = new SlipstreamManager();
        manager.coreService = new OnosDoubles.Core();
        manager.flowRuleService = flows = new OnosDoubles.FlowRules();
        manager.groupService = groups = new OnosDoubles.Groups();
        manager.hostService = hosts = new OnosDoubles.Hosts();
        manager.deviceService = new OnosDoubles.Devices(EDGE);
        manager.networkConfigRegistry = netcfg = new OnosDoubles.NetworkConfig();
        manager.leadershipService = leadership = new OnosDoubles.Leadership(OnosDoubles.LOCAL);
        manager.clusterService = new OnosDoubles.Cluster();
        manager.cfgService = new ComponentConfigAdapter();
        hosts.add("02:00:00:00:00:11", "198.18.0.11", EDGE, 11);
        hosts.add("02:00:00:00:00:12", "198.18.0.12", EDGE, 12);
        hosts.add("02:00:00:00:01:05", "198.18.1.5", EDGE, 1);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (active) {
            manager.deactivate();
        }
        for (FakeWorker w : workers) {
            w.close();
        }
        workersClient.close();
        zk.close();
    }

    private ObjectNode config(String edgeDevice) throws Exception {
        ObjectNode root = mapper.createObjectNode();
        root.put("zookeeper", zk.getConnectString());
        root.putArray("edgeDevices").addObject().put("device", edgeDevice).put("site", "a");
        root.set("policy", mapper.readTree(POLICY));
        return root;
    }

    private void activate() {
        manager.activate(context(Map.of()));
        active = true;
    }

    /** Component properties; zookeeperConnect points at the test's ZooKeeper, as an operator would set it. */
    private ComponentContext context(Map<String, Object> more) {
        Hashtable<String, Object> properties = new Hashtable<>(more);
        properties.put(OsgiPropertyConstants.ZOOKEEPER_CONNECT, zk.getConnectString());
        return (ComponentContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ComponentContext.class},
                (proxy, method, args) -> method.getName().equals("getProperties") ? properties : null);
    }

    private FakeWorker worker(String id, String ip) throws Exception {
        FakeWorker w = FakeWorker.start(workersClient, id, "wanopt", "a", ip, 100_000_000L);
        workers.add(w);
        return w;
    }

    private Set<Long> bucketPorts() {
        List<GroupBucket> buckets = groups.buckets.get(BULK) == null ? List.of() : groups.buckets.get(BULK).buckets();
        return buckets.stream().map(b -> b.treatment().allInstructions().stream()
                .filter(i -> i.type() == org.onosproject.net.flow.instructions.Instruction.Type.OUTPUT)
                .map(i -> ((Instructions.OutputInstruction) i).port().toLong()).findFirst().orElse(-1L))
                .collect(Collectors.toSet());
    }

    private int weightOfFirstBucket() {
        return groups.buckets.get(BULK) == null ? -1 : groups.buckets.get(BULK).buckets().get(0).weight();
    }

    private void awaitServing(int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.workers().stream()
                .filter(w -> w.health() == Health.SERVING).count() == n);
    }

    @Test
    void activate_leaderWithPolicyAndWorkers_installsSelectGroupAndForwardRules() throws Exception {
        worker("w1", "198.18.0.11");
        worker("w2", "198.18.0.12");
        netcfg.set(APP, config(EDGE.toString()));

        activate();

        assertThat(netcfg.hasFactories()).isTrue();
        awaitServing(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L, 12L)));
        int weights = groups.buckets.get(BULK).buckets().stream().mapToInt(GroupBucket::weight).sum();
        assertThat(weights).isEqualTo(64);
        assertThat(flows.installed).anySatisfy(r -> {
            assertThat(r.priority()).isEqualTo(SteeringProgrammer.policyPriority(0));
            assertThat(r.treatment().allInstructions()).containsExactly(Instructions.createGroup(
                    new org.onosproject.core.GroupId(groups.groups.get(BULK).givenGroupId())));
        });
        assertThat(flows.installed).anySatisfy(r -> assertThat(r.priority()).isEqualTo(SteeringProgrammer.PRIORITY_RETURN));
        assertThat(manager.placement().getEntriesList()).hasSize(1);
        assertThat(manager.isLeader()).isTrue();
    }

    @Test
    void workerDies_groupLosesItsBucketWithinOneSecondOfTheBrokenStream() throws Exception {
        worker("w1", "198.18.0.11");
        FakeWorker w2 = worker("w2", "198.18.0.12");
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        awaitServing(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L, 12L)));
        int updatesBefore = groups.bucketUpdateNanos.size();

        long killedAt = System.nanoTime();
        w2.kill();

        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(5))
                .until(() -> bucketPorts().equals(Set.of(11L)));
        long updatedAt = groups.bucketUpdateNanos.get(groups.bucketUpdateNanos.size() - 1);
        long millis = TimeUnit.NANOSECONDS.toMillis(updatedAt - killedAt);
        System.out.printf("slipstream.onos: group update %d ms after the worker died (%d updates before)%n",
                millis, updatesBefore);
        assertThat(groups.bucketUpdateNanos.size()).isGreaterThan(updatesBefore);
        assertThat(millis).isLessThan(1000);
        WorkerView dead = manager.workers().stream().filter(w -> w.id().equals("w2")).findFirst().orElseThrow();
        assertThat(dead.health()).isEqualTo(Health.DOWN);
    }

    @Test
    void leadershipLost_stopsProgrammingAndKeepsRulesForTheNextLeader() throws Exception {
        worker("w1", "198.18.0.11");
        FakeWorker w2 = worker("w2", "198.18.0.12");
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        awaitServing(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L, 12L)));

        leadership.change(new NodeId("onos-2"), SlipstreamManager.APP_NAME);
        await().atMost(Duration.ofSeconds(5)).until(() -> !manager.isLeader() && manager.workers().isEmpty());
        int rulesAfterLoss = flows.installed.size();
        int updates = groups.bucketUpdateNanos.size();
        w2.kill();
        netcfg.set(APP, config(EDGE.toString()).put("zookeeper", zk.getConnectString()));

        // Nothing is reprogrammed by a follower: the group still has both buckets.
        assertThat(bucketPorts()).isEqualTo(Set.of(11L, 12L));
        assertThat(groups.bucketUpdateNanos).hasSize(updates);
        assertThat(flows.installed).hasSize(rulesAfterLoss);
        assertThat(flows.removedById).isEmpty();

        leadership.change(OnosDoubles.LOCAL, SlipstreamManager.APP_NAME);
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.isLeader() && bucketPorts().equals(Set.of(11L)));
    }

    @Test
    void deactivate_removesEveryRuleAndGroupAndUnregisters() throws Exception {
        worker("w1", "198.18.0.11");
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        awaitServing(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> groups.groups.containsKey(BULK));

        manager.deactivate();
        active = false;

        assertThat(flows.removedById).extracting(ApplicationId::name).containsExactly(SlipstreamManager.APP_NAME);
        assertThat(flows.installed).isEmpty();
        assertThat(groups.groups).isEmpty();
        assertThat(groups.removed).contains(BULK);
        assertThat(netcfg.hasFactories()).isFalse();
        assertThat(netcfg.listenerCount()).isZero();
        assertThat(leadership.listenerCount()).isZero();
        assertThat(leadership.withdrawn).containsExactly(SlipstreamManager.APP_NAME);
    }

    @Test
    void invalidNetworkConfig_isIgnoredAndNothingIsInstalled() throws Exception {
        worker("w1", "198.18.0.11");
        ObjectNode bad = config(EDGE.toString());
        ((ObjectNode) bad.get("edgeDevices").get(0)).put("site", "");
        bad.put("zookeper", "typo:2181");
        netcfg.set(APP, bad);

        activate();
        awaitServing(1);

        SlipstreamConfig parsed = netcfg.getConfig(APP, SlipstreamConfig.class);
        assertThat(parsed.isValid()).isFalse();
        assertThat(parsed.errors()).anyMatch(e -> e.startsWith("slipstream.edgeDevices[0].site:"))
                .anyMatch(e -> e.startsWith("slipstream.zookeper: unknown field"));
        assertThat(manager.policy().getPoliciesCount()).isZero();
        assertThat(groups.groups).isEmpty();
        assertThat(flows.installed).isEmpty();
    }

    @Test
    void unknownEdgeDevice_nothingInstalledAndTheProblemIsReported() throws Exception {
        worker("w1", "198.18.0.11");
        netcfg.set(APP, config("of:00000000000000ff"));
        activate();
        awaitServing(1);

        await().atMost(Duration.ofSeconds(5)).until(() -> manager.program().problems().stream()
                .anyMatch(p -> p.contains("of:00000000000000ff") && p.contains("unknown to ONOS")));
        assertThat(groups.groups).isEmpty();
        assertThat(flows.installed).isEmpty();
    }

    @Test
    void applyPolicy_badPolicy_rejectedWithPathsAndPolicyInForceUnchanged() throws Exception {
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        await().atMost(Duration.ofSeconds(5)).until(() -> manager.policy().getPoliciesCount() == 1);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> manager.applyPolicy(
                "{\"policies\":[{\"name\":\"x\",\"chain\":\"SERVICE_CHAIN_WANOPT\",\"srcPrefixes\":[\"10.0.0.0/40\"]}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("$.policies[0].srcPrefixes[0]");
        assertThat(manager.policy().getPolicies(0).getName()).isEqualTo("bulk");

        manager.applyPolicy("{\"policies\":[{\"name\":\"web\",\"dstPorts\":[{\"first\":80,\"last\":80}],"
                + "\"protocol\":\"PROTOCOL_TCP\",\"chain\":\"SERVICE_CHAIN_CACHE\"}]}");
        assertThat(manager.policy().getPolicies(0).getName()).isEqualTo("web");
        assertThat(netcfg.stored().get("policy").get("policies").get(0).get("name").asText()).isEqualTo("web");
        assertThat(netcfg.stored().get("edgeDevices")).hasSize(1);
    }

    @Test
    void workerJoins_getsABucketWithoutAnyTimer() throws Exception {
        worker("w1", "198.18.0.11");
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L)));

        worker("w2", "198.18.0.12");

        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L, 12L)));
    }

    @Test
    void everyWorkerDown_groupAndForwardRulesRemovedSoFlowsPassUnsteered() throws Exception {
        FakeWorker w1 = worker("w1", "198.18.0.11");
        netcfg.set(APP, config(EDGE.toString()));
        activate();
        await().atMost(Duration.ofSeconds(5)).until(() -> bucketPorts().equals(Set.of(11L)));

        w1.kill();

        await().atMost(Duration.ofSeconds(1)).until(() -> groups.groups.isEmpty());
        assertThat(groups.removed).contains(BULK);
        assertThat(flows.installed).noneMatch(r -> r.priority() == SteeringProgrammer.policyPriority(0));
        assertThat(manager.program().problems()).anyMatch(p -> p.contains("no healthy worker"));
    }

    @Test
    void modified_bucketCountProperty_usedWhenThePolicySaysZero() throws Exception {
        worker("w1", "198.18.0.11");
        ObjectNode cfg = config(EDGE.toString());
        ((ObjectNode) cfg.get("policy")).remove("bucketCount");
        netcfg.set(APP, cfg);
        activate();
        await().atMost(Duration.ofSeconds(5)).until(() -> weightOfFirstBucket() == 256);

        manager.modified(context(Map.of(OsgiPropertyConstants.BUCKET_COUNT, 16)));

        // Only the weight changes: the bucket is the same worker, so this checks weights are compared too.
        await().atMost(Duration.ofSeconds(5)).until(() -> manager.placement().getBucketCount() == 16
                && weightOfFirstBucket() == 16);
        manager.modified(context(Map.of(OsgiPropertyConstants.BUCKET_COUNT, 15)));
        assertThat(manager.placement().getBucketCount()).as("not a power of two: kept").isEqualTo(16);
    }
}
