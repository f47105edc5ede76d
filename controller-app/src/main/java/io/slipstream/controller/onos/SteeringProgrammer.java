package io.slipstream.controller.onos;

import io.slipstream.common.HostPort;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Protocol;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.onlab.packet.Ethernet;
import org.onlab.packet.IPv4;
import org.onlab.packet.IpAddress;
import org.onlab.packet.IpPrefix;
import org.onlab.packet.MacAddress;
import org.onlab.packet.TpPort;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.GroupId;
import org.onosproject.net.ConnectPoint;
import org.onosproject.net.DeviceId;
import org.onosproject.net.PortNumber;
import org.onosproject.net.flow.DefaultFlowRule;
import org.onosproject.net.flow.DefaultTrafficSelector;
import org.onosproject.net.flow.DefaultTrafficTreatment;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.TrafficSelector;
import org.onosproject.net.flow.TrafficTreatment;
import org.onosproject.net.group.DefaultGroupBucket;
import org.onosproject.net.group.DefaultGroupDescription;
import org.onosproject.net.group.DefaultGroupKey;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;
import org.onosproject.net.group.GroupKey;

/**
 * Translates the fleet policy and the steering table into what the edge switches run. Pure: no ONOS
 * service is called; the network is seen through a {@link NetworkView}.
 *
 * <p>For each edge device (configured with its site) and each policy that applies at that site:
 * <ul>
 *   <li><b>Steered policy</b> (wanopt, cache, cache+wanopt): an OpenFlow 1.3 SELECT group whose
 *       buckets rewrite the destination MAC to a worker's and output to the worker's port, one bucket
 *       per placement member attached to this device, weight = flow buckets it owns; and forward
 *       rules matching the policy (source and destination prefixes, IP protocol, destination
 *       port ranges expanded into masked matches) whose treatment is that group, at
 *       {@link #policyPriority(int)} so that an earlier policy wins.</li>
 *   <li><b>Return path</b>: for each worker port of the group and each known host at this device
 *       inside the policy's source prefixes (the clients), a rule matching the policy's reply
 *       traffic from that worker port to that client (source port in the policy's ports) that
 *       delivers it to the client's port, at {@link #PRIORITY_RETURN}. A worker answers a steered
 *       connection in the server's name (it terminates it, TPROXY-style), so these replies must
 *       reach the client directly.</li>
 *   <li><b>Worker egress</b>: traffic a worker sends from its own address (its onward connection to
 *       the server or its wanopt peer) is never steered again: output {@code NORMAL}, at
 *       {@link #PRIORITY_WORKER_EGRESS}.</li>
 *   <li><b>Bypass policy</b>: no steering; when a later policy is steered at the device, a rule at the
 *       bypass policy's priority outputs its matches {@code NORMAL} so that policy order holds.</li>
 * </ul>
 * IPv4 and IPv6 prefixes are both steered (a policy without prefixes gets rules for each family; source
 * and destination prefixes pair within a family). A worker whose data address is not an IP
 * literal, or that ONOS has not located, or that is attached to another device, gets no bucket at
 * this device; when no member remains the policy is not steered there (flows pass unsteered).
 */
public final class SteeringProgrammer {

    /** Priority of the return path (worker to client). */
    public static final int PRIORITY_RETURN = 50000;
    /** Priority of the worker egress rules. */
    public static final int PRIORITY_WORKER_EGRESS = 49000;
    /** Priority of the first policy; policy {@code i} gets {@code PRIORITY_FIRST_POLICY - i}. */
    public static final int PRIORITY_FIRST_POLICY = 40000;
    /** Most policies whose order priorities can keep (above ONOS reactive forwarding's 10). */
    public static final int MAX_POLICIES = 30000;
    /** Group ids are {@code GROUP_ID_BASE | 24 bits} derived from the group key. */
    public static final int GROUP_ID_BASE = 0x5a000000;

    private static final String KEY_PREFIX = "slipstream/";

    private SteeringProgrammer() {
    }

    /** How the programmer sees the network (ONOS's device and host view, or a test's). */
    public interface NetworkView {
        /** Whether the device is known to ONOS. */
        boolean deviceKnown(DeviceId device);

