package io.slipstream.controller.onos;

import static io.slipstream.controller.onos.OsgiPropertyConstants.BUCKET_COUNT;
import static io.slipstream.controller.onos.OsgiPropertyConstants.BUCKET_COUNT_DEFAULT;
import static io.slipstream.controller.onos.OsgiPropertyConstants.LOAD_INTERVAL_MILLIS;
import static io.slipstream.controller.onos.OsgiPropertyConstants.LOAD_INTERVAL_MILLIS_DEFAULT;
import static io.slipstream.controller.onos.OsgiPropertyConstants.ZK_SESSION_TIMEOUT_MILLIS;
import static io.slipstream.controller.onos.OsgiPropertyConstants.ZK_SESSION_TIMEOUT_MILLIS_DEFAULT;
import static io.slipstream.controller.onos.OsgiPropertyConstants.ZOOKEEPER_CONNECT;
import static io.slipstream.controller.onos.OsgiPropertyConstants.ZOOKEEPER_CONNECT_DEFAULT;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.contract.steering.FlowHash;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.fleet.FleetCore;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.SteeringTable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.onlab.util.Tools;
import org.onosproject.cfg.ComponentConfigService;
import org.onosproject.cluster.ClusterService;
import org.onosproject.cluster.LeadershipEvent;
import org.onosproject.cluster.LeadershipEventListener;
import org.onosproject.cluster.LeadershipService;
import org.onosproject.cluster.NodeId;
import org.onosproject.core.ApplicationId;
import org.onosproject.core.CoreService;
import org.onosproject.net.DeviceId;
import org.onosproject.net.device.DeviceEvent;
import org.onosproject.net.device.DeviceListener;
import org.onosproject.net.device.DeviceService;
import org.onosproject.net.flow.FlowRuleService;
import org.onosproject.net.group.GroupService;
import org.onosproject.net.host.HostListener;
import org.onosproject.net.host.HostService;
import org.onosproject.net.config.ConfigFactory;
import org.onosproject.net.config.NetworkConfigEvent;
import org.onosproject.net.config.NetworkConfigListener;
import org.onosproject.net.config.NetworkConfigRegistry;
import org.onosproject.net.config.basics.SubjectFactories;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Slipstream ONOS component. Composition root: it holds the OSGi references, the listeners and the
 * leadership gate, runs the {@link FleetCore} the standalone controller runs too (against the configured
 * ZooKeeper), plans with {@link SteeringPlanner}, turns the plan into switch entries with
 * {@link SteeringProgrammer} and installs them with {@link SteeringInstaller}.
 *
 * <p>Only the leader of the app's topic runs the fleet core and programs the edge switches; another
 * instance stands by. Every fleet, policy, host, device or leadership change reprograms at once on the
 * app's own thread (no periodic timer): a dead worker leaves the SELECT groups as soon as the fleet core
 * sees its control stream break.
 */
@Component(immediate = true, service = SlipstreamService.class,
        property = {
            ZOOKEEPER_CONNECT + "=" + ZOOKEEPER_CONNECT_DEFAULT,
            BUCKET_COUNT + ":Integer=" + BUCKET_COUNT_DEFAULT,
            ZK_SESSION_TIMEOUT_MILLIS + ":Integer=" + ZK_SESSION_TIMEOUT_MILLIS_DEFAULT,
            LOAD_INTERVAL_MILLIS + ":Integer=" + LOAD_INTERVAL_MILLIS_DEFAULT,
        })
public class SlipstreamManager implements SlipstreamService {

    /** The app's name (app.xml) and leadership topic. */
    public static final String APP_NAME = "io.slipstream.steering";
    /** How long a vanished registration of a still-serving worker is kept (as the standalone controller). */
    static final Duration MEMBERSHIP_GRACE = Duration.ofSeconds(3);
    /** Delay before the leader tries again to start the fleet core when ZooKeeper was not reachable. */
    static final Duration FLEET_RETRY = Duration.ofSeconds(5);
    /** How often the control channels' TLS material is read again from the configured directory. */
    static final Duration TLS_RELOAD = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(SlipstreamManager.class);

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected CoreService coreService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected FlowRuleService flowRuleService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected GroupService groupService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected HostService hostService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected DeviceService deviceService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected NetworkConfigRegistry networkConfigRegistry;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected LeadershipService leadershipService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected ClusterService clusterService;

