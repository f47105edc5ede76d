package io.slipstream.worker;

import io.grpc.InsecureServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.HostPort;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.Roles;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProtos;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ProviderState;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.ControlServer;
import io.slipstream.worker.control.ControllerOnly;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.control.LoadSampler;
import io.slipstream.worker.control.WorkerControlService;
import io.slipstream.worker.control.WorkerLifecycle;
import io.slipstream.worker.registry.WorkerRegistration;
import io.slipstream.worker.security.WorkerTls;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running worker, whatever its role. Composition root: it wires the parts in order (control server, admin
 * endpoint, the role's {@link DataPlane}, ZooKeeper registration) and closes them in reverse; the logic lives
 * in the parts, the drain in {@link WorkerDrain}.
 */
public final class Worker implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(Worker.class);
    static final long REGISTRATION_VERIFY_MILLIS = 2000;

    private final WorkerSettings settings;
    private final long startNanos = System.nanoTime();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final WorkerLifecycle lifecycle;
    private final DataPlaneStats stats = new DataPlaneStats();
    private final ScheduledExecutorService scheduler;
    private final WorkerDrain drain;
    private final Deque<Closeable> closeables = new ArrayDeque<>();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean jvmMetricsBound = new AtomicBoolean();
    private ControlServer control;
    private AdminHttpServer admin;
    private WorkerRegistration registration;
    private WorkerRecord record;
    private DataPlane dataPlane;
    private CompressionProviderRegistry compression;
    private final AtomicReference<ResilientCompressor> compressor = new AtomicReference<>();

    private final io.slipstream.common.ZooKeeperAuth zkAuth;

    private Worker(WorkerSettings settings, io.slipstream.common.ZooKeeperAuth zkAuth) {
        this.settings = settings;
        this.zkAuth = java.util.Objects.requireNonNull(zkAuth, "zkAuth");
        this.lifecycle = new WorkerLifecycle(settings.id(), settings.role(), settings.site());
        this.scheduler = Executors.newScheduledThreadPool(1, r -> {
            Thread t = new Thread(r, "worker-scheduler");
            t.setDaemon(true);
            return t;
        });
        this.drain = new WorkerDrain(lifecycle, stats::activeFlows, () -> registration.unregister(),
                () -> new Thread(this::close, "stop").start(), scheduler, System::nanoTime);
    }

    /** Starts a worker; it reports SERVING once registered in ZooKeeper. */
    public static Worker start(WorkerSettings settings) throws Exception {
        return start(settings, io.slipstream.common.ZooKeeperAuth.none());
    }

    /** Starts a worker that authenticates to ZooKeeper with {@code zkAuth} and protects its registration with ACLs. */
    public static Worker start(WorkerSettings settings, io.slipstream.common.ZooKeeperAuth zkAuth) throws Exception {
        Worker worker = new Worker(settings, zkAuth);
        try {
            worker.startParts();
        } catch (Exception e) {
            worker.close();
            throw e;
        }
        return worker;
    }

    private void startParts() throws Exception {
        closeables.push(scheduler::shutdownNow);
        // Fast start: the ZooKeeper client's first use initialises the JDK's default TLS context (its
        // X509Util does, even without TLS): hundreds of ms, so connect while the rest starts.
        java.util.concurrent.CompletableFuture<CuratorFramework> zooKeeper = connectZooKeeper();
        closeables.push(() -> zooKeeper.thenAccept(CuratorFramework::close));
        String role = Roles.name(settings.role());
        Gauge.builder("slipstream.worker.serving", lifecycle, l -> l.health().getNumber() == 1 ? 1 : 0)
                .tag("role", role).register(meters);
        Gauge.builder("slipstream.worker.active.flows", stats, DataPlaneStats::activeFlows)
                .tag("role", role).register(meters);

        compression = CompressionProviderRegistry.builder().meterRegistry(meters).build();
        closeables.push(compression::close);
        stats.queueDepthFrom(compression::totalQueueDepth);
        LoadSampler load = LoadSampler.forProcess(lifecycle, stats, settings.capacityBytesPerSecond());
        load.compressionFrom(() -> CompressionProtos.toProto(compression.providerStates()));
        compressor.set(compression.compressor(CompressionConfig.defaults()));
        lifecycle.onConfig(config -> compressor.set(compression.compressor(compressionConfig(config))));
        WorkerControlService service = new WorkerControlService(lifecycle, load, drain, scheduler,
                settings.version(), this::uptimeMillis, meters, this::checkCompression);
        NettyServerBuilder controlBuilder = NettyServerBuilder.forAddress(
                        new InetSocketAddress(settings.bindHost(), settings.controlPort()), controlCredentials())
                .maxInboundMessageSize(ControlServer.MAX_INBOUND_MESSAGE_BYTES)
                .permitKeepAliveTime(1, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true);
        if (settings.tls() != null) {
            controlBuilder.intercept(new ControllerOnly(meters));
        }
        control = new ControlServer(controlBuilder, service, lifecycle).start();
        closeables.push(control);

        admin = AdminHttpServer.start(settings.bindHost(), settings.metricsPort(), meters,
                () -> lifecycle.health().getNumber() == 1);
        closeables.push(admin);

        dataPlane = settings.roleSettings().dataPlane(settings);
        DataPlane.Endpoints endpoints = dataPlane.start(new DataPlane.Context(meters, stats, load, service, compression,
                compressor::get));
        closeables.push(dataPlane);
        lifecycle.onConfig(dataPlane::apply);

        record = new WorkerRecord(settings.id(), role, settings.site(),
                HostPort.of(settings.advertiseHost(), control.port()).toString(),
                endpoints.data(),
                HostPort.of(settings.advertiseHost(), admin.port()).toString(),
                settings.capacityBytesPerSecond(), availableProviders(), settings.version(), endpoints.steered());

        CuratorFramework curator = zooKeeper.join();
        registration = new WorkerRegistration(curator, record, this::onRegistered, REGISTRATION_VERIFY_MILLIS).start();
        closeables.push(registration);
        log.info("worker {} ({} at site {}) started: control {}, metrics {}; registering in ZooKeeper {}",
                settings.id(), role, settings.site(), record.controlEndpoint(), record.metricsEndpoint(),
                settings.zookeeper());
    }

    /**
     * Mutual TLS on the control server with the worker's (reloadable) material, clients must present a
     * certificate of the fleet CA; or plaintext, loudly, when the worker was started with
     * {@code --insecure-plaintext}.
     */
    private io.grpc.ServerCredentials controlCredentials() {
        WorkerTls tls = settings.tls();
        Gauge.builder("slipstream.security.plaintext", () -> tls == null ? 1 : 0)
                .description("1 when control and tunnel connections are plaintext (development only)")
                .register(meters);
        if (tls == null) {
            log.warn("worker {}: control server and tunnel are PLAINTEXT (--insecure-plaintext): anyone who reaches "
                    + "them can program this worker; for development only", settings.id());
            return InsecureServerCredentials.create();
        }
        tls.material().bindTo(meters).reloadEvery(tls.reloadPeriod(), scheduler);
        closeables.push(tls.material());
        log.info("worker {}: mutual TLS as {} (certificate serial {}), reloading {} every {}", settings.id(),
                tls.material().identity(), tls.material().serial().toString(16), tls.material().files(),
                tls.reloadPeriod());
        return tls.controlServerCredentials();
    }

    private java.util.concurrent.CompletableFuture<CuratorFramework> connectZooKeeper() {
        java.util.concurrent.CompletableFuture<CuratorFramework> result = new java.util.concurrent.CompletableFuture<>();
        Thread connect = new Thread(() -> {
            try {
                CuratorFramework curator = ZooKeeperClients.newClient(settings.zookeeper(),
                        settings.zkSessionTimeoutMillis(), zkAuth);
                curator.start();
                result.complete(curator);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, "zookeeper-connect");
        connect.setDaemon(true);
        connect.start();
        return result;
    }

    private static CompressionConfig compressionConfig(WorkerConfig config) {
        return CompressionProtos.fromProto(config.getCompression());
    }

    /** A configuration whose compression this worker cannot run is refused, naming why. */
    private String checkCompression(WorkerConfig config) {
        try {
            compression.select(compressionConfig(config));
            return null;
        } catch (IllegalStateException | IllegalArgumentException e) {
            return "compression: " + e.getMessage();
        }
    }

    private List<String> availableProviders() {
        List<String> names = new ArrayList<>();
        for (ProviderState state : compression.providerStates()) {
            if (state.available()) {
                names.add(state.name());
            }
        }
        return names;
    }

    /** The role's data plane. */
    public DataPlane dataPlane() {
        return dataPlane;
    }

    /** The compression switch for the applied configuration (defaults before the first one). */
    public ResilientCompressor compressor() {
        return compressor.get();
    }

    public CompressionProviderRegistry compression() {
        return compression;
    }

    private void onRegistered() {
        lifecycle.registered();
        // Fast start: JVM and processor gauges are not needed to serve; bind them once serving.
        if (jvmMetricsBound.compareAndSet(false, true)) {
            scheduler.execute(() -> {
                new JvmMemoryMetrics().bindTo(meters);
                new ProcessorMetrics().bindTo(meters);
            });
        }
        log.info("worker {} registered and serving after {} ms ({} ms since the JVM started)", settings.id(),
                uptimeMillis(), sinceJvmStartMillis());
    }

    /** Milliseconds since the JVM started (its own start time; the OS's is rounded to whole seconds). */
    static long sinceJvmStartMillis() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    }

    private long uptimeMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    public WorkerLifecycle lifecycle() {
        return lifecycle;
    }

    public DataPlaneStats stats() {
        return stats;
    }

    public WorkerRecord record() {
        return record;
    }

    public WorkerRegistration registration() {
        return registration;
    }

    public PrometheusMeterRegistry meters() {
        return meters;
    }

    /**
     * What SIGTERM does: drain (NOT_SERVING, out of the registry, wait up to {@code timeoutMillis} for
     * active flows to finish), then close. Blocks until closed. When a drain is already under way or done
     * (the autoscaler drains before it removes a worker), closes at once.
     */
    public void drainAndClose(long timeoutMillis) {
        if (closed.get()) {
            return;
        }
        if (!drain.drain(timeoutMillis, true).getStarted()) {
            close();
            return;
        }
        try {
            if (!terminated.await(timeoutMillis + 2_000, TimeUnit.MILLISECONDS)) {
                close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
        }
    }

    /** Blocks until the worker has been closed (by a drain with stop, or {@link #close()}). */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        while (!closeables.isEmpty()) {
            Closeable c = closeables.pop();
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing {}", c, e);
            }
        }
        meters.close();
        // Log before releasing awaitTermination: on SIGTERM the JVM exits as soon as the hook returns.
        log.info("worker {} stopped", settings.id());
        terminated.countDown();
    }
}
