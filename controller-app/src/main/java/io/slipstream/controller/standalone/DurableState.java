package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.contract.FleetPaths;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.FleetController;
import io.slipstream.controller.scale.Autoscaler;
import io.slipstream.controller.state.StateRecord;
import io.slipstream.controller.state.StateStore;
import io.slipstream.controller.state.StateUnavailableException;
import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone controller's durable state (issue 23): the fleet policy and the scaling overrides as
 * versioned records in ZooKeeper ({@link StateStore}), made to agree with the start-up values once ZooKeeper
 * is reached, applied to the {@link FleetController} and the {@link Autoscaler}, and watched
 * ({@link CuratorCache}) so that a change made through another controller is applied here too. Versions only
 * go forward: a record is applied when its version is above the one applied.
 */
final class DurableState implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(DurableState.class);
    static final String EMPTY_OVERRIDES = "{\"overrides\":[]}";

    private final FleetController fleet;
    private final Supplier<Autoscaler> autoscaler;
    private final StateStore policy;
    private final StateStore overrides;
    private final String valuesPolicy;
    private final String self;
    private final CuratorCache watch;
    private final ScheduledExecutorService executor;
    private final CountDownLatch synced = new CountDownLatch(1);
    private volatile StateRecord policyRecord;
    private volatile StateRecord overridesRecord;
    private long appliedPolicy;
    private long appliedOverrides;

    /**
     * @param valuesPolicy the start-up policy ({@code --policy}) as {@link FleetPolicies#toJson}
     * @param self how this controller names itself in records it writes from its values
     */
    DurableState(CuratorFramework curator, ZooKeeperAuth auth, FleetController fleet, Supplier<Autoscaler> autoscaler,
                 String valuesPolicy, String self) {
        this.fleet = fleet;
        this.autoscaler = autoscaler;
        this.valuesPolicy = valuesPolicy;
        this.self = self;
        List<ACL> acl = stateAcl(auth);
        this.policy = new StateStore(curator, "policy", json -> FleetPolicies.parse(json), acl, Clock.systemUTC());
        this.overrides = new StateStore(curator, "scaling-overrides", DurableState::parseOverrides, acl,
                Clock.systemUTC());
        this.watch = CuratorCache.build(curator, FleetPaths.CONTROLLER_STATE_PATH);
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "controller-state");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The ACLs of the state nodes: the fleet's identities only (ALL), and no READ for everyone: the records name
     * who changed what. Open (development) without credentials.
     */
    static List<ACL> stateAcl(ZooKeeperAuth auth) {
        List<ACL> acl = new ArrayList<>(auth.acl());
        if (auth.enabled()) {
            acl.removeIf(a -> a.getId().equals(ZooDefs.Ids.ANYONE_ID_UNSAFE));
        }
        return acl;
    }

    /**
     * Starts watching, and syncs with the values as soon as ZooKeeper answers (retried every second), then runs
     * {@code afterSync} (joining the leader election) once. Waits up to {@code wait} for the first sync.
     */
    void start(Duration wait, Runnable afterSync) throws InterruptedException {
        watch.listenable().addListener((type, oldData, data) -> executor.execute(this::refresh));
        watch.start();
        executor.execute(new Runnable() {
            @Override
            public void run() {
                try {
                    StateRecord p = policy.adoptValues(valuesPolicy, self);
                    StateRecord o = overrides.adoptValues(EMPTY_OVERRIDES, self);
                    applyPolicy(p);
                    applyOverrides(o);
                    synced.countDown();
                    afterSync.run();
                } catch (StateUnavailableException e) {
                    log.warn("controller state not read yet ({}); running the start-up values, not leading; retrying",
                            e.getMessage());
                    executor.schedule(this, 1, TimeUnit.SECONDS);
                } catch (RuntimeException e) {
                    log.error("controller state: start failed; retrying", e);
                    executor.schedule(this, 1, TimeUnit.SECONDS);
                }
            }
        });
        if (!synced.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            log.warn("controller state: ZooKeeper not reached within {} ms; serving the start-up values and not "
                    + "leading until it is", wait.toMillis());
        }
    }

    private void refresh() {
        if (synced.getCount() > 0) {
            return;
        }
        try {
            policy.read().ifPresent(this::applyPolicy);
            overrides.read().ifPresent(this::applyOverrides);
        } catch (StateUnavailableException | RuntimeException e) {
            log.warn("controller state: cannot read a change: {}", e.getMessage());
        }
    }

    /** Applies a policy record if it is newer than the one applied; returns the fleet's generation after. */
    synchronized long applyPolicy(StateRecord record) {
        if (record.version() <= appliedPolicy) {
            return fleet.snapshot().generation();
        }
        appliedPolicy = record.version();
        policyRecord = record;
        log.info("fleet policy version {} in force", record);
        try {
            return fleet.updatePolicy(FleetPolicies.parse(record.content())).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("applying policy " + record + " failed", e);
        }
    }

    synchronized void applyOverrides(StateRecord record) {
        if (record.version() <= appliedOverrides) {
            return;
        }
        appliedOverrides = record.version();
        overridesRecord = record;
        Autoscaler a = autoscaler.get();
        if (a != null) {
            a.replaceOverrides(parseOverrides(record.content()));
        }
    }

    StateStore policyStore() {
        return policy;
    }

    StateStore overridesStore() {
        return overrides;
    }

    /** The policy record in force, or {@code null} before ZooKeeper was first reached. */
    StateRecord policyRecord() {
        return policyRecord;
    }

    /** The overrides record in force, or {@code null} before ZooKeeper was first reached. */
    StateRecord overridesRecord() {
        return overridesRecord;
    }

    /** "role@site" to {min, max}. */
    static Map<String, int[]> parseOverrides(String json) {
        JsonNode root;
        try {
            root = FleetJson.mapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("scaling overrides: not JSON (" + e.getMessage() + ")");
        }
        if (root == null || !root.path("overrides").isArray()) {
            throw new IllegalArgumentException("scaling overrides: expected {\"overrides\": [...]}");
        }
        Map<String, int[]> pins = new TreeMap<>();
        int i = 0;
        for (JsonNode o : root.get("overrides")) {
            if (!o.path("role").isTextual() || !o.path("site").isTextual() || !o.path("minReplicas").isInt()
                    || !o.path("maxReplicas").isInt()) {
                throw new IllegalArgumentException("scaling overrides: $.overrides[" + i + "]: expected role, site "
                        + "(strings), minReplicas, maxReplicas (integers)");
            }
            pins.put(o.get("role").asText() + "@" + o.get("site").asText(),
                    new int[] {o.get("minReplicas").asInt(), o.get("maxReplicas").asInt()});
            i++;
        }
        return pins;
    }

    /** The canonical JSON of a set of overrides (sorted by role and site). */
    static String overridesJson(Map<String, int[]> pins) {
        ObjectNode root = FleetJson.mapper().createObjectNode();
        ArrayNode array = root.putArray("overrides");
        new TreeMap<>(pins).forEach((key, range) -> {
            int at = key.indexOf('@');
            array.addObject().put("role", key.substring(0, at)).put("site", key.substring(at + 1))
                    .put("minReplicas", range[0]).put("maxReplicas", range[1]);
        });
        return root.toString();
    }

    @Override
    public void close() {
        watch.close();
        executor.shutdownNow();
    }
}
