package io.slipstream.e2e.sdn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.GroupId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.group.DefaultGroup;
import org.onosproject.net.group.Group;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;
import org.onosproject.net.group.GroupEvent;
import org.onosproject.net.group.GroupKey;
import org.onosproject.net.group.GroupListener;
import org.onosproject.net.group.GroupServiceAdapter;

/**
 * The test southbound's group service: groups are kept by (device, application cookie) as ONOS's
 * group store keeps them, written to the Open vSwitch bridge with {@code ovs-ofctl add-group /
 * mod-group / del-groups} as soon as the app asks, and reported ADDED (with a GROUP_ADDED or
 * GROUP_UPDATED event to listeners). Group ids are the ones the app gives, or the next free one.
 */
public final class OvsGroupService extends GroupServiceAdapter {

    private final OvsSwitch ovs;
    private final DeviceId device;
    private final Map<GroupKey, DefaultGroup> groups = new LinkedHashMap<>();
    private final Map<GroupKey, ApplicationId> owners = new LinkedHashMap<>();
    private final List<GroupListener> listeners = new CopyOnWriteArrayList<>();
    private final List<OvsFlowRuleService.Applied> log;
    private int nextId = 0x5000;

    /** {@code log}: where applied changes are recorded (shared with the flow rule service for one timeline). */
    public OvsGroupService(OvsSwitch ovs, DeviceId device, List<OvsFlowRuleService.Applied> log) {
        this.ovs = ovs;
        this.device = device;
        this.log = log;
    }

    @Override
    public void addListener(GroupListener listener) {
        listeners.add(listener);
    }

    @Override
    public void removeListener(GroupListener listener) {
        listeners.remove(listener);
    }

    @Override
    public void addGroup(GroupDescription d) {
        DefaultGroup g;
        synchronized (this) {
            checkDevice(d.deviceId());
            if (groups.containsKey(d.appCookie())) {
                throw new IllegalArgumentException("group " + d.appCookie() + " already exists on " + d.deviceId());
            }
            int id = d.givenGroupId() != null ? d.givenGroupId() : nextId++;
            g = new DefaultGroup(GroupId.valueOf(id), d);
            g.setState(Group.GroupState.ADDED);
            String spec = OpenFlowTranslator.group(id, d.type(), d.buckets());
            ovs.ofctl("add-group", spec);
            log.add(new OvsFlowRuleService.Applied(System.nanoTime(), "add-group", spec));
            groups.put(d.appCookie(), g);
            owners.put(d.appCookie(), d.appId());
        }
        post(new GroupEvent(GroupEvent.Type.GROUP_ADDED, g));
    }

    @Override
    public synchronized Group getGroup(DeviceId deviceId, GroupKey appCookie) {
        return deviceId.equals(device) ? groups.get(appCookie) : null;
    }

    @Override
    public void setBucketsForGroup(DeviceId deviceId, GroupKey oldCookie, GroupBuckets buckets, GroupKey newCookie,
                                   ApplicationId appId) {
        replace(deviceId, oldCookie, newCookie, buckets.buckets());
    }

    @Override
    public void addBucketsToGroup(DeviceId deviceId, GroupKey oldCookie, GroupBuckets buckets, GroupKey newCookie,
                                  ApplicationId appId) {
        List<GroupBucket> all;
        synchronized (this) {
            all = new ArrayList<>(existing(deviceId, oldCookie).buckets().buckets());
        }
        for (GroupBucket b : buckets.buckets()) {
            if (all.stream().noneMatch(b::hasSameParameters)) {
                all.add(b);
            }
        }
        replace(deviceId, oldCookie, newCookie, all);
    }

    @Override
    public void removeBucketsFromGroup(DeviceId deviceId, GroupKey oldCookie, GroupBuckets buckets, GroupKey newCookie,
                                       ApplicationId appId) {
        List<GroupBucket> all;
        synchronized (this) {
            all = new ArrayList<>(existing(deviceId, oldCookie).buckets().buckets());
        }
        all.removeIf(b -> buckets.buckets().stream().anyMatch(b::hasSameParameters));
        replace(deviceId, oldCookie, newCookie, all);
    }

    @Override
    public void removeGroup(DeviceId deviceId, GroupKey appCookie, ApplicationId appId) {
        DefaultGroup g;
        synchronized (this) {
            g = existing(deviceId, appCookie);
            String spec = "group_id=" + Integer.toUnsignedString(g.id().id());
            ovs.ofctl("del-groups", spec);
            log.add(new OvsFlowRuleService.Applied(System.nanoTime(), "del-groups", spec));
            groups.remove(appCookie);
            owners.remove(appCookie);
        }
        post(new GroupEvent(GroupEvent.Type.GROUP_REMOVED, g));
    }

    @Override
    public synchronized Iterable<Group> getGroups(DeviceId deviceId, ApplicationId appId) {
        return groups.entrySet().stream()
                .filter(e -> deviceId.equals(device) && appId.equals(owners.get(e.getKey())))
                .map(Map.Entry::getValue).collect(Collectors.toList());
    }

    @Override
    public synchronized Iterable<Group> getGroups(DeviceId deviceId) {
        return deviceId.equals(device) ? new ArrayList<>(groups.values()) : List.of();
    }

    @Override
    public void purgeGroupEntries(DeviceId deviceId) {
        List<GroupKey> keys;
        synchronized (this) {
            keys = new ArrayList<>(groups.keySet());
        }
        for (GroupKey k : keys) {
            removeGroup(deviceId, k, owners.get(k));
        }
    }

    private void replace(DeviceId deviceId, GroupKey oldCookie, GroupKey newCookie, List<GroupBucket> buckets) {
        DefaultGroup updated;
        synchronized (this) {
            DefaultGroup old = existing(deviceId, oldCookie);
            GroupKey key = newCookie == null ? oldCookie : newCookie;
            GroupBuckets b = new GroupBuckets(buckets);
            String spec = OpenFlowTranslator.group(old.id().id(), old.type(), b);
            ovs.ofctl("mod-group", spec);
            log.add(new OvsFlowRuleService.Applied(System.nanoTime(), "mod-group", spec));
            updated = new DefaultGroup(old.id(), new org.onosproject.net.group.DefaultGroupDescription(deviceId,
                    old.type(), b, key, old.givenGroupId(), old.appId()));
            updated.setState(Group.GroupState.ADDED);
            ApplicationId owner = owners.remove(oldCookie);
            groups.remove(oldCookie);
            groups.put(key, updated);
            owners.put(key, owner);
        }
        post(new GroupEvent(GroupEvent.Type.GROUP_UPDATED, updated));
    }

    private DefaultGroup existing(DeviceId deviceId, GroupKey cookie) {
        checkDevice(deviceId);
        DefaultGroup g = groups.get(cookie);
        if (g == null) {
            throw new IllegalArgumentException("no group " + cookie + " on " + deviceId);
        }
        return g;
    }

    private void checkDevice(DeviceId deviceId) {
        if (!deviceId.equals(device)) {
            throw new IllegalArgumentException("group for device " + deviceId + ", but the test switch is " + device);
        }
    }

    private void post(GroupEvent e) {
        for (GroupListener l : listeners) {
            l.event(e);
        }
    }
}
