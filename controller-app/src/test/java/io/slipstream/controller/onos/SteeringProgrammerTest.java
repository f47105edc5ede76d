package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.onlab.packet.IpAddress;
import org.onlab.packet.IpPrefix;
import org.onlab.packet.MacAddress;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.net.ConnectPoint;
import org.onosproject.net.DeviceId;
import org.onosproject.net.PortNumber;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.criteria.Criterion;
import org.onosproject.net.flow.criteria.IPCriterion;
import org.onosproject.net.flow.criteria.PortCriterion;
import org.onosproject.net.flow.criteria.TcpPortCriterion;
import org.onosproject.net.flow.instructions.Instruction;
import org.onosproject.net.flow.instructions.Instructions;
import org.onosproject.net.flow.instructions.L2ModificationInstruction;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupDescription;

class SteeringProgrammerTest {

    static final ApplicationId APP = new DefaultApplicationId(7, SlipstreamManager.APP_NAME);
    static final DeviceId EDGE_A = DeviceId.deviceId("of:0000000000000001");
    static final DeviceId EDGE_B = DeviceId.deviceId("of:0000000000000002");

    static final FleetPolicy POLICY = FleetPolicies.parse("{\"policies\":["
            + "{\"name\":\"backup-bypass\",\"srcPrefixes\":[\"198.18.1.9/32\"],\"chain\":\"SERVICE_CHAIN_BYPASS\"},"
            + "{\"name\":\"bulk\",\"srcPrefixes\":[\"198.18.1.0/24\"],\"dstPrefixes\":[\"198.18.2.0/24\"],"
            + "\"protocol\":\"PROTOCOL_TCP\",\"dstPorts\":[{\"first\":445,\"last\":445},{\"first\":8000,\"last\":8003}],"
            + "\"chain\":\"SERVICE_CHAIN_WANOPT\"},"
            + "{\"name\":\"web\",\"dstPorts\":[{\"first\":80,\"last\":80}],\"protocol\":\"PROTOCOL_TCP\","
            + "\"chain\":\"SERVICE_CHAIN_CACHE\"}]}");

    /** A network view from a list of endpoints. */
    static final class View implements SteeringProgrammer.NetworkView {
        final List<SteeringProgrammer.Endpoint> endpoints = new ArrayList<>();
        final List<DeviceId> devices = new ArrayList<>(List.of(EDGE_A, EDGE_B));

        View host(String ip, String mac, DeviceId device, long port) {
            endpoints.add(new SteeringProgrammer.Endpoint(IpAddress.valueOf(ip), MacAddress.valueOf(mac),
                    new ConnectPoint(device, PortNumber.portNumber(port))));
            return this;
        }

        @Override
        public boolean deviceKnown(DeviceId device) {
            return devices.contains(device);
        }

        @Override
        public List<SteeringProgrammer.Endpoint> hostsByIp(IpAddress ip) {
            return endpoints.stream().filter(e -> e.ip().equals(ip)).collect(Collectors.toList());
        }

        @Override
        public List<SteeringProgrammer.Endpoint> hostsAt(DeviceId device) {
            return endpoints.stream().filter(e -> e.location().deviceId().equals(device)).collect(Collectors.toList());
        }
    }

    static View network() {
        return new View()
                .host("198.18.0.11", "02:00:00:00:00:11", EDGE_A, 11)   // wanopt w1
                .host("198.18.0.12", "02:00:00:00:00:12", EDGE_A, 12)   // wanopt w2
                .host("198.18.1.5", "02:00:00:00:01:05", EDGE_A, 1)     // client
                .host("198.18.2.7", "02:00:00:00:02:07", EDGE_A, 2);    // server (not a client of "bulk")
    }

    /** bulk at site a: w1 owns 3 buckets, w2 owns 1. */
    static SteeringTable table(int w1Buckets, int w2Buckets) {
        SteeringEntry.Builder e = SteeringEntry.newBuilder().setPolicy("bulk").setSite("a")
                .setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                .addMembers(Peer.newBuilder().setWorkerId("w1").setSite("a").setDataEndpoint("198.18.0.11:9000"))
                .addMembers(Peer.newBuilder().setWorkerId("w2").setSite("a").setDataEndpoint("198.18.0.12:9000"));
        for (int i = 0; i < w1Buckets; i++) {
            e.addOwners(0);
        }
        for (int i = 0; i < w2Buckets; i++) {
            e.addOwners(1);
        }
        return SteeringTable.newBuilder().setBucketCount(w1Buckets + w2Buckets).addEntries(e).build();
    }

    static List<FlowRule> rulesAt(SteeringProgrammer.Program p, int priority) {
        return p.rules().stream().filter(r -> r.priority() == priority).collect(Collectors.toList());
    }

