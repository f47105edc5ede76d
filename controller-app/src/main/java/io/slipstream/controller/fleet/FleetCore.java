package io.slipstream.controller.fleet;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.proto.v1.FleetPolicy;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet core both controllers run (the standalone one and the ONOS component): a Curator client, the
 * control channels (mutual TLS reloaded on change, or plaintext), the {@link FleetController} and the
 * {@link MembershipWatcher}, started in that order and closed quietly in reverse.
 *
 * <pre>{@code
 * FleetCore core = FleetCore.builder("zk:2181").policy(policy).meters(meters)
 *         .mutualTls(TlsFiles.inDirectory(dir), Duration.ofSeconds(10)).start();
 * }</pre>
 */
public final class FleetCore implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(FleetCore.class);

    private final String zookeeper;
    private final Deque<AutoCloseable> parts = new ArrayDeque<>();
    private CuratorFramework curator;
    private FleetController controller;

    private FleetCore(String zookeeper) {
        this.zookeeper = zookeeper;
    }

    /** A fleet core against the ZooKeeper ensemble {@code zookeeper} ({@code host:port[,host:port...]}). */
    public static Builder builder(String zookeeper) {
        return new Builder(zookeeper);
    }

    /** The ZooKeeper ensemble this core runs against. */
    public String zookeeper() {
        return zookeeper;
    }

    /** The started Curator client (the standalone controller's leadership and durable state use it too). */
    public CuratorFramework curator() {
        return curator;
    }

    public FleetController controller() {
        return controller;
    }

    private void startParts(Builder b) throws Exception {
        curator = ZooKeeperClients.newClient(zookeeper, b.sessionTimeoutMillis, b.auth);
        curator.start();
        parts.push(curator);
        ControlChannels channels = controlChannels(b);
        controller = new FleetController(b.clock, b.membershipGrace, b.loadIntervalMillis, b.policy, b.meters,
                channels);
        parts.push(controller);
        if (b.listener != null) {
            controller.addListener(b.listener);
        }
        if (!b.leading) {
            // Not leading until told so (issue 23): the directory fills, nothing is pushed.
            controller.leading(false);
        }
        parts.push(new MembershipWatcher(curator, controller).start());
    }

    /** Mutual TLS (issue 10) on the control channels, reloaded on change; or plaintext, loudly. */
    private ControlChannels controlChannels(Builder b) {
        boolean plaintext = b.tlsFiles == null;
        Gauge.builder("slipstream.security.plaintext", () -> plaintext ? 1 : 0)
                .description("1 when control connections are plaintext (development only)").register(b.meters);
        if (plaintext) {
            log.warn("control channels to workers are PLAINTEXT ({}): anyone on the network can read and program "
                    + "the fleet; for development only", b.plaintextReason);
            return ControlChannels.plaintext();
        }
        ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tls-reload");
            t.setDaemon(true);
            return t;
        });
        parts.push(reloader::shutdownNow);
        TlsMaterial material = TlsMaterial.load(b.tlsFiles).bindTo(b.meters).reloadEvery(b.tlsReloadPeriod, reloader);
        parts.push(material);
        log.info("control channels: mutual TLS as {} (certificate serial {}), reloading {} every {}",
                material.identity(), material.serial().toString(16), b.tlsFiles, b.tlsReloadPeriod);
        return ControlChannels.mutualTls(material);
    }

    /** Stops the membership watcher, the fleet controller, TLS reloading and the Curator client, in that order. */
    @Override
    public void close() {
        while (!parts.isEmpty()) {
            try {
                parts.pop().close();
            } catch (Exception e) {
                log.debug("closing", e);
            }
        }
    }

    /** What the fleet core runs with; named setters, checked by {@link #start()}. */
    public static final class Builder {
        private final String zookeeper;
        private int sessionTimeoutMillis = 10_000;
        private ZooKeeperAuth auth = ZooKeeperAuth.none();
        private Clock clock = Clock.systemUTC();
        private Duration membershipGrace = Duration.ofSeconds(30);
        private int loadIntervalMillis = 1000;
        private FleetPolicy policy = FleetPolicy.getDefaultInstance();
        private MeterRegistry meters;
        private TlsFiles tlsFiles;
        private Duration tlsReloadPeriod;
        private String plaintextReason;
        private boolean leading = true;
        private Consumer<FleetSnapshot> listener;

        private Builder(String zookeeper) {
            this.zookeeper = zookeeper;
        }

        /** ZooKeeper session timeout in ms (1000..600000; default 10000). */
        public Builder sessionTimeoutMillis(int millis) {
            this.sessionTimeoutMillis = millis;
            return this;
        }

        /** ZooKeeper digest credentials (default: none, warned about once). */
        public Builder auth(ZooKeeperAuth auth) {
            this.auth = auth;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** How long a vanished registration of a still-serving worker is kept (default 30 s). */
        public Builder membershipGrace(Duration grace) {
            this.membershipGrace = grace;
            return this;
        }

        /** How often workers send load reports (default 1000 ms). */
        public Builder loadIntervalMillis(int millis) {
            this.loadIntervalMillis = millis;
            return this;
        }

        /** The fleet policy in force at start (default: the empty policy). */
        public Builder policy(FleetPolicy policy) {
            this.policy = policy;
            return this;
        }

        /** Where the fleet controller's and the TLS material's meters go. */
        public Builder meters(MeterRegistry meters) {
            this.meters = meters;
            return this;
        }

        /** Mutual TLS with the controller's certificate from {@code files}, reloaded every {@code reloadPeriod}. */
        public Builder mutualTls(TlsFiles files, Duration reloadPeriod) {
            this.tlsFiles = files;
            this.tlsReloadPeriod = reloadPeriod;
            this.plaintextReason = null;
            return this;
        }

        /** Plaintext control channels (development only); {@code reason} says in the warning why. */
        public Builder plaintext(String reason) {
            this.plaintextReason = reason;
            this.tlsFiles = null;
            this.tlsReloadPeriod = null;
            return this;
        }

        /** Whether the fleet controller leads from the start (default true); a follower pushes nothing. */
        public Builder leading(boolean leading) {
            this.leading = leading;
            return this;
        }

        /** Hears every fleet snapshot, from the first membership on (added before the watcher starts). */
        public Builder listener(Consumer<FleetSnapshot> listener) {
            this.listener = listener;
            return this;
        }

        /** Starts the parts in order; if one fails, those started are closed and the failure is thrown. */
        public FleetCore start() throws Exception {
            if (meters == null) {
                throw new IllegalArgumentException("fleet core meters: null (expected: a MeterRegistry)");
            }
            if (tlsFiles == null && plaintextReason == null) {
                throw new IllegalArgumentException("fleet core control channels: neither mutualTls(files, period) "
                        + "nor plaintext(reason) chosen (expected: one of them)");
            }
            if (tlsFiles != null && (tlsReloadPeriod == null || tlsReloadPeriod.isNegative()
                    || tlsReloadPeriod.isZero())) {
                throw new IllegalArgumentException("fleet core TLS reload period: " + tlsReloadPeriod
                        + " (expected: > 0)");
            }
            FleetCore core = new FleetCore(zookeeper);
            try {
                core.startParts(this);
            } catch (Exception | Error e) {
                core.close();
                throw e;
            }
            return core;
        }
    }
}