        /** Hosts that have {@code ip}. */
        List<Endpoint> hostsByIp(IpAddress ip);

        /** Hosts attached to {@code device}, one entry per address. */
        List<Endpoint> hostsAt(DeviceId device);
    }

    /** One address of a host and where it is attached. */
    public static final class Endpoint {
        private final IpAddress ip;
        private final MacAddress mac;
        private final ConnectPoint location;

        public Endpoint(IpAddress ip, MacAddress mac, ConnectPoint location) {
            this.ip = Objects.requireNonNull(ip, "ip");
            this.mac = Objects.requireNonNull(mac, "mac");
            this.location = Objects.requireNonNull(location, "location");
        }

        public IpAddress ip() {
            return ip;
        }

        public MacAddress mac() {
            return mac;
        }

        public ConnectPoint location() {
            return location;
        }

        @Override
        public String toString() {
            return ip + "/" + mac + "@" + location;
        }
    }

    /** What to install: groups, flow rules, and why some policy or worker could not be steered. */
    public static final class Program {
        private final List<GroupDescription> groups;
        private final List<FlowRule> rules;
        private final List<String> problems;

        Program(List<GroupDescription> groups, List<FlowRule> rules, List<String> problems) {
            this.groups = Collections.unmodifiableList(groups);
            this.rules = Collections.unmodifiableList(rules);
            this.problems = Collections.unmodifiableList(problems);
        }

        public static Program empty() {
            return new Program(List.of(), List.of(), List.of());
        }

        public List<GroupDescription> groups() {
            return groups;
        }

        public List<FlowRule> rules() {
            return rules;
        }

        public List<String> problems() {
            return problems;
        }
    }

    /** The priority of the rules of policy number {@code index} (0 = first). */
    public static int policyPriority(int index) {
        if (index < 0 || index >= MAX_POLICIES) {
            throw new IllegalArgumentException("policy index: " + index + " (expected: 0.." + (MAX_POLICIES - 1) + ")");
        }
        return PRIORITY_FIRST_POLICY - index;
    }

