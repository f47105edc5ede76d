package io.slipstream.e2e.sdn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.onlab.packet.Ethernet;
import org.onlab.packet.IPv4;
import org.onlab.packet.IpPrefix;
import org.onlab.packet.MacAddress;
import org.onlab.packet.TpPort;
import org.onlab.packet.VlanId;
import org.junit.jupiter.api.Test;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.core.GroupId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.PortNumber;
import org.onosproject.net.flow.DefaultFlowRule;
import org.onosproject.net.flow.DefaultTrafficSelector;
import org.onosproject.net.flow.DefaultTrafficTreatment;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.TrafficSelector;
import org.onosproject.net.flow.TrafficTreatment;
import org.onosproject.net.group.DefaultGroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;

class OpenFlowTranslatorTest {

    private static final DeviceId DEVICE = DeviceId.deviceId("of:000000000000000a");

    private static FlowRule rule(int priority, TrafficSelector.Builder s, TrafficTreatment.Builder t) {
        return DefaultFlowRule.builder().forDevice(DEVICE).fromApp(new DefaultApplicationId(7, "test"))
                .withPriority(priority).withSelector(s.build()).withTreatment(t.build()).makePermanent().build();
    }

    @Test
    void flow_policyRuleToGroup_matchesPrefixesProtocolAndMaskedPort() {
        FlowRule r = rule(40000, DefaultTrafficSelector.builder()
                        .matchEthType(Ethernet.TYPE_IPV4)
                        .matchIPSrc(IpPrefix.valueOf("198.18.0.0/24"))
                        .matchIPDst(IpPrefix.valueOf("198.18.0.100/32"))
                        .matchIPProtocol(IPv4.PROTOCOL_TCP)
                        .matchTcpDstMasked(TpPort.tpPort(5000), TpPort.tpPort(0xfff8)),
                DefaultTrafficTreatment.builder().group(new GroupId(0x5a000001)));

        assertThat(OpenFlowTranslator.flow(r)).isEqualTo("table=0,priority=40000,cookie="
                + OpenFlowTranslator.cookie(r) + ",dl_type=0x0800,nw_proto=6,nw_src=198.18.0.0/24,"
                + "nw_dst=198.18.0.100/32,tcp_dst=5000/0xfff8,actions=group:1509949441");
        assertThat(OpenFlowTranslator.cookie(r)).isEqualTo("0x" + Long.toHexString(r.id().value()));
    }

    @Test
    void flow_returnPathRule_rewritesMacAndOutputsToPort() {
        FlowRule r = rule(50000, DefaultTrafficSelector.builder()
                        .matchInPort(PortNumber.portNumber(2))
                        .matchEthType(Ethernet.TYPE_IPV4)
                        .matchIPProtocol(IPv4.PROTOCOL_TCP)
                        .matchTcpSrc(TpPort.tpPort(5001)),
                DefaultTrafficTreatment.builder().setEthDst(MacAddress.valueOf("02:00:00:00:00:01"))
                        .setOutput(PortNumber.portNumber(1)));

        assertThat(OpenFlowTranslator.flow(r)).endsWith(",in_port=2,dl_type=0x0800,nw_proto=6,tcp_src=5001,"
                + "actions=set_field:02:00:00:00:00:01->eth_dst,output:1");
    }

    @Test
    void flow_reservedPortsAndEmptyTreatment_areNamedOrDropped() {
        assertThat(OpenFlowTranslator.flow(rule(49000, DefaultTrafficSelector.builder(),
                DefaultTrafficTreatment.builder().setOutput(PortNumber.NORMAL)))).endsWith(",actions=output:NORMAL");
        assertThat(OpenFlowTranslator.flow(rule(10, DefaultTrafficSelector.builder(),
                DefaultTrafficTreatment.builder()))).endsWith(",actions=drop");
    }

    @Test
    void group_select_weightedBucketsInOrder() {
        GroupBuckets buckets = new GroupBuckets(List.of(
                DefaultGroupBucket.createSelectGroupBucket(DefaultTrafficTreatment.builder()
                        .setEthDst(MacAddress.valueOf("02:00:00:00:00:0b")).setOutput(PortNumber.portNumber(2))
                        .build(), (short) 3),
                DefaultGroupBucket.createSelectGroupBucket(DefaultTrafficTreatment.builder()
                        .setEthDst(MacAddress.valueOf("02:00:00:00:00:0c")).setOutput(PortNumber.portNumber(3))
                        .build(), (short) 1)));

        assertThat(OpenFlowTranslator.group(0x5a000001, GroupDescription.Type.SELECT, buckets))
                .isEqualTo("group_id=1509949441,type=select,"
                        + "bucket=weight:3,actions=set_field:02:00:00:00:00:0B->eth_dst,output:2,"
                        + "bucket=weight:1,actions=set_field:02:00:00:00:00:0C->eth_dst,output:3");
    }

    @Test
    void flow_unsupportedCriterion_isRefusedByName() {
        FlowRule r = rule(1, DefaultTrafficSelector.builder().matchVlanId(VlanId.vlanId((short) 10)),
                DefaultTrafficTreatment.builder().drop());

        assertThatThrownBy(() -> OpenFlowTranslator.flow(r)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("VLAN_VID").hasMessageContaining("not supported");
    }
}
