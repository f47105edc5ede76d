package io.slipstream.controller.onos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.group.Group;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;
import org.onosproject.net.group.GroupKey;

/**
 * What to change on the switches to go from what is installed to what is wanted ({@link #diff}). Pure: it
 * calls no ONOS service. Groups are matched by key (a group whose id moved is removed and added again, a
 * group whose buckets differ gets them replaced in place), rules by device, table, priority, match and
 * actions. {@link SteeringInstaller} applies the changes: groups removed first, then added, then updated, then
 * stale rules removed, new rules added, and last the groups nothing wants any more.
 */
final class SwitchChanges {

    private final List<GroupDescription> groupsToRemoveFirst;
    private final List<GroupDescription> groupsToAdd;
    private final List<GroupDescription> groupsToUpdate;
    private final List<FlowRule> rulesToRemove;
    private final List<FlowRule> rulesToAdd;
    private final List<GroupDescription> groupsToRemove;
    private final int wantedGroups;

    private SwitchChanges(List<GroupDescription> groupsToRemoveFirst, List<GroupDescription> groupsToAdd,
                          List<GroupDescription> groupsToUpdate, List<FlowRule> rulesToRemove,
                          List<FlowRule> rulesToAdd, List<GroupDescription> groupsToRemove, int wantedGroups) {
        this.groupsToRemoveFirst = Collections.unmodifiableList(groupsToRemoveFirst);
        this.groupsToAdd = Collections.unmodifiableList(groupsToAdd);
        this.groupsToUpdate = Collections.unmodifiableList(groupsToUpdate);
        this.rulesToRemove = Collections.unmodifiableList(rulesToRemove);
        this.rulesToAdd = Collections.unmodifiableList(rulesToAdd);
        this.groupsToRemove = Collections.unmodifiableList(groupsToRemove);
        this.wantedGroups = wantedGroups;
    }

    /**
     * The changes that bring the switches from {@code installed} to {@code wanted}. Of two groups with the same
     * key the later one counts (as ONOS keeps one group per key); {@code installed}'s groups may be the
     * {@link Group}s ONOS reports, whose id is the one the switch has.
     */
    static SwitchChanges diff(SteeringProgrammer.Program installed, SteeringProgrammer.Program wanted) {
        Map<GroupKey, GroupDescription> have = byKey(installed.groups());
        Map<GroupKey, GroupDescription> want = byKey(wanted.groups());
        List<GroupDescription> removeFirst = new ArrayList<>();
        List<GroupDescription> add = new ArrayList<>();
        List<GroupDescription> update = new ArrayList<>();
        for (GroupDescription g : want.values()) {
            GroupDescription old = have.get(g.appCookie());
            if (old != null && !Objects.equals(groupId(old), g.givenGroupId())) {
                // Its id moved (a CRC collision on the device came or went): the key must be free to re-add it.
                removeFirst.add(old);
                old = null;
            }
            if (old == null) {
                add.add(g);
            } else if (!sameBuckets(old.buckets(), g.buckets())) {
                update.add(g);
            }
        }
        Set<RuleKey> wantedRules = new HashSet<>();
        for (FlowRule r : wanted.rules()) {
            wantedRules.add(new RuleKey(r));
        }
        Set<RuleKey> haveRules = new HashSet<>();
        List<FlowRule> stale = new ArrayList<>();
        for (FlowRule old : installed.rules()) {
            RuleKey key = new RuleKey(old);
            haveRules.add(key);
            if (!wantedRules.contains(key)) {
                stale.add(old);
            }
        }
        List<FlowRule> fresh = new ArrayList<>();
        for (FlowRule r : wanted.rules()) {
            if (!haveRules.contains(new RuleKey(r))) {
                fresh.add(r);
            }
        }
        List<GroupDescription> remove = new ArrayList<>();
        for (GroupDescription old : have.values()) {
            if (!want.containsKey(old.appCookie())) {
                remove.add(old);
            }
        }
        return new SwitchChanges(removeFirst, add, update, stale, fresh, remove, want.size());
    }

    private static Map<GroupKey, GroupDescription> byKey(List<GroupDescription> groups) {
        Map<GroupKey, GroupDescription> out = new LinkedHashMap<>();
        for (GroupDescription g : groups) {
            out.put(g.appCookie(), g);
        }
        return out;
    }

    private static Integer groupId(GroupDescription g) {
        return g instanceof Group ? Integer.valueOf(((Group) g).id().id()) : g.givenGroupId();
    }

    /** Same buckets in the same order, weights included ({@code DefaultGroupBucket.equals} ignores weights). */
    static boolean sameBuckets(GroupBuckets a, GroupBuckets b) {
        List<GroupBucket> x = a.buckets();
        List<GroupBucket> y = b.buckets();
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            if (!x.get(i).equals(y.get(i)) || x.get(i).weight() != y.get(i).weight()
                    || !Objects.equals(x.get(i).treatment(), y.get(i).treatment())) {
                return false;
            }
        }
        return true;
    }

    /** Installed groups whose id moved: removed before {@link #groupsToAdd()} adds them again under their key. */
    List<GroupDescription> groupsToRemoveFirst() {
        return groupsToRemoveFirst;
    }

    /** Wanted groups not installed (or whose id moved). */
    List<GroupDescription> groupsToAdd() {
        return groupsToAdd;
    }

    /** Wanted groups installed with other buckets: their buckets are replaced in place. */
    List<GroupDescription> groupsToUpdate() {
        return groupsToUpdate;
    }

    /** Installed rules nothing wants any more. */
    List<FlowRule> rulesToRemove() {
        return rulesToRemove;
    }

    /** Wanted rules not installed. */
    List<FlowRule> rulesToAdd() {
        return rulesToAdd;
    }

    /** Installed groups whose key nothing wants any more (removed after the rules that pointed to them). */
    List<GroupDescription> groupsToRemove() {
        return groupsToRemove;
    }

    /** How many groups (distinct keys) are wanted. */
    int wantedGroups() {
        return wantedGroups;
    }

    /** Nothing to change. */
    boolean isEmpty() {
        return groupsToRemoveFirst.isEmpty() && groupsToAdd.isEmpty() && groupsToUpdate.isEmpty()
                && rulesToRemove.isEmpty() && rulesToAdd.isEmpty() && groupsToRemove.isEmpty();
    }

    /** What makes two rules the same entry on a switch: device, table, priority, match and actions. */
    private static final class RuleKey {
        private final FlowRule rule;

        RuleKey(FlowRule rule) {
            this.rule = rule;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof RuleKey)) {
                return false;
            }
            FlowRule other = ((RuleKey) o).rule;
            return rule.deviceId().equals(other.deviceId()) && rule.priority() == other.priority()
                    && Objects.equals(rule.table(), other.table()) && rule.selector().equals(other.selector())
                    && Objects.equals(rule.treatment(), other.treatment());
        }

        @Override
        public int hashCode() {
            return Objects.hash(rule.deviceId(), rule.priority(), rule.selector(), rule.treatment());
        }
    }
}
