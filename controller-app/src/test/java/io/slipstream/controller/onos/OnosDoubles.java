package io.slipstream.controller.onos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.onlab.packet.ChassisId;
import org.onlab.packet.IpAddress;
import org.onlab.packet.MacAddress;
import org.onlab.packet.VlanId;
import org.onosproject.cluster.ClusterServiceAdapter;
import org.onosproject.cluster.ControllerNode;
import org.onosproject.cluster.DefaultControllerNode;
import org.onosproject.cluster.Leadership;
import org.onosproject.cluster.LeadershipEvent;
import org.onosproject.cluster.LeadershipEventListener;
import org.onosproject.cluster.LeadershipServiceAdapter;
import org.onosproject.cluster.NodeId;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.CoreServiceAdapter;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.net.DefaultDevice;
import org.onosproject.net.DefaultHost;
import org.onosproject.net.Device;
import org.onosproject.net.DeviceId;
import org.onosproject.net.Host;
import org.onosproject.net.HostId;
import org.onosproject.net.HostLocation;
import org.onosproject.net.PortNumber;
import org.onosproject.net.config.Config;
import org.onosproject.net.config.NetworkConfigEvent;
import org.onosproject.net.config.NetworkConfigListener;
import org.onosproject.net.config.NetworkConfigRegistryAdapter;
import org.onosproject.net.device.DeviceServiceAdapter;
import org.onosproject.net.flow.FlowEntry;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.FlowRuleServiceAdapter;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;
import org.onosproject.net.group.GroupKey;
import org.onosproject.net.group.GroupServiceAdapter;
import org.onosproject.net.host.HostServiceAdapter;
import org.onosproject.net.provider.ProviderId;

/** ONOS test doubles built on onos-api's {@code *Adapter} classes, recording what the app does. */
final class OnosDoubles {

    static final ProviderId PROVIDER = new ProviderId("of", "test");
    static final NodeId LOCAL = new NodeId("onos-1");

    private OnosDoubles() {
    }

    static final class Core extends CoreServiceAdapter {
        @Override
        public ApplicationId registerApplication(String name) {
            return new DefaultApplicationId(7, name);
        }
    }

    static final class Cluster extends ClusterServiceAdapter {
        @Override
        public ControllerNode getLocalNode() {
            return new DefaultControllerNode(LOCAL, IpAddress.valueOf("127.0.0.1"));
        }
    }

    /** Leadership that the test hands out and takes away. */
    static final class Leadership extends LeadershipServiceAdapter {
        private final List<LeadershipEventListener> listeners = new CopyOnWriteArrayList<>();
        volatile NodeId leader;
        final List<String> withdrawn = new CopyOnWriteArrayList<>();

        Leadership(NodeId leader) {
            this.leader = leader;
        }

        @Override
        public NodeId getLeader(String topic) {
            return leader;
        }

        @Override
        public org.onosproject.cluster.Leadership runForLeadership(String topic) {
            return null;
        }

        @Override
        public void withdraw(String topic) {
            withdrawn.add(topic);
        }

        @Override
        public void addListener(LeadershipEventListener listener) {
            listeners.add(listener);
        }

        @Override
        public void removeListener(LeadershipEventListener listener) {
            listeners.remove(listener);
        }

        void change(NodeId newLeader, String topic) {
            leader = newLeader;
            org.onosproject.cluster.Leadership leadership = new org.onosproject.cluster.Leadership(topic,
                    newLeader == null ? null : new org.onosproject.cluster.Leader(newLeader, 1, 1),
                    List.of());
            LeadershipEvent event = new LeadershipEvent(LeadershipEvent.Type.LEADER_CHANGED, leadership);
            for (LeadershipEventListener l : listeners) {
                if (l.isRelevant(event)) {
                    l.event(event);
                }
            }
        }

        int listenerCount() {
            return listeners.size();
        }
    }

    /** Network configuration kept in memory, with events like ONOS's. */
    static final class NetworkConfig extends NetworkConfigRegistryAdapter {
        private final ObjectMapper mapper = new ObjectMapper();
        private final List<NetworkConfigListener> listeners = new CopyOnWriteArrayList<>();
        private final Set<Object> factories = Collections.newSetFromMap(new ConcurrentHashMap<>());
        private volatile JsonNode node;
        private volatile ApplicationId subject;

        void set(ApplicationId app, JsonNode json) {
            subject = app;
            node = json;
            NetworkConfigEvent event = new NetworkConfigEvent(NetworkConfigEvent.Type.CONFIG_UPDATED, app,
                    SlipstreamConfig.class);
            for (NetworkConfigListener l : listeners) {
                if (l.isRelevant(event)) {
                    l.event(event);
                }
            }
        }

        JsonNode stored() {
            return node;
        }

        boolean hasFactories() {
            return !factories.isEmpty();
        }

        int listenerCount() {
            return listeners.size();
        }

        @Override
        @SuppressWarnings("rawtypes") // the interface's signature
        public void registerConfigFactory(org.onosproject.net.config.ConfigFactory configFactory) {
            factories.add(configFactory);
        }

