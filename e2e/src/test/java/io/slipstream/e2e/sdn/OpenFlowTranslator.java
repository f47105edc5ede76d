package io.slipstream.e2e.sdn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.onlab.packet.IpPrefix;
import org.onosproject.net.PortNumber;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.IndexTableId;
import org.onosproject.net.flow.TrafficSelector;
import org.onosproject.net.flow.TrafficTreatment;
import org.onosproject.net.flow.criteria.Criterion;
import org.onosproject.net.flow.criteria.EthCriterion;
import org.onosproject.net.flow.criteria.EthTypeCriterion;
import org.onosproject.net.flow.criteria.IPCriterion;
import org.onosproject.net.flow.criteria.IPProtocolCriterion;
import org.onosproject.net.flow.criteria.PortCriterion;
import org.onosproject.net.flow.criteria.TcpPortCriterion;
import org.onosproject.net.flow.criteria.UdpPortCriterion;
import org.onosproject.net.flow.instructions.Instruction;
import org.onosproject.net.flow.instructions.Instructions;
import org.onosproject.net.flow.instructions.L2ModificationInstruction;
import org.onosproject.net.flow.instructions.L3ModificationInstruction;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;

/**
 * Translates ONOS flow rules and groups into {@code ovs-ofctl -O OpenFlow13} flow and group
 * specifications, as ONOS's OpenFlow provider would put them on the wire: match fields from the
 * selector's criteria, apply-actions from the treatment, the rule's id as the cookie (so that a rule
 * can be removed by its id). Only what flow steering uses is supported; anything else is refused
 * with an error naming it, never silently dropped. Port numbers are OpenFlow port numbers.
 */
public final class OpenFlowTranslator {

    private OpenFlowTranslator() {
    }

    /** {@code table=..,priority=..,cookie=..,[timeouts,]match,actions=...} for {@code ovs-ofctl add-flow}. */
    public static String flow(FlowRule rule) {
        StringBuilder s = new StringBuilder();
        if (!(rule.table() instanceof IndexTableId)) {
            throw new IllegalArgumentException("table " + rule.table() + " of " + rule
                    + ": expected an OpenFlow table index");
        }
        s.append("table=").append(((IndexTableId) rule.table()).id())
                .append(",priority=").append(rule.priority())
                .append(",cookie=").append(cookie(rule));
        if (!rule.isPermanent() && rule.timeout() > 0) {
            s.append(",idle_timeout=").append(rule.timeout());
        }
        if (rule.hardTimeout() > 0) {
            s.append(",hard_timeout=").append(rule.hardTimeout());
        }
        String match = match(rule.selector());
        if (!match.isEmpty()) {
            s.append(',').append(match);
        }
        s.append(",actions=").append(actions(rule.treatment()));
        return s.toString();
    }

    /** The cookie that identifies the rule on the switch: its ONOS flow id. */
    public static String cookie(FlowRule rule) {
        return "0x" + Long.toHexString(rule.id().value());
    }

    /** {@code group_id=..,type=..,bucket=...} for {@code ovs-ofctl add-group / mod-group}. */
    public static String group(int groupId, GroupDescription.Type type, GroupBuckets buckets) {
        StringBuilder s = new StringBuilder("group_id=").append(Integer.toUnsignedString(groupId))
                .append(",type=").append(type.name().toLowerCase(Locale.ROOT));
        for (GroupBucket b : buckets.buckets()) {
            s.append(",bucket=");
            if (type == GroupDescription.Type.SELECT) {
                s.append("weight:").append(b.weight()).append(',');
            }
            if (type == GroupDescription.Type.FAILOVER && b.watchPort() != null) {
                s.append("watch_port:").append(port(b.watchPort())).append(',');
            }
            s.append("actions=").append(actions(b.treatment()));
        }
        return s.toString();
    }

