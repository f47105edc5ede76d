package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.FleetPolicy;
import java.lang.reflect.Proxy;
import java.util.Hashtable;
import org.junit.jupiter.api.Test;
import org.onosproject.cfg.ComponentConfigAdapter;
import org.onosproject.cluster.NodeId;
import org.onosproject.net.DeviceId;
import org.osgi.service.component.ComponentContext;

/**
 * The component built through {@link SlipstreamManager.Services}, as code outside its package builds it, while
 * another node leads: no fleet core, no ZooKeeper (the leading component with ZooKeeper: SlipstreamManagerIT).
 */
class SlipstreamManagerTest {

    private static final DeviceId EDGE = DeviceId.deviceId("of:0000000000000001");

    private final OnosDoubles.Leadership leadership = new OnosDoubles.Leadership(NodeId.nodeId("onos-2"));
    private final OnosDoubles.FlowRules flows = new OnosDoubles.FlowRules();

    private SlipstreamManager.Services services() {
        return new SlipstreamManager.Services()
                .coreService(new OnosDoubles.Core())
                .flowRuleService(flows)
                .groupService(new OnosDoubles.Groups())
                .hostService(new OnosDoubles.Hosts())
                .deviceService(new OnosDoubles.Devices(EDGE))
                .networkConfigRegistry(new OnosDoubles.NetworkConfig())
                .leadershipService(leadership)
                .clusterService(new OnosDoubles.Cluster())
                .cfgService(new ComponentConfigAdapter());
    }

    private static ComponentContext noProperties() {
        Hashtable<String, Object> properties = new Hashtable<>();
        return (ComponentContext) Proxy.newProxyInstance(SlipstreamManagerTest.class.getClassLoader(),
                new Class<?>[] {ComponentContext.class},
                (proxy, method, args) -> method.getName().equals("getProperties") ? properties : null);
    }

    @Test
    void services_oneMissing_refusedNamingIt() {
        assertThatThrownBy(() -> new SlipstreamManager(services().hostService(null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("services.hostService: null (expected: the ONOS service the component references)");
    }

    @Test
    void activate_anotherNodeLeads_standsByAndDeactivateWithdraws() {
        SlipstreamManager manager = new SlipstreamManager(services());

        manager.activate(noProperties());
        try {
            assertThat(manager.isLeader()).isFalse();
            assertThat(manager.workers()).isEmpty();
            assertThat(manager.policy()).isEqualTo(FleetPolicy.getDefaultInstance());
        } finally {
            manager.deactivate();
        }

        assertThat(leadership.withdrawn).containsExactly(SlipstreamManager.APP_NAME);
    }
}