    @Reference(cardinality = ReferenceCardinality.MANDATORY)
    protected ComponentConfigService cfgService;

    /** ZooKeeper connect string used when the network configuration names none. */
    private String zookeeperConnect = ZOOKEEPER_CONNECT_DEFAULT;

    /** Flow buckets per policy and site when the fleet policy's bucket_count is 0 (a power of two). */
    private int bucketCount = BUCKET_COUNT_DEFAULT;

    /** ZooKeeper session timeout of the fleet core's client. */
    private int zkSessionTimeoutMillis = ZK_SESSION_TIMEOUT_MILLIS_DEFAULT;

    /** How often workers send load reports to the fleet core. */
    private int loadIntervalMillis = LOAD_INTERVAL_MILLIS_DEFAULT;

    private final ConfigFactory<ApplicationId, SlipstreamConfig> configFactory =
            new ConfigFactory<ApplicationId, SlipstreamConfig>(SubjectFactories.APP_SUBJECT_FACTORY,
                    SlipstreamConfig.class, SlipstreamConfig.KEY) {
                @Override
                public SlipstreamConfig createConfig() {
                    return new SlipstreamConfig();
                }
            };

    private final NetworkConfigListener configListener = new InternalConfigListener();
    private final LeadershipEventListener leadershipListener = new InternalLeadershipListener();
    private final HostListener hostListener = event -> onNetworkChange(true);
    private final DeviceListener deviceListener = event -> onNetworkChange(
            event.type() == DeviceEvent.Type.DEVICE_ADDED || event.type() == DeviceEvent.Type.DEVICE_REMOVED
                    || event.type() == DeviceEvent.Type.DEVICE_AVAILABILITY_CHANGED);

    private ApplicationId appId;
    private ScheduledExecutorService executor;
    private final AtomicBoolean reprogramQueued = new AtomicBoolean();
    /** Set by everything but fleet snapshots: the next reprogram must not be skipped for an unchanged placement. */
    private final AtomicBoolean inputsChanged = new AtomicBoolean(true);

    // ---- state, touched on the executor only (read by the service methods through volatile copies) ----
    private volatile String configuredTlsDir;
    private volatile boolean configuredPlaintext;
    private volatile FleetPolicy policy = FleetPolicy.getDefaultInstance();
    private volatile Map<DeviceId, String> edgeDevices = Map.of();
    private String configuredZooKeeper;
    private volatile boolean leader;
    private boolean deactivating;
    private volatile FleetCore fleetCore;
    private volatile SteeringTable placement = SteeringTable.getDefaultInstance();
    private volatile SteeringProgrammer.Program program = SteeringProgrammer.Program.empty();
    private SteeringInstaller installer;

    /** The component as the service runtime creates it, its {@code @Reference} fields set before {@link #activate}. */
    public SlipstreamManager() {
    }

    /**
     * The component outside OSGi (an embedding, a test in another package): its references are {@code services},
     * then {@link #activate} and {@link #deactivate} are called as the service runtime would.
     */
    public SlipstreamManager(Services services) {
        coreService = services.require(services.coreService, "coreService");
        flowRuleService = services.require(services.flowRuleService, "flowRuleService");
        groupService = services.require(services.groupService, "groupService");
        hostService = services.require(services.hostService, "hostService");
        deviceService = services.require(services.deviceService, "deviceService");
        networkConfigRegistry = services.require(services.networkConfigRegistry, "networkConfigRegistry");
        leadershipService = services.require(services.leadershipService, "leadershipService");
        clusterService = services.require(services.clusterService, "clusterService");
        cfgService = services.require(services.cfgService, "cfgService");
    }

