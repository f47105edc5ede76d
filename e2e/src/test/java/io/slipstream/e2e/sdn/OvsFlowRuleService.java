package io.slipstream.e2e.sdn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.onosproject.core.ApplicationId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.flow.DefaultFlowEntry;
import org.onosproject.net.flow.FlowEntry;
import org.onosproject.net.flow.FlowId;
import org.onosproject.net.flow.FlowRule;
import org.onosproject.net.flow.FlowRuleOperation;
import org.onosproject.net.flow.FlowRuleOperations;
import org.onosproject.net.flow.FlowRuleServiceAdapter;

/**
 * The test southbound's flow rule service: every rule the app applies or removes is written to the
 * Open vSwitch bridge at once with {@code ovs-ofctl} (one rule per {@code add-flow}, removal by the
 * rule's cookie), and kept as an ADDED flow entry, so that the app reads back what the switch holds.
 * Each change is logged with its time, for the test to measure and to show.
 */
public final class OvsFlowRuleService extends FlowRuleServiceAdapter {

    /** One change applied to the switch. */
    public record Applied(long nanoTime, String operation, String spec) {
    }

    private final OvsSwitch ovs;
    private final DeviceId device;
    private final Map<FlowId, FlowRule> rules = new LinkedHashMap<>();
    private final List<Applied> log = new CopyOnWriteArrayList<>();

    public OvsFlowRuleService(OvsSwitch ovs, DeviceId device) {
        this.ovs = ovs;
        this.device = device;
    }

    public List<Applied> log() {
        return log;
    }

    public synchronized List<FlowRule> rules() {
        return new ArrayList<>(rules.values());
    }

    @Override
    public synchronized void applyFlowRules(FlowRule... flowRules) {
        for (FlowRule r : flowRules) {
            add(r);
        }
    }

    @Override
    public synchronized void removeFlowRules(FlowRule... flowRules) {
        for (FlowRule r : flowRules) {
            remove(r);
        }
    }

    @Override
    public synchronized void removeFlowRulesById(ApplicationId id) {
        for (FlowRule r : rules()) {
            if (r.appId() == id.id()) {
                remove(r);
            }
        }
    }

    @Override
    public synchronized void purgeFlowRules(DeviceId deviceId) {
        for (FlowRule r : rules()) {
            if (r.deviceId().equals(deviceId)) {
                remove(r);
            }
        }
    }

    @Override
    public synchronized void apply(FlowRuleOperations ops) {
        try {
            for (var stage : ops.stages()) {
                for (FlowRuleOperation op : stage) {
                    switch (op.type()) {
                        case ADD:
                        case MODIFY:
                            add(op.rule());
                            break;
                        case REMOVE:
                            remove(op.rule());
                            break;
                        default:
                            throw new IllegalArgumentException("flow rule operation " + op.type());
                    }
                }
            }
        } catch (RuntimeException e) {
            ops.callback().onError(ops);
            throw e;
        }
        ops.callback().onSuccess(ops);
    }

    @Override
    public synchronized int getFlowRuleCount() {
        return rules.size();
    }

    @Override
    public synchronized Iterable<FlowEntry> getFlowEntries(DeviceId deviceId) {
        return rules.values().stream().filter(r -> r.deviceId().equals(deviceId)).map(OvsFlowRuleService::entry)
                .collect(Collectors.toList());
    }

    @Override
    public synchronized Iterable<FlowEntry> getFlowEntriesById(ApplicationId id) {
        return rules.values().stream().filter(r -> r.appId() == id.id()).map(OvsFlowRuleService::entry)
                .collect(Collectors.toList());
    }

    @Override
    public synchronized FlowEntry getFlowEntry(FlowRule rule) {
        FlowRule r = rules.get(rule.id());
        return r == null ? null : entry(r);
    }

    private static FlowEntry entry(FlowRule r) {
        return new DefaultFlowEntry(r, FlowEntry.FlowEntryState.ADDED, 0, 0, 0);
    }

    private void add(FlowRule r) {
        checkDevice(r);
        String spec = OpenFlowTranslator.flow(r);
        if (rules.containsKey(r.id())) {
            ovs.ofctl("del-flows", "cookie=" + OpenFlowTranslator.cookie(r) + "/-1");
        }
        ovs.ofctl("add-flow", spec);
        rules.put(r.id(), r);
        log.add(new Applied(System.nanoTime(), "add-flow", spec));
    }

    private void remove(FlowRule r) {
        checkDevice(r);
        String cookie = "cookie=" + OpenFlowTranslator.cookie(r) + "/-1";
        ovs.ofctl("del-flows", cookie);
        rules.remove(r.id());
        log.add(new Applied(System.nanoTime(), "del-flows", cookie));
    }

    private void checkDevice(FlowRule r) {
        if (!r.deviceId().equals(device)) {
            throw new IllegalArgumentException("flow rule for device " + r.deviceId() + ", but the test switch is "
                    + device + ": " + r);
        }
    }
}
