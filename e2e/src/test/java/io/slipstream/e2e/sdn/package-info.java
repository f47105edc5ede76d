/**
 * Flow steering on a real switch, for tests: an Open vSwitch bridge (userspace datapath) with
 * network namespaces ({@link io.slipstream.e2e.sdn.OvsSwitch}), a test-only southbound that applies
 * the ONOS {@code FlowRule}s and groups the app produces to that bridge through {@code ovs-ofctl}
 * ({@link io.slipstream.e2e.sdn.OpenFlowTranslator}, {@link io.slipstream.e2e.sdn.OvsFlowRuleService},
 * {@link io.slipstream.e2e.sdn.OvsGroupService}), and ONOS host and device views of the namespaces.
 */
package io.slipstream.e2e.sdn;