        @Override
        @SuppressWarnings("rawtypes") // the interface's signature
        public void unregisterConfigFactory(org.onosproject.net.config.ConfigFactory configFactory) {
            factories.remove(configFactory);
        }

        @Override
        public void addListener(NetworkConfigListener listener) {
            listeners.add(listener);
        }

        @Override
        public void removeListener(NetworkConfigListener listener) {
            listeners.remove(listener);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <S, C extends Config<S>> C getConfig(S s, Class<C> configClass) {
            if (node == null || configClass != SlipstreamConfig.class) {
                return null;
            }
            SlipstreamConfig config = new SlipstreamConfig();
            config.init((ApplicationId) s, SlipstreamConfig.KEY, node, mapper, c -> { });
            return (C) config;
        }

        @Override
        public <S, C extends Config<S>> C applyConfig(S s, Class<C> configClass, JsonNode json) {
            set((ApplicationId) s, json);
            return getConfig(s, configClass);
        }
    }

    static final class Devices extends DeviceServiceAdapter {
        private final Set<DeviceId> known = Collections.newSetFromMap(new ConcurrentHashMap<>());

        Devices(DeviceId... devices) {
            known.addAll(List.of(devices));
        }

        @Override
        public Device getDevice(DeviceId deviceId) {
            return known.contains(deviceId) ? new DefaultDevice(PROVIDER, deviceId, Device.Type.SWITCH, "ovs", "3",
                    "3", "1", new ChassisId(1)) : null;
        }
    }

    static final class Hosts extends HostServiceAdapter {
        private final List<Host> hosts = new CopyOnWriteArrayList<>();

        Host add(String mac, String ip, DeviceId device, long port) {
            Host h = new DefaultHost(PROVIDER, HostId.hostId(MacAddress.valueOf(mac)), MacAddress.valueOf(mac),
                    VlanId.NONE, new HostLocation(device, PortNumber.portNumber(port), 0),
                    Set.of(IpAddress.valueOf(ip)));
            hosts.add(h);
            return h;
        }

        @Override
        public Set<Host> getHostsByIp(IpAddress ip) {
            Set<Host> out = new HashSet<>();
            for (Host h : hosts) {
                if (h.ipAddresses().contains(ip)) {
                    out.add(h);
                }
            }
            return out;
        }

        @Override
        public Set<Host> getConnectedHosts(DeviceId deviceId) {
            Set<Host> out = new HashSet<>();
            for (Host h : hosts) {
                if (h.location().deviceId().equals(deviceId)) {
                    out.add(h);
                }
            }
            return out;
        }
    }

    /** Flow rules as a switch would hold them: applied minus removed. */
    static final class FlowRules extends FlowRuleServiceAdapter {
        final List<FlowRule> installed = new CopyOnWriteArrayList<>();
        final List<ApplicationId> removedById = new CopyOnWriteArrayList<>();
        volatile int applyCalls;

        @Override
        public void applyFlowRules(FlowRule... flowRules) {
            applyCalls++;
            installed.addAll(List.of(flowRules));
        }

        @Override
        public void removeFlowRules(FlowRule... flowRules) {
            for (FlowRule r : flowRules) {
                installed.removeIf(i -> i.exactMatch(r));
            }
        }

        @Override
        public void removeFlowRulesById(ApplicationId id) {
            removedById.add(id);
            installed.removeIf(r -> r.appId() == id.id());
        }

        @Override
        public Iterable<FlowEntry> getFlowEntriesById(ApplicationId id) {
            return List.of();
        }
    }

    /** Groups as a switch would hold them, with the time of every bucket change. */
    static final class Groups extends GroupServiceAdapter {
        final Map<GroupKey, GroupDescription> groups = new ConcurrentHashMap<>();
        final Map<GroupKey, GroupBuckets> buckets = new ConcurrentHashMap<>();
        final List<Long> bucketUpdateNanos = new CopyOnWriteArrayList<>();
        final List<GroupKey> removed = new CopyOnWriteArrayList<>();

        @Override
        public void addGroup(GroupDescription groupDesc) {
            groups.put(groupDesc.appCookie(), groupDesc);
            buckets.put(groupDesc.appCookie(), groupDesc.buckets());
        }

        @Override
        public void setBucketsForGroup(DeviceId deviceId, GroupKey oldCookie, GroupBuckets newBuckets,
                GroupKey newCookie, ApplicationId appId) {
            bucketUpdateNanos.add(System.nanoTime());
            buckets.put(oldCookie, newBuckets);
        }

        @Override
        public void removeGroup(DeviceId deviceId, GroupKey appCookie, ApplicationId appId) {
            removed.add(appCookie);
            groups.remove(appCookie);
            buckets.remove(appCookie);
        }

        @Override
        public Iterable<org.onosproject.net.group.Group> getGroups(DeviceId deviceId, ApplicationId appId) {
            return new ArrayList<>();
        }
    }
}