    @Test
    void program_steeredPolicy_selectGroupWeightedByOwnedBuckets() {
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"), network());

        assertThat(p.groups()).hasSize(1);
        GroupDescription g = p.groups().get(0);
        assertThat(g.type()).isEqualTo(GroupDescription.Type.SELECT);
        assertThat(g.deviceId()).isEqualTo(EDGE_A);
        assertThat(g.appCookie()).isEqualTo(SteeringProgrammer.groupKey("bulk", EDGE_A));
        assertThat(g.givenGroupId()).isNotNull();
        List<GroupBucket> buckets = g.buckets().buckets();
        assertThat(buckets).extracting(GroupBucket::weight).containsExactly((short) 3, (short) 1);
        GroupBucket first = buckets.get(0);
        assertThat(first.treatment().allInstructions()).anySatisfy(i -> assertThat(i)
                .isEqualTo(Instructions.modL2Dst(MacAddress.valueOf("02:00:00:00:00:11"))));
        assertThat(first.treatment().allInstructions()).anySatisfy(i -> assertThat(i)
                .isEqualTo(Instructions.createOutput(PortNumber.portNumber(11))));
    }

    @Test
    void program_steeredPolicy_forwardRulesMatchPolicyAndPointToGroup() {
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"), network());
        int groupId = p.groups().get(0).givenGroupId();

        List<FlowRule> forward = rulesAt(p, SteeringProgrammer.policyPriority(1));
        // one source prefix x one destination prefix x (445 exact + 8000..8003 as one masked match)
        assertThat(forward).hasSize(2);
        for (FlowRule r : forward) {
            assertThat(r.deviceId()).isEqualTo(EDGE_A);
            assertThat(r.appId()).isEqualTo(APP.id());
            assertThat(r.isPermanent()).isTrue();
            assertThat(((IPCriterion) r.selector().getCriterion(Criterion.Type.IPV4_SRC)).ip())
                    .isEqualTo(IpPrefix.valueOf("198.18.1.0/24"));
            assertThat(((IPCriterion) r.selector().getCriterion(Criterion.Type.IPV4_DST)).ip())
                    .isEqualTo(IpPrefix.valueOf("198.18.2.0/24"));
            assertThat(r.treatment().allInstructions()).containsExactly(
                    Instructions.createGroup(new org.onosproject.core.GroupId(groupId)));
        }
        assertThat(forward).extracting(r -> {
            TcpPortCriterion c = (TcpPortCriterion) r.selector().getCriterion(Criterion.Type.TCP_DST_MASKED);
            return c.tcpPort().toInt() + "/" + Integer.toHexString(c.mask().toInt());
        }).containsExactlyInAnyOrder("445/ffff", "8000/fffc");
    }

    @Test
    void program_policyOrder_earlierPolicyHasHigherPriorityAndBypassShadowsLaterSteering() {
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"), network());

        List<FlowRule> bypass = rulesAt(p, SteeringProgrammer.policyPriority(0));
        assertThat(bypass).hasSize(1);
        assertThat(bypass.get(0).treatment().allInstructions())
                .containsExactly(Instructions.createOutput(PortNumber.NORMAL));
        assertThat(SteeringProgrammer.policyPriority(0)).isGreaterThan(SteeringProgrammer.policyPriority(1));
        // "web" (cache) has no entry in the table: not steered, and said so
        assertThat(rulesAt(p, SteeringProgrammer.policyPriority(2))).isEmpty();
        assertThat(p.problems()).anyMatch(s -> s.contains("policy web") && s.contains("no healthy worker"));
    }

    @Test
    void program_returnPath_fromWorkerPortsToClientOnly() {
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"), network());

        List<FlowRule> back = rulesAt(p, SteeringProgrammer.PRIORITY_RETURN);
        // 2 workers x 1 client (198.18.2.7 is outside the source prefix) x 2 port matches
        assertThat(back).hasSize(4);
        for (FlowRule r : back) {
            long inPort = ((PortCriterion) r.selector().getCriterion(Criterion.Type.IN_PORT)).port().toLong();
            assertThat(inPort).isIn(11L, 12L);
            assertThat(((IPCriterion) r.selector().getCriterion(Criterion.Type.IPV4_DST)).ip())
                    .isEqualTo(IpPrefix.valueOf("198.18.1.5/32"));
            assertThat(r.selector().getCriterion(Criterion.Type.TCP_SRC_MASKED)).isNotNull();
            assertThat(r.treatment().allInstructions()).contains(Instructions.createOutput(PortNumber.portNumber(1)));
        }
        List<FlowRule> egress = rulesAt(p, SteeringProgrammer.PRIORITY_WORKER_EGRESS);
        assertThat(egress).hasSize(2);
        assertThat(egress).allSatisfy(r -> assertThat(r.treatment().allInstructions())
                .containsExactly(Instructions.createOutput(PortNumber.NORMAL)));
    }

    @Test
    void program_workerLeavesPlacement_groupKeepsIdAndLosesItsBucket() {
        SteeringProgrammer.Program before = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"),
                network());
        SteeringProgrammer.Program after = SteeringProgrammer.program(APP, POLICY, table(4, 0), Map.of(EDGE_A, "a"),
                network());