    /** OpenFlow match fields, comma separated; the prerequisites (eth_type, ip_proto) come from the selector itself. */
    static String match(TrafficSelector selector) {
        List<String> fields = new ArrayList<>();
        for (Criterion c : selector.criteria()) {
            switch (c.type()) {
                case IN_PORT:
                    fields.add("in_port=" + port(((PortCriterion) c).port()));
                    break;
                case ETH_TYPE:
                    fields.add(String.format("dl_type=0x%04x", ((EthTypeCriterion) c).ethType().toShort() & 0xffff));
                    break;
                case ETH_DST:
                case ETH_DST_MASKED:
                case ETH_SRC:
                case ETH_SRC_MASKED: {
                    EthCriterion e = (EthCriterion) c;
                    String name = c.type().name().startsWith("ETH_DST") ? "dl_dst" : "dl_src";
                    fields.add(name + "=" + e.mac() + (e.mask() == null ? "" : "/" + e.mask()));
                    break;
                }
                case IP_PROTO:
                    fields.add("nw_proto=" + ((IPProtocolCriterion) c).protocol());
                    break;
                case IPV4_SRC:
                case IPV4_DST: {
                    IpPrefix p = ((IPCriterion) c).ip();
                    fields.add((c.type() == Criterion.Type.IPV4_SRC ? "nw_src=" : "nw_dst=")
                            + p.address() + "/" + p.prefixLength());
                    break;
                }
                case TCP_SRC:
                case TCP_SRC_MASKED:
                case TCP_DST:
                case TCP_DST_MASKED: {
                    TcpPortCriterion t = (TcpPortCriterion) c;
                    String name = c.type().name().startsWith("TCP_SRC") ? "tcp_src=" : "tcp_dst=";
                    fields.add(name + t.tcpPort().toInt() + (t.mask() == null ? "" : String.format("/0x%04x",
                            t.mask().toInt())));
                    break;
                }
                case UDP_SRC:
                case UDP_SRC_MASKED:
                case UDP_DST:
                case UDP_DST_MASKED: {
                    UdpPortCriterion u = (UdpPortCriterion) c;
                    String name = c.type().name().startsWith("UDP_SRC") ? "udp_src=" : "udp_dst=";
                    fields.add(name + u.udpPort().toInt() + (u.mask() == null ? "" : String.format("/0x%04x",
                            u.mask().toInt())));
                    break;
                }
                default:
                    throw new IllegalArgumentException("criterion " + c.type() + " (" + c
                            + ") is not supported by the test southbound; expected one of IN_PORT, ETH_TYPE, "
                            + "ETH_SRC/DST, IP_PROTO, IPV4_SRC/DST, TCP_SRC/DST, UDP_SRC/DST (masked or not)");
            }
        }
        return String.join(",", fields);
    }

    /** Apply-actions (immediate, then deferred instructions), then the table transition; {@code drop} if none. */
    static String actions(TrafficTreatment treatment) {
        List<String> actions = new ArrayList<>();
        if (treatment.clearedDeferred()) {
            actions.add("clear_actions");
        }
        List<Instruction> all = new ArrayList<>(treatment.immediate());
        all.addAll(treatment.deferred());
        for (Instruction i : all) {
            actions.add(action(i));
        }
        if (treatment.tableTransition() != null) {
            actions.add("goto_table:" + treatment.tableTransition().tableId());
        }
        return actions.isEmpty() ? "drop" : String.join(",", actions);
    }

    private static String action(Instruction i) {
        switch (i.type()) {
            case OUTPUT:
                return "output:" + port(((Instructions.OutputInstruction) i).port());
            case GROUP:
                return "group:" + Integer.toUnsignedString(((Instructions.GroupInstruction) i).groupId().id());
            case NOACTION:
                return "drop";
            case L2MODIFICATION: {
                L2ModificationInstruction l2 = (L2ModificationInstruction) i;
                switch (l2.subtype()) {
                    case ETH_DST:
                        return "set_field:" + ((L2ModificationInstruction.ModEtherInstruction) l2).mac() + "->eth_dst";
                    case ETH_SRC:
                        return "set_field:" + ((L2ModificationInstruction.ModEtherInstruction) l2).mac() + "->eth_src";
                    default:
                        break;
                }
                break;
            }
            case L3MODIFICATION: {
                L3ModificationInstruction l3 = (L3ModificationInstruction) i;
                switch (l3.subtype()) {
                    case IPV4_DST:
                        return "set_field:" + ((L3ModificationInstruction.ModIPInstruction) l3).ip() + "->ip_dst";
                    case IPV4_SRC:
                        return "set_field:" + ((L3ModificationInstruction.ModIPInstruction) l3).ip() + "->ip_src";
                    default:
                        break;
                }
                break;
            }
            default:
                break;
        }
        throw new IllegalArgumentException("instruction " + i + " is not supported by the test southbound; expected "
                + "OUTPUT, GROUP, NOACTION, L2MODIFICATION (ETH_SRC/DST) or L3MODIFICATION (IPV4_SRC/DST)");
    }

    /** An OpenFlow port: its number, or the name of a reserved port. */
    static String port(PortNumber p) {
        if (p.equals(PortNumber.IN_PORT)) {
            return "in_port";
        } else if (p.equals(PortNumber.LOCAL)) {
            return "LOCAL";
        } else if (p.equals(PortNumber.NORMAL)) {
            return "NORMAL";
        } else if (p.equals(PortNumber.FLOOD)) {
            return "FLOOD";
        } else if (p.equals(PortNumber.ALL)) {
            return "ALL";
        } else if (p.equals(PortNumber.CONTROLLER)) {
            return "CONTROLLER";
        } else if (p.isLogical()) {
            throw new IllegalArgumentException("logical port " + p + " is not supported by the test southbound");
        }
        return Long.toString(p.toLong());
    }
}
