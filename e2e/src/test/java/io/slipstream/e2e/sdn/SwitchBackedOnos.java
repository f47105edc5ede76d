package io.slipstream.e2e.sdn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.controller.onos.OsgiPropertyConstants;
import io.slipstream.controller.onos.SlipstreamConfig;
import io.slipstream.controller.onos.SlipstreamManager;
import io.slipstream.controller.onos.SlipstreamService;
import java.lang.reflect.Proxy;
import java.util.Hashtable;
import org.onlab.packet.IpAddress;
import org.onosproject.cfg.ComponentConfigAdapter;
import org.onosproject.cluster.ClusterServiceAdapter;
import org.onosproject.cluster.ControllerNode;
import org.onosproject.cluster.DefaultControllerNode;
import org.onosproject.cluster.LeadershipServiceAdapter;
import org.onosproject.cluster.NodeId;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.CoreServiceAdapter;
import org.onosproject.core.DefaultApplicationId;
import org.onosproject.net.config.Config;
import org.onosproject.net.config.NetworkConfigRegistryAdapter;
import org.onosproject.net.device.DeviceService;
import org.onosproject.net.flow.FlowRuleService;
import org.onosproject.net.group.GroupService;
import org.onosproject.net.host.HostService;
import org.osgi.service.component.ComponentContext;

/**
 * The ONOS app's component ({@link SlipstreamManager}) run in the test JVM the way ONOS runs it: its
 * {@code @Reference}s filled with the given flow rule, group, host and device services (the test
 * southbound and the switch's view) and with single-node ONOS doubles for the rest (this node leads
 * the app's topic), its network configuration {@code slipstream} given as JSON, then activated and,
 * on {@link #close()}, deactivated. The references go in through {@link SlipstreamManager.Services}.
 */
public final class SwitchBackedOnos implements AutoCloseable {

    private static final NodeId LOCAL = NodeId.nodeId("onos-it");

    private final SlipstreamManager manager;
    private boolean active;

    private SwitchBackedOnos(SlipstreamManager manager) {
        this.manager = manager;
    }

    /** Activates the app with {@code netcfg} as its {@code slipstream} network configuration. */
    public static SwitchBackedOnos activate(FlowRuleService flows, GroupService groups, HostService hosts,
                                            DeviceService devices, JsonNode netcfg, String zookeeper) {
        SlipstreamManager.Services services = new SlipstreamManager.Services()
                .coreService(new CoreServiceAdapter() {
                    @Override
                    public ApplicationId registerApplication(String name) {
                        return new DefaultApplicationId(42, name);
                    }
                })
                .flowRuleService(flows)
                .groupService(groups)
                .hostService(hosts)
                .deviceService(devices)
                .networkConfigRegistry(new NetworkConfigRegistryAdapter() {
                    private final ObjectMapper mapper = new ObjectMapper();

                    @Override
                    public <S, C extends Config<S>> C getConfig(S subject, Class<C> configClass) {
                        if (configClass != SlipstreamConfig.class) {
                            return null;
                        }
                        SlipstreamConfig config = new SlipstreamConfig();
                        config.init((ApplicationId) subject, SlipstreamConfig.KEY, netcfg, mapper, c -> { });
                        return configClass.cast(config);
                    }
                })
                .leadershipService(new LeadershipServiceAdapter() {
                    @Override
                    public NodeId getLeader(String topic) {
                        return LOCAL;
                    }
                })
                .clusterService(new ClusterServiceAdapter() {
                    @Override
                    public ControllerNode getLocalNode() {
                        return new DefaultControllerNode(LOCAL, IpAddress.valueOf("127.0.0.1"));
                    }
                })
                .cfgService(new ComponentConfigAdapter());
        SwitchBackedOnos onos = new SwitchBackedOnos(new SlipstreamManager(services));
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(OsgiPropertyConstants.ZOOKEEPER_CONNECT, zookeeper);
        properties.put(OsgiPropertyConstants.LOAD_INTERVAL_MILLIS, 200);
        ComponentContext context = (ComponentContext) Proxy.newProxyInstance(
                SwitchBackedOnos.class.getClassLoader(), new Class<?>[] {ComponentContext.class},
                (proxy, method, args) -> method.getName().equals("getProperties") ? properties : null);
        onos.manager.activate(context);
        onos.active = true;
        return onos;
    }

    public SlipstreamService service() {
        return manager;
    }

    /** Deactivates the component (it removes what it installed). */
    @Override
    public void close() {
        if (active) {
            active = false;
            manager.deactivate();
        }
    }
}
