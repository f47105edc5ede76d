package io.slipstream.controller.onos;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.onosproject.core.ApplicationId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.flow.FlowEntry;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.FlowRuleService;
import org.onosproject.net.group.Group;
import org.onosproject.net.group.GroupDescription;
import org.onosproject.net.group.GroupKey;
import org.onosproject.net.group.GroupService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the edge switches to a {@link SteeringProgrammer.Program} through ONOS's flow rule and group
 * services ({@link SwitchChanges} decides what to change) and remembers what it installed. Not thread-safe:
 * the component calls it on its own thread.
 */
final class SteeringInstaller {

    private static final Logger log = LoggerFactory.getLogger(SteeringInstaller.class);

    private final ApplicationId appId;
    private final FlowRuleService flowRuleService;
    private final GroupService groupService;
    private SteeringProgrammer.Program installed = SteeringProgrammer.Program.empty();

    SteeringInstaller(ApplicationId appId, FlowRuleService flowRuleService, GroupService groupService) {
        this.appId = appId;
        this.flowRuleService = flowRuleService;
        this.groupService = groupService;
    }

    /** Takes over what an earlier leader installed on {@code devices}, so that stale entries get removed. */
    void adopt(Collection<DeviceId> devices) {
        List<FlowRule> rules = new ArrayList<>();
        for (FlowEntry entry : flowRuleService.getFlowEntriesById(appId)) {
            rules.add(entry);
        }
        List<GroupDescription> groups = new ArrayList<>();
        for (DeviceId device : devices) {
            for (Group group : groupService.getGroups(device, appId)) {
                groups.add(group);
            }
        }
        installed = new SteeringProgrammer.Program(groups, rules, List.of());
    }

    /**
     * Brings the switches from what is installed to {@code next}: new and changed groups first (a changed
     * group gets its buckets replaced in place), then rules (stale ones removed, new ones added), then
     * groups no rule points to any more.
     */
    void install(SteeringProgrammer.Program next) {
        SwitchChanges changes = SwitchChanges.diff(installed, next);
        for (GroupDescription old : changes.groupsToRemoveFirst()) {
            groupService.removeGroup(old.deviceId(), old.appCookie(), appId);
        }
        for (GroupDescription g : changes.groupsToAdd()) {
            groupService.addGroup(g);
        }
        for (GroupDescription g : changes.groupsToUpdate()) {
            groupService.setBucketsForGroup(g.deviceId(), g.appCookie(), g.buckets(), g.appCookie(), appId);
        }
        if (!changes.rulesToRemove().isEmpty()) {
            flowRuleService.removeFlowRules(changes.rulesToRemove().toArray(new FlowRule[0]));
        }
        if (!changes.rulesToAdd().isEmpty()) {
            flowRuleService.applyFlowRules(changes.rulesToAdd().toArray(new FlowRule[0]));
        }
        for (GroupDescription old : changes.groupsToRemove()) {
            groupService.removeGroup(old.deviceId(), old.appCookie(), appId);
        }
        installed = next;
        if (!changes.rulesToRemove().isEmpty() || !changes.rulesToAdd().isEmpty()) {
            log.info("steering: {} rules added, {} removed; {} groups", changes.rulesToAdd().size(),
                    changes.rulesToRemove().size(), changes.wantedGroups());
        }
    }

    /** Removes every flow rule and group this app installed (on {@code devices} or remembered). */
    void removeEverything(Collection<DeviceId> devices) {
        flowRuleService.removeFlowRulesById(appId);
        Map<GroupKey, DeviceId> groups = new HashMap<>();
        for (GroupDescription g : installed.groups()) {
            groups.put(g.appCookie(), g.deviceId());
        }
        for (DeviceId device : devices) {
            for (Group g : groupService.getGroups(device, appId)) {
                groups.put(g.appCookie(), device);
            }
        }
        for (Map.Entry<GroupKey, DeviceId> g : groups.entrySet()) {
            groupService.removeGroup(g.getValue(), g.getKey(), appId);
        }
        installed = SteeringProgrammer.Program.empty();
        log.info("removed {} groups and every flow rule of {}", groups.size(), appId.name());
    }
}
