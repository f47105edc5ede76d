package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.onlab.packet.Ip4Prefix;
import org.onlab.packet.MacAddress;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.core.GroupId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.PortNumber;
import org.onosproject.net.flow.DefaultFlowRule;
import org.onosproject.net.flow.DefaultTrafficSelector;
import org.onosproject.net.flow.DefaultTrafficTreatment;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.group.DefaultGroup;
import org.onosproject.net.group.DefaultGroupBucket;
import org.onosproject.net.group.DefaultGroupDescription;
import org.onosproject.net.group.GroupBucket;
import org.onosproject.net.group.GroupBuckets;
import org.onosproject.net.group.GroupDescription;

/** The switch reconciliation's diff, on hand-built groups and rules: no ONOS service, no network. */
class SwitchChangesTest {

    private static final ApplicationId APP = new DefaultApplicationId(7, SlipstreamManager.APP_NAME);
    private static final DeviceId EDGE = DeviceId.deviceId("of:0000000000000001");
    private static final int BULK_ID = 0x5a000001;
    private static final int WEB_ID = 0x5a000002;

    private static GroupBucket bucket(long port, int weight) {
        return DefaultGroupBucket.createSelectGroupBucket(DefaultTrafficTreatment.builder()
                .setEthDst(MacAddress.valueOf(0x020000000000L + port))
                .setOutput(PortNumber.portNumber(port)).build(), (short) weight);
    }

    private static GroupDescription group(String policy, int id, GroupBucket... buckets) {
        return new DefaultGroupDescription(EDGE, GroupDescription.Type.SELECT, new GroupBuckets(List.of(buckets)),
                SteeringProgrammer.groupKey(policy, EDGE), id, APP);
    }

    private static FlowRule rule(String dstPrefix, int priority, int groupId) {
        return DefaultFlowRule.builder()
                .forDevice(EDGE)
                .withSelector(DefaultTrafficSelector.builder().matchEthType((short) 0x0800)
                        .matchIPDst(Ip4Prefix.valueOf(dstPrefix)).build())
                .withTreatment(DefaultTrafficTreatment.builder().group(new GroupId(groupId)).build())
                .withPriority(priority)
                .fromApp(APP)
                .makePermanent()
                .build();
    }

    private static SteeringProgrammer.Program program(List<GroupDescription> groups, List<FlowRule> rules) {
        return new SteeringProgrammer.Program(groups, rules, List.of());
    }

    /** One policy ("bulk") steered to two workers, built afresh each call (equal, not the same objects). */
    private static SteeringProgrammer.Program bulk() {
        return program(List.of(group("bulk", BULK_ID, bucket(11, 3), bucket(12, 1))),
                List.of(rule("198.18.2.0/24", 40000, BULK_ID), rule("198.18.3.0/24", 40000, BULK_ID)));
    }

    @Test
    void diff_nothingInstalled_addsEveryGroupAndRule() {
        SteeringProgrammer.Program wanted = bulk();

        SwitchChanges changes = SwitchChanges.diff(SteeringProgrammer.Program.empty(), wanted);

        assertThat(changes.groupsToAdd()).containsExactlyElementsOf(wanted.groups());
        assertThat(changes.rulesToAdd()).containsExactlyElementsOf(wanted.rules());
        assertThat(changes.groupsToRemoveFirst()).isEmpty();
        assertThat(changes.groupsToUpdate()).isEmpty();
        assertThat(changes.rulesToRemove()).isEmpty();
        assertThat(changes.groupsToRemove()).isEmpty();
        assertThat(changes.wantedGroups()).isEqualTo(1);
        assertThat(changes.isEmpty()).isFalse();
    }

    @Test
    void diff_nothingInstalledNorWanted_isEmpty() {
        SwitchChanges changes = SwitchChanges.diff(SteeringProgrammer.Program.empty(),
                SteeringProgrammer.Program.empty());

        assertThat(changes.isEmpty()).isTrue();
        assertThat(changes.wantedGroups()).isZero();
    }

    @Test
    void diff_identical_changesNothing() {
        SwitchChanges changes = SwitchChanges.diff(bulk(), bulk());

        assertThat(changes.isEmpty()).isTrue();
        assertThat(changes.wantedGroups()).isEqualTo(1);
    }

    @Test
    void diff_installedAsOnosGroupWithTheSameId_changesNothing() {
        SteeringProgrammer.Program installed = bulk();
        DefaultGroup onSwitch = new DefaultGroup(new GroupId(BULK_ID), installed.groups().get(0));
        // A group ONOS reports has no given id of its own here: its id is what counts.
        GroupDescription reported = new DefaultGroupDescription(EDGE, GroupDescription.Type.SELECT,
                onSwitch.buckets(), onSwitch.appCookie(), null, APP);
        DefaultGroup adopted = new DefaultGroup(new GroupId(BULK_ID), reported);

        SwitchChanges changes = SwitchChanges.diff(program(List.of(adopted), installed.rules()), bulk());

        assertThat(changes.isEmpty()).isTrue();
    }

    @Test
    void diff_bucketWeightChanged_updatesTheGroupInPlaceOnly() {
        GroupDescription reweighted = group("bulk", BULK_ID, bucket(11, 2), bucket(12, 2));
        SteeringProgrammer.Program wanted = program(List.of(reweighted), bulk().rules());

        SwitchChanges changes = SwitchChanges.diff(bulk(), wanted);

        assertThat(changes.groupsToUpdate()).containsExactly(reweighted);
        assertThat(changes.groupsToAdd()).isEmpty();
        assertThat(changes.groupsToRemoveFirst()).isEmpty();
        assertThat(changes.groupsToRemove()).isEmpty();
        assertThat(changes.rulesToAdd()).isEmpty();
        assertThat(changes.rulesToRemove()).isEmpty();
    }