        assertThat(after.groups().get(0).givenGroupId()).isEqualTo(before.groups().get(0).givenGroupId());
        assertThat(after.groups().get(0).buckets().buckets()).hasSize(1);
        List<Instruction> only = after.groups().get(0).buckets().buckets().get(0).treatment().allInstructions();
        assertThat(only).contains(Instructions.createOutput(PortNumber.portNumber(11)));
        assertThat(only).anySatisfy(i -> assertThat(((L2ModificationInstruction.ModEtherInstruction) i).mac())
                .isEqualTo(MacAddress.valueOf("02:00:00:00:00:11")));
    }

    @Test
    void program_unknownEdgeDevice_nothingInstalledAndProblemNamed() {
        DeviceId ghost = DeviceId.deviceId("of:00000000000000ff");
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(ghost, "a"), network());

        assertThat(p.groups()).isEmpty();
        assertThat(p.rules()).isEmpty();
        assertThat(p.problems()).anyMatch(s -> s.contains(ghost.toString()) && s.contains("unknown to ONOS"));
    }

    @Test
    void program_workerNotLocatedOrOnOtherDevice_noBucketForIt() {
        View view = new View()
                .host("198.18.0.11", "02:00:00:00:00:11", EDGE_B, 11)  // w1 on the other switch
                .host("198.18.1.5", "02:00:00:00:01:05", EDGE_A, 1);   // w2 unknown to ONOS
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_A, "a"), view);

        assertThat(p.groups()).isEmpty();
        assertThat(rulesAt(p, SteeringProgrammer.policyPriority(1))).isEmpty();
        assertThat(p.problems()).anyMatch(s -> s.contains("w1") && s.contains("not to edge device"));
        assertThat(p.problems()).anyMatch(s -> s.contains("w2") && s.contains("no host with 198.18.0.12"));
    }

    @Test
    void program_deviceOfAnotherSite_getsNothingForSiteAPolicies() {
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, POLICY, table(3, 1), Map.of(EDGE_B, "b"), network());

        assertThat(p.groups()).isEmpty();
        assertThat(p.rules()).isEmpty();
    }

    @Test
    void program_ipv6Prefixes_steeredWithIpv6MatchesAndReturnPath() {
        FleetPolicy v6 = FleetPolicies.parse("{\"policies\":[{\"name\":\"bulk\",\"srcPrefixes\":[\"2001:db8:1::/48\"],"
                + "\"dstPrefixes\":[\"2001:db8:2::/48\",\"198.18.2.0/24\"],\"protocol\":\"PROTOCOL_TCP\","
                + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}]}");
        View view = network().host("2001:db8:1::5", "02:00:00:00:01:06", EDGE_A, 6);
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, v6, table(3, 1), Map.of(EDGE_A, "a"), view);

        // the IPv6 source pairs with the IPv6 destination only; the IPv4 destination has no IPv4 source to pair with
        List<FlowRule> forward = rulesAt(p, SteeringProgrammer.policyPriority(0));
        assertThat(forward).hasSize(1);
        FlowRule r = forward.get(0);
        assertThat(((IPCriterion) r.selector().getCriterion(Criterion.Type.IPV6_SRC)).ip())
                .isEqualTo(IpPrefix.valueOf("2001:db8:1::/48"));
        assertThat(((IPCriterion) r.selector().getCriterion(Criterion.Type.IPV6_DST)).ip())
                .isEqualTo(IpPrefix.valueOf("2001:db8:2::/48"));
        assertThat(r.selector().getCriterion(Criterion.Type.IPV4_SRC)).isNull();
        // replies reach the IPv6 client only (the IPv4 client is outside the source prefix)
        List<FlowRule> back = rulesAt(p, SteeringProgrammer.PRIORITY_RETURN);
        assertThat(back).hasSize(2).allSatisfy(b -> assertThat(((IPCriterion) b.selector()
                .getCriterion(Criterion.Type.IPV6_DST)).ip()).isEqualTo(IpPrefix.valueOf("2001:db8:1::5/128")));
        assertThat(p.problems()).isEmpty();
    }

    @Test
    void program_policyWithoutPrefixes_rulesForBothFamilies() {
        FleetPolicy any = FleetPolicies.parse("{\"policies\":[{\"name\":\"bulk\",\"protocol\":\"PROTOCOL_TCP\","
                + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}]}");
        SteeringProgrammer.Program p = SteeringProgrammer.program(APP, any, table(3, 1), Map.of(EDGE_A, "a"), network());

        assertThat(rulesAt(p, SteeringProgrammer.policyPriority(0)))
                .extracting(r -> ((org.onosproject.net.flow.criteria.EthTypeCriterion) r.selector()
                        .getCriterion(Criterion.Type.ETH_TYPE)).ethType().toShort())
                .containsExactlyInAnyOrder(org.onlab.packet.Ethernet.TYPE_IPV4, org.onlab.packet.Ethernet.TYPE_IPV6);
    }
}