    /** The key of the group steering {@code policy} at {@code device}. */
    public static GroupKey groupKey(String policy, DeviceId device) {
        return new DefaultGroupKey((KEY_PREFIX + policy + "@" + device).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param edgeSites edge devices and the site each belongs to
     */
    public static Program program(ApplicationId app, FleetPolicy policy, SteeringTable table,
            Map<DeviceId, String> edgeSites, NetworkView network) {
        List<GroupDescription> groups = new ArrayList<>();
        List<FlowRule> rules = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (policy.getPoliciesCount() > MAX_POLICIES) {
            problems.add("policies: " + policy.getPoliciesCount() + " (expected: at most " + MAX_POLICIES
                    + " to keep their order in priorities); nothing steered");
            return new Program(groups, rules, problems);
        }
        Map<String, SteeringEntry> entries = new LinkedHashMap<>();
        for (SteeringEntry e : table.getEntriesList()) {
            entries.put(e.getPolicy() + "@" + e.getSite(), e);
        }
        Map<DeviceId, String> sorted = new TreeMap<>(Comparator.comparing(DeviceId::toString));
        sorted.putAll(edgeSites);
        for (Map.Entry<DeviceId, String> edge : sorted.entrySet()) {
            DeviceId device = edge.getKey();
            String site = edge.getValue();
            if (!network.deviceKnown(device)) {
                problems.add("edge device " + device + " (site " + site + "): unknown to ONOS; nothing installed there");
                continue;
            }
            programDevice(app, policy, entries, device, site, network, groups, rules, problems);
        }
        return new Program(groups, rules, problems);
    }

    private static void programDevice(ApplicationId app, FleetPolicy policy, Map<String, SteeringEntry> entries,
            DeviceId device, String site, NetworkView network, List<GroupDescription> groups, List<FlowRule> rules,
            List<String> problems) {
        List<Endpoint> attached = network.hostsAt(device);
        Set<IpAddress> workerIps = new HashSet<>();
        Map<PortNumber, Endpoint> egress = new TreeMap<>(Comparator.comparingLong(PortNumber::toLong));
        Set<Integer> groupIds = new HashSet<>();
        List<Integer> bypasses = new ArrayList<>();
        int lastSteered = -1;
        List<FlowPolicy> policies = policy.getPoliciesList();
        for (int i = 0; i < policies.size(); i++) {
            FlowPolicy p = policies.get(i);
            if (!p.getIngressSite().isEmpty() && !p.getIngressSite().equals(site)) {
                continue;
            }
            if (SteeringPlanner.firstRole(p.getChain()) == null) {
                if (p.getChain() == ServiceChain.SERVICE_CHAIN_BYPASS) {
                    bypasses.add(i);
                }
                continue;
            }
            SteeringEntry entry = entries.get(p.getName() + "@" + site);
            if (entry == null || entry.getOwnersCount() == 0) {
                problems.add("policy " + p.getName() + " at " + device + " (site " + site + "): no healthy worker; not steered");
                continue;
            }
            int[] owned = new int[entry.getMembersCount()];
            for (int owner : entry.getOwnersList()) {
                owned[owner]++;
            }
            List<GroupBucket> buckets = new ArrayList<>();
            List<Endpoint> workers = new ArrayList<>();
            for (int m = 0; m < entry.getMembersCount(); m++) {
                Peer member = entry.getMembers(m);
                if (owned[m] == 0) {
                    continue;
                }
                Endpoint where = locate(member, device, network, problems);
                if (where == null) {
                    continue;
                }
                TrafficTreatment toWorker = DefaultTrafficTreatment.builder()
                        .setEthDst(where.mac())
                        .setOutput(where.location().port())
                        .build();
                buckets.add(DefaultGroupBucket.createSelectGroupBucket(toWorker,
                        (short) Math.min(Short.MAX_VALUE, owned[m])));
                workers.add(where);
                workerIps.add(where.ip());
                egress.put(where.location().port(), where);
            }
            if (buckets.isEmpty()) {
                problems.add("policy " + p.getName() + " at " + device + " (site " + site
                        + "): no worker attached to this device; not steered");
                continue;
            }
            GroupKey key = groupKey(p.getName(), device);
            int groupId = groupId(key);
            while (!groupIds.add(groupId)) {
                groupId = GROUP_ID_BASE | ((groupId + 1) & 0x00ffffff);
            }
            groups.add(new DefaultGroupDescription(device, GroupDescription.Type.SELECT, new GroupBuckets(buckets),
                    key, groupId, app));
            lastSteered = i;
            TrafficTreatment toGroup = DefaultTrafficTreatment.builder().group(new GroupId(groupId)).build();
            for (TrafficSelector s : forwardSelectors(p)) {
                rules.add(rule(app, device, policyPriority(i), s, toGroup));
            }
            for (Endpoint worker : workers) {
                for (Endpoint client : attached) {
                    if (workerIps.contains(client.ip()) || !inAny(p.getSrcPrefixesList(), client.ip())) {
                        continue;
                    }
                    TrafficTreatment toClient = DefaultTrafficTreatment.builder()
                            .setEthDst(client.mac())
                            .setOutput(client.location().port())
                            .build();
                    for (TrafficSelector s : returnSelectors(p, worker, client)) {
                        rules.add(rule(app, device, PRIORITY_RETURN, s, toClient));
                    }
                }
            }
        }
        TrafficTreatment normal = DefaultTrafficTreatment.builder().setOutput(PortNumber.NORMAL).build();
        for (int i : bypasses) {
            if (i < lastSteered) {
                for (TrafficSelector s : forwardSelectors(policies.get(i))) {
                    rules.add(rule(app, device, policyPriority(i), s, normal));
                }
            }
        }
        for (Endpoint worker : egress.values()) {
            boolean v6 = worker.ip().isIp6();
            TrafficSelector s = ipMatch(DefaultTrafficSelector.builder().matchInPort(worker.location().port()), v6,
                    IpPrefix.valueOf(worker.ip(), v6 ? 128 : 32), null).build();
            rules.add(rule(app, device, PRIORITY_WORKER_EGRESS, s, normal));
        }
    }

    /**
     * The preferred id of a group: {@link #GROUP_ID_BASE} | the low 24 bits of the CRC-32 of its key, so that
     * the same policy keeps its group id across programs and controller restarts (a rare collision on one
     * device moves the later group to the next free id).
     */
    static int groupId(GroupKey key) {
        CRC32 crc = new CRC32();
        crc.update(key.key());
        return GROUP_ID_BASE | (int) (crc.getValue() & 0x00ffffff);
    }

    // ---- matches ----

    /** The families a policy's rules cover: IPv4, IPv6, or both when neither prefix list pins one. */
    private static List<Boolean> families(List<IpPrefix> src, List<IpPrefix> dst) {
        List<Boolean> out = new ArrayList<>();
        for (boolean v6 : new boolean[] {false, true}) {
            if ((src.isEmpty() || !ofFamily(src, v6).isEmpty()) && (dst.isEmpty() || !ofFamily(dst, v6).isEmpty())) {
                out.add(v6);
            }
        }
        return out;
    }

    private static List<IpPrefix> ofFamily(List<IpPrefix> prefixes, boolean v6) {
        List<IpPrefix> out = new ArrayList<>();
        for (IpPrefix p : prefixes) {
            if (p.isIp6() == v6) {
                out.add(p);
            }
        }
        return out;
    }

    private static TrafficSelector.Builder ipMatch(TrafficSelector.Builder b, boolean v6, IpPrefix src, IpPrefix dst) {
        b.matchEthType(v6 ? Ethernet.TYPE_IPV6 : Ethernet.TYPE_IPV4);
        if (src != null) {
            if (v6) {
                b.matchIPv6Src(src);
            } else {
                b.matchIPSrc(src);
            }
        }
        if (dst != null) {
            if (v6) {
                b.matchIPv6Dst(dst);
            } else {
                b.matchIPDst(dst);
            }
        }
        return b;
    }

    private static List<TrafficSelector> forwardSelectors(FlowPolicy p) {
        List<IpPrefix> src = prefixes(p.getSrcPrefixesList());
        List<IpPrefix> dst = prefixes(p.getDstPrefixesList());
        List<TrafficSelector> out = new ArrayList<>();
        for (boolean v6 : families(src, dst)) {
            for (IpPrefix s : orAny(ofFamily(src, v6))) {
                for (IpPrefix d : orAny(ofFamily(dst, v6))) {
                    for (byte proto : protocols(p)) {
                        for (int[] port : portMatches(p.getDstPortsList())) {
                            TrafficSelector.Builder b = ipMatch(DefaultTrafficSelector.builder(), v6, s, d);
                            if (proto != 0) {
                                b.matchIPProtocol(proto);
                            }
                            if (port != null) {
                                matchPort(b, proto, true, port);
                            }
                            out.add(b.build());
                        }
                    }
                }
            }
        }
        return out;
    }

    private static List<TrafficSelector> returnSelectors(FlowPolicy p, Endpoint worker, Endpoint client) {
        boolean v6 = client.ip().isIp6();
        List<IpPrefix> dst = prefixes(p.getDstPrefixesList());
        List<IpPrefix> servers = ofFamily(dst, v6);
        if (!dst.isEmpty() && servers.isEmpty()) {
            return List.of();
        }
        List<TrafficSelector> out = new ArrayList<>();
        for (IpPrefix server : orAny(servers)) {
            for (byte proto : protocols(p)) {
                for (int[] port : portMatches(p.getDstPortsList())) {
                    TrafficSelector.Builder b = ipMatch(
                            DefaultTrafficSelector.builder().matchInPort(worker.location().port()), v6, server,
                            IpPrefix.valueOf(client.ip(), v6 ? 128 : 32));
                    if (proto != 0) {
                        b.matchIPProtocol(proto);
                    }
                    if (port != null) {
                        matchPort(b, proto, false, port);
                    }
                    out.add(b.build());
                }
            }
        }
        return out;
    }

    private static void matchPort(TrafficSelector.Builder b, byte proto, boolean destination, int[] port) {
        TpPort value = TpPort.tpPort(port[0]);
        TpPort mask = TpPort.tpPort(port[1]);
        if (proto == IPv4.PROTOCOL_TCP) {
            if (destination) {
                b.matchTcpDstMasked(value, mask);
            } else {
                b.matchTcpSrcMasked(value, mask);
            }
        } else if (destination) {
            b.matchUdpDstMasked(value, mask);
        } else {
            b.matchUdpSrcMasked(value, mask);
        }
    }

    /** TCP and UDP when the policy names ports but no protocol; else the policy's protocol (0 = any). */
    private static byte[] protocols(FlowPolicy p) {
        if (p.getProtocol() == Protocol.PROTOCOL_TCP) {
            return new byte[] {IPv4.PROTOCOL_TCP};
        }
        if (p.getProtocol() == Protocol.PROTOCOL_UDP) {
            return new byte[] {IPv4.PROTOCOL_UDP};
        }
        return p.getDstPortsCount() > 0 ? new byte[] {IPv4.PROTOCOL_TCP, IPv4.PROTOCOL_UDP} : new byte[] {0};
    }

    /** {value, mask} pairs covering the ranges, or a single {@code null} for "any port". */
    private static List<int[]> portMatches(List<PortRange> ranges) {
        if (ranges.isEmpty()) {
            List<int[]> any = new ArrayList<>();
            any.add(null);
            return any;
        }
        List<int[]> out = new ArrayList<>();
        for (PortRange r : ranges) {
            out.addAll(PortMasks.cover(r.getFirst(), r.getLast()));
        }
        return out;
    }

    private static <T> List<T> orAny(List<T> list) {
        if (!list.isEmpty()) {
            return list;
        }
        List<T> any = new ArrayList<>();
        any.add(null);
        return any;
    }

    private static List<IpPrefix> prefixes(List<String> texts) {
        List<IpPrefix> out = new ArrayList<>();
        for (String text : texts) {
            out.add(IpPrefix.valueOf(text));
        }
        return out;
    }

    private static boolean inAny(List<String> prefixes, IpAddress ip) {
        if (prefixes.isEmpty()) {
            return true;
        }
        for (String text : prefixes) {
            IpPrefix prefix = IpPrefix.valueOf(text);
            if (prefix.isIp6() == ip.isIp6() && prefix.contains(ip)) {
                return true;
            }
        }
        return false;
    }

    /** Where a placement member is attached, if it is attached to {@code device}. */
    private static Endpoint locate(Peer member, DeviceId device, NetworkView network, List<String> problems) {
        IpAddress ip;
        try {
            String host = HostPort.parse(member.getDataEndpoint()).host();
            if (!host.matches("[0-9A-Fa-f:.]+")) { // a literal, never a name lookup
                throw new IllegalArgumentException("'" + host + "' (expected: an IP address)");
            }
            ip = IpAddress.valueOf(host);
        } catch (IllegalArgumentException e) {
            problems.add("worker " + member.getWorkerId() + ": data endpoint " + e.getMessage()
                    + "; cannot be located");
            return null;
        }
        List<Endpoint> found = network.hostsByIp(ip);
        if (found.isEmpty()) {
            problems.add("worker " + member.getWorkerId() + ": no host with " + ip + " known to ONOS");
            return null;
        }
        for (Endpoint e : found) {
            if (e.location().deviceId().equals(device)) {
                return e;
            }
        }
        problems.add("worker " + member.getWorkerId() + " (" + ip + ") is attached to " + found.get(0).location()
                + ", not to edge device " + device + "; no bucket there");
        return null;
    }

    private static FlowRule rule(ApplicationId app, DeviceId device, int priority, TrafficSelector selector,
            TrafficTreatment treatment) {
        return DefaultFlowRule.builder()
                .forDevice(device)
                .withSelector(selector)
                .withTreatment(treatment)
                .withPriority(priority)
                .fromApp(app)
                .makePermanent()
                .build();
    }
}