    @Activate
    public void activate(ComponentContext context) {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "slipstream-onos");
            t.setDaemon(true);
            return t;
        });
        appId = coreService.registerApplication(APP_NAME);
        installer = new SteeringInstaller(appId, flowRuleService, groupService);
        cfgService.registerProperties(getClass());
        readComponentConfig(context);
        networkConfigRegistry.registerConfigFactory(configFactory);
        networkConfigRegistry.addListener(configListener);
        async(this::readNetworkConfig);
        hostService.addListener(hostListener);
        deviceService.addListener(deviceListener);
        leadershipService.addListener(leadershipListener);
        leadershipService.runForLeadership(APP_NAME);
        async(this::checkLeadership);
        log.info("Started");
    }

    @Deactivate
    public void deactivate() {
        onExecutor(() -> {
            deactivating = true;
            leader = false;
            stopSteering();
            installer.removeEverything(edgeDevices.keySet());
        });
        leadershipService.withdraw(APP_NAME);
        leadershipService.removeListener(leadershipListener);
        deviceService.removeListener(deviceListener);
        hostService.removeListener(hostListener);
        networkConfigRegistry.removeListener(configListener);
        networkConfigRegistry.unregisterConfigFactory(configFactory);
        cfgService.unregisterProperties(getClass(), false);
        executor.shutdownNow();
        log.info("Stopped");
    }

    @Modified
    protected void modified(ComponentContext context) {
        readComponentConfig(context);
        inputsChanged.set(true);
        onExecutor(() -> {
            restartFleetIfZooKeeperChanged();
            reprogram();
        });
    }

    private void readComponentConfig(ComponentContext context) {
        if (context == null) {
            return;
        }
        Dictionary<?, ?> properties = context.getProperties();
        String zk = Tools.get(properties, ZOOKEEPER_CONNECT);
        zookeeperConnect = zk == null || zk.isBlank() ? ZOOKEEPER_CONNECT_DEFAULT : zk.trim();
        int buckets = Tools.getIntegerProperty(properties, BUCKET_COUNT, BUCKET_COUNT_DEFAULT);
        try {
            bucketCount = FlowHash.checkBucketCount(buckets);
        } catch (IllegalArgumentException e) {
            log.warn("{}: {}; keeping {}", BUCKET_COUNT, e.getMessage(), bucketCount);
        }
        zkSessionTimeoutMillis = Math.max(1000, Tools.getIntegerProperty(properties, ZK_SESSION_TIMEOUT_MILLIS,
                ZK_SESSION_TIMEOUT_MILLIS_DEFAULT));
        loadIntervalMillis = Math.max(100, Tools.getIntegerProperty(properties, LOAD_INTERVAL_MILLIS,
                LOAD_INTERVAL_MILLIS_DEFAULT));
        log.info("configured: {}={}, {}={}", ZOOKEEPER_CONNECT, zookeeperConnect, BUCKET_COUNT, bucketCount);
    }

    // ---- SlipstreamService ----

    @Override
    public FleetPolicy policy() {
        return policy;
    }

    @Override
    public FleetPolicy applyPolicy(String json) {
        FleetPolicy parsed = FleetPolicies.parse(json);
        onExecutor(() -> setPolicy(parsed));
        SlipstreamConfig current = networkConfigRegistry.getConfig(appId, SlipstreamConfig.class);
        networkConfigRegistry.applyConfig(appId, SlipstreamConfig.class, SlipstreamConfig.withPolicy(current, parsed));
        return parsed;
    }

    @Override
    public List<WorkerView> workers() {
        FleetController f = fleet();
        return f == null ? List.of() : f.snapshot().workers();
    }

    @Override
    public SteeringTable placement() {
        return placement;
    }

    @Override
    public SteeringProgrammer.Program program() {
        return program;
    }

    @Override
    public boolean isLeader() {
        return leader;
    }

    // ---- configuration (executor) ----

    private void readNetworkConfig() {
        SlipstreamConfig config = networkConfigRegistry.getConfig(appId, SlipstreamConfig.class);
        if (config == null) {
            edgeDevices = Map.of();
            configuredZooKeeper = null;
            configuredTlsDir = null;
            configuredPlaintext = false;
            inputsChanged.set(true);
            restartFleetIfZooKeeperChanged();
            reprogram();
            return;
        }
        List<String> errors = config.errors();
        if (!errors.isEmpty()) {
            log.error("network configuration {} ignored: {}", SlipstreamConfig.KEY, String.join("; ", errors));
            return;
        }
        edgeDevices = Map.copyOf(config.edgeDevices());
        inputsChanged.set(true);
        configuredZooKeeper = config.zookeeper();
        boolean tlsChanged = !java.util.Objects.equals(configuredTlsDir, config.tlsDir());
        configuredTlsDir = config.tlsDir();
        configuredPlaintext = config.insecurePlaintext();
        if (tlsChanged && leader && fleetCore != null) {
            log.info("control channel TLS changed: restarting the fleet core");
            stopFleet();
            startFleet();
        }
        FleetPolicy configured = config.policy();
        restartFleetIfZooKeeperChanged();
        if (configured != null && !configured.equals(policy)) {
            setPolicy(configured);
        } else {
            reprogram();
        }
    }

    private void setPolicy(FleetPolicy next) {
        policy = next;
        inputsChanged.set(true);
        FleetController f = fleet();
        if (f != null) {
            f.updatePolicy(next);
        }
        log.info("fleet policy in force: {} policies", next.getPoliciesCount());
        reprogram();
    }

    /**
     * The fleet core against {@code zk}, with mutual TLS from the configured directory (reloaded on change), or
     * plaintext: asked for with {@code insecurePlaintext}, or (warned) when the configuration names no TLS directory.
     */
    private FleetCore.Builder fleetCore(String zk) {
        FleetCore.Builder core = FleetCore.builder(zk)
                .sessionTimeoutMillis(zkSessionTimeoutMillis)
                .auth(ZooKeeperAuth.fromEnvironment())
                .membershipGrace(MEMBERSHIP_GRACE)
                .loadIntervalMillis(loadIntervalMillis)
                .policy(policy)
                .meters(new SimpleMeterRegistry())
                .listener(snapshot -> onFleetChange());
        String dir = configuredTlsDir;
        if (dir == null) {
            return core.plaintext((configuredPlaintext ? SlipstreamConfig.INSECURE_PLAINTEXT + " is true"
                    : "no " + SlipstreamConfig.TLS_DIR + " configured") + "; set " + SlipstreamConfig.KEY + "."
                    + SlipstreamConfig.TLS_DIR + " for mutual TLS");
        }
        return core.mutualTls(TlsFiles.inDirectory(Path.of(dir)), TLS_RELOAD);
    }

    /** The running fleet controller, or {@code null} when the fleet core is not running. */
    private FleetController fleet() {
        FleetCore c = fleetCore;
        return c == null ? null : c.controller();
    }

    private String zooKeeper() {
        return configuredZooKeeper != null ? configuredZooKeeper : zookeeperConnect;
    }

    // ---- leadership (executor) ----

    private void checkLeadership() {
        if (deactivating) {
            return;
        }
        NodeId local = clusterService.getLocalNode() == null ? null : clusterService.getLocalNode().id();
        boolean now = local != null && local.equals(leadershipService.getLeader(APP_NAME));
        if (now == leader) {
            return;
        }
        leader = now;
        if (now) {
            log.info("leader of {}: starting the fleet core and steering", APP_NAME);
            startSteering();
        } else {
            log.info("no longer leader of {}: steering stopped (the new leader takes the switches over)", APP_NAME);
            stopSteering();
        }
    }

    private void startSteering() {
        inputsChanged.set(true);
        installer.adopt(edgeDevices.keySet());
        startFleet();
        reprogram();
    }

    private void startFleet() {
        String zk = zooKeeper();
        try {
            fleetCore = fleetCore(zk).start();
            log.info("fleet core started against ZooKeeper {}", zk);
        } catch (Exception e) {
            log.error("could not start the fleet core against ZooKeeper {}: {}; trying again in {} s", zk,
                    e.toString(), FLEET_RETRY.toSeconds());
            stopFleet();
            executor.schedule(() -> {
                if (leader && fleetCore == null) {
                    startFleet();
                    reprogram();
                }
            }, FLEET_RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void stopFleet() {
        FleetCore c = fleetCore;
        fleetCore = null;
        if (c != null) {
            c.close();
        }
    }

    private void restartFleetIfZooKeeperChanged() {
        if (leader && fleetCore != null && !zooKeeper().equals(fleetCore.zookeeper())) {
            log.info("ZooKeeper changed to {}: restarting the fleet core", zooKeeper());
            stopFleet();
            startFleet();
        }
    }

    /** Stops programming; what is installed stays for the next leader (or is removed on deactivate). */
    private void stopSteering() {
        stopFleet();
        placement = SteeringTable.getDefaultInstance();
        program = SteeringProgrammer.Program.empty();
    }

    // ---- programming (executor) ----

    private void onFleetChange() {
        if (reprogramQueued.compareAndSet(false, true)) {
            async(() -> {
                reprogramQueued.set(false);
                reprogram();
            });
        }
    }

    private void onNetworkChange(boolean relevant) {
        if (relevant) {
            inputsChanged.set(true);
            onFleetChange();
        }
    }

    private void reprogram() {
        FleetController f = fleet();
        if (!leader || f == null) {
            return;
        }
        FleetSnapshot snapshot = f.snapshot();
        FleetPolicy effective = policy.getBucketCount() == 0 ? policy.toBuilder().setBucketCount(bucketCount).build()
                : policy;
        SteeringTable table = SteeringPlanner.plan(effective, snapshot.workers());
        if (!inputsChanged.getAndSet(false) && table.equals(placement)) {
            return; // a load report or a change that moves no bucket: nothing to reprogram
        }
        SteeringProgrammer.Program next = SteeringProgrammer.program(appId, effective, table, edgeDevices,
                new OnosNetworkView(deviceService, hostService));
        installer.install(next);
        placement = table;
        program = next;
        for (String problem : next.problems()) {
            log.debug("steering: {}", problem);
        }
    }

    // ---- plumbing ----

    /** Runs {@code task} on the app's thread; a failure is logged (and the next reprogram is not skipped). */
    private void async(Runnable task) {
        executor.execute(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                inputsChanged.set(true);
                log.error("slipstream task failed", e);
            }
        });
    }

    /** Runs {@code task} on the app's thread and waits for it (bounded), so that callers see its effect. */
    private void onExecutor(Runnable task) {
        Future<?> done = executor.submit(task);
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            log.error("slipstream task failed", e.getCause());
        } catch (TimeoutException e) {
            log.warn("slipstream task still running after 30 s");
        }
    }

    /** The ONOS services the component references, set by name for {@link #SlipstreamManager(Services)}. */
    public static final class Services {
        private CoreService coreService;
        private FlowRuleService flowRuleService;
        private GroupService groupService;
        private HostService hostService;
        private DeviceService deviceService;
        private NetworkConfigRegistry networkConfigRegistry;
        private LeadershipService leadershipService;
        private ClusterService clusterService;
        private ComponentConfigService cfgService;

        public Services coreService(CoreService s) {
            coreService = s;
            return this;
        }

        public Services flowRuleService(FlowRuleService s) {
            flowRuleService = s;
            return this;
        }

        public Services groupService(GroupService s) {
            groupService = s;
            return this;
        }

        public Services hostService(HostService s) {
            hostService = s;
            return this;
        }

        public Services deviceService(DeviceService s) {
            deviceService = s;
            return this;
        }

        public Services networkConfigRegistry(NetworkConfigRegistry s) {
            networkConfigRegistry = s;
            return this;
        }

        public Services leadershipService(LeadershipService s) {
            leadershipService = s;
            return this;
        }

        public Services clusterService(ClusterService s) {
            clusterService = s;
            return this;
        }

        public Services cfgService(ComponentConfigService s) {
            cfgService = s;
            return this;
        }

        private <T> T require(T service, String name) {
            if (service == null) {
                throw new IllegalArgumentException("services." + name + ": null (expected: the ONOS service the "
                        + "component references)");
            }
            return service;
        }
    }

    private final class InternalConfigListener implements NetworkConfigListener {
        @Override
        public boolean isRelevant(NetworkConfigEvent event) {
            return event.configClass() == SlipstreamConfig.class;
        }

        @Override
        public void event(NetworkConfigEvent event) {
            switch (event.type()) {
                case CONFIG_ADDED:
                case CONFIG_UPDATED:
                case CONFIG_REMOVED:
                    async(SlipstreamManager.this::readNetworkConfig);
                    break;
                default:
                    break;
            }
        }
    }

    private final class InternalLeadershipListener implements LeadershipEventListener {
        @Override
        public boolean isRelevant(LeadershipEvent event) {
            return APP_NAME.equals(event.subject().topic());
        }

        @Override
        public void event(LeadershipEvent event) {
            async(SlipstreamManager.this::checkLeadership);
        }
    }
}