    @Test
    void diff_workerLeftTheGroup_updatesTheGroupInPlace() {
        GroupDescription smaller = group("bulk", BULK_ID, bucket(11, 4));

        SwitchChanges changes = SwitchChanges.diff(bulk(), program(List.of(smaller), bulk().rules()));

        assertThat(changes.groupsToUpdate()).containsExactly(smaller);
        assertThat(changes.rulesToAdd()).isEmpty();
        assertThat(changes.rulesToRemove()).isEmpty();
    }

    @Test
    void diff_bucketActionChanged_updatesTheGroupInPlace() {
        GroupDescription moved = group("bulk", BULK_ID, bucket(11, 3), bucket(13, 1));

        SwitchChanges changes = SwitchChanges.diff(bulk(), program(List.of(moved), bulk().rules()));

        assertThat(changes.groupsToUpdate()).containsExactly(moved);
    }

    @Test
    void diff_sameBucketsReordered_updatesTheGroup_becauseBucketOrderCounts() {
        GroupDescription reordered = group("bulk", BULK_ID, bucket(12, 1), bucket(11, 3));

        SwitchChanges changes = SwitchChanges.diff(bulk(), program(List.of(reordered), bulk().rules()));

        assertThat(changes.groupsToUpdate()).containsExactly(reordered);
        assertThat(changes.groupsToAdd()).isEmpty();
    }

    @Test
    void diff_groupIdMoved_removesTheOldGroupFirstAndAddsTheNewOne() {
        SteeringProgrammer.Program installed = bulk();
        GroupDescription renumbered = group("bulk", BULK_ID + 1, bucket(11, 3), bucket(12, 1));
        List<FlowRule> rules = List.of(rule("198.18.2.0/24", 40000, BULK_ID + 1),
                rule("198.18.3.0/24", 40000, BULK_ID + 1));

        SwitchChanges changes = SwitchChanges.diff(installed, program(List.of(renumbered), rules));

        assertThat(changes.groupsToRemoveFirst()).containsExactly(installed.groups().get(0));
        assertThat(changes.groupsToAdd()).containsExactly(renumbered);
        assertThat(changes.groupsToUpdate()).isEmpty();
        assertThat(changes.groupsToRemove()).isEmpty();
        assertThat(changes.rulesToRemove()).containsExactlyElementsOf(installed.rules());
        assertThat(changes.rulesToAdd()).containsExactlyElementsOf(rules);
    }

    @Test
    void diff_policyRemoved_removesItsRulesAndThenItsGroup() {
        GroupDescription web = group("web", WEB_ID, bucket(14, 1));
        FlowRule webRule = rule("198.18.4.0/24", 39999, WEB_ID);
        SteeringProgrammer.Program installed = program(List.of(bulk().groups().get(0), web),
                List.of(bulk().rules().get(0), bulk().rules().get(1), webRule));

        SwitchChanges changes = SwitchChanges.diff(installed, bulk());

        assertThat(changes.rulesToRemove()).containsExactly(webRule);
        assertThat(changes.groupsToRemove()).containsExactly(web);
        assertThat(changes.groupsToAdd()).isEmpty();
        assertThat(changes.groupsToUpdate()).isEmpty();
        assertThat(changes.groupsToRemoveFirst()).isEmpty();
        assertThat(changes.rulesToAdd()).isEmpty();
        assertThat(changes.wantedGroups()).isEqualTo(1);
    }

    @Test
    void diff_policyAdded_addsItsGroupAndRulesOnly() {
        GroupDescription web = group("web", WEB_ID, bucket(14, 1));
        FlowRule webRule = rule("198.18.4.0/24", 39999, WEB_ID);
        SteeringProgrammer.Program wanted = program(List.of(bulk().groups().get(0), web),
                List.of(bulk().rules().get(0), bulk().rules().get(1), webRule));

        SwitchChanges changes = SwitchChanges.diff(bulk(), wanted);

        assertThat(changes.groupsToAdd()).containsExactly(web);
        assertThat(changes.rulesToAdd()).containsExactly(webRule);
        assertThat(changes.groupsToUpdate()).isEmpty();
        assertThat(changes.rulesToRemove()).isEmpty();
        assertThat(changes.groupsToRemove()).isEmpty();
        assertThat(changes.wantedGroups()).isEqualTo(2);
    }

    @Test
    void diff_rulePriorityChanged_replacesTheRule() {
        FlowRule moved = rule("198.18.2.0/24", 39000, BULK_ID);
        SteeringProgrammer.Program installed = bulk();
        SteeringProgrammer.Program wanted = program(bulk().groups(), List.of(moved, bulk().rules().get(1)));

        SwitchChanges changes = SwitchChanges.diff(installed, wanted);

        assertThat(changes.rulesToRemove()).containsExactly(installed.rules().get(0));
        assertThat(changes.rulesToAdd()).containsExactly(moved);
        assertThat(changes.groupsToUpdate()).isEmpty();
    }

    @Test
    void diff_twoWantedGroupsWithOneKey_theLaterCounts() {
        GroupDescription first = group("bulk", BULK_ID, bucket(11, 1));
        GroupDescription later = group("bulk", BULK_ID, bucket(11, 3), bucket(12, 1));

        SwitchChanges changes = SwitchChanges.diff(bulk(), program(List.of(first, later), bulk().rules()));

        assertThat(changes.isEmpty()).isTrue();
        assertThat(changes.wantedGroups()).isEqualTo(1);
    }
}
