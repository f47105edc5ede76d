package io.slipstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Volume;
import com.sun.net.httpserver.HttpServer;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The image built by {@code docker/image.sh} (as {@code bin/slipstream image build} does), run by the local
 * engine: a standalone controller container and a cache worker container register in a real ZooKeeper, the
 * controller configures the worker, HTTP traffic passes through the worker to an origin and is cached, and
 * SIGTERM stops both cleanly (the worker deregisters at once, both exit within the grace period).
 *
 * <p>Containers run as in the chart: uid 10001, read-only root filesystem with a tmpfs /tmp, every capability
 * dropped. They use the host's network namespace, bound to 127.0.0.1 (the engine is started without iptables
 * rules or a bridge, so it changes nothing in the host's network). Skipped only when no engine answers and
 * none can be started ({@code docker/engine.sh} says why).
 */
class ContainerImageIT {

    private static final String IMAGE = "local/slipstream:it";
    private static final Duration GRACE = Duration.ofSeconds(20);

    private static boolean startedEngine;
    private static TestingServer zk;
    private static CuratorFramework curator;
    private static HttpServer origin;
    private static final AtomicInteger originHits = new AtomicInteger();
    private final List<GenericContainer<?>> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void engineAndImage() throws Exception {
        Path root = Chart.repoRoot();
        Result engine = run(Duration.ofSeconds(60), root.resolve("docker/engine.sh").toString());
        Assumptions.assumeTrue(engine.exit != 3, () -> "no container engine can be started: " + engine.output.strip());
        assertThat(engine.exit).as("docker/engine.sh: %s", engine.output).isZero();
        startedEngine = engine.output.contains("starting dockerd");
        Result build = run(Duration.ofMinutes(10), root.resolve("docker/image.sh").toString(), "build", "--tag", IMAGE);
        assertThat(build.exit).as("docker/image.sh build: %s", build.output).isZero();

        zk = new TestingServer(Ports.free(), true);
        curator = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(200));
        curator.start();
        origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        origin.createContext("/", exchange -> {
            originHits.incrementAndGet();
            byte[] body = ("object " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Cache-Control", "max-age=300");
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
    }

    @AfterAll
    static void stopHostSide() throws Exception {
        if (startedEngine) {
            // The engine this test started (its pid file), not any other; its images stay for the next run.
            run(Duration.ofSeconds(30), Chart.repoRoot().resolve("docker/engine.sh").toString(), "stop");
        }
        if (origin != null) {
            origin.stop(0);
        }
        if (curator != null) {
            curator.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    @AfterEach
    void closeContainers() {
        // No Ryuk here: every container this test started is stopped and removed by its id.
        for (GenericContainer<?> c : started) {
            c.stop();
        }
    }

    @Test
    void workerAndController_startedAsTheChartRunsThem_registerConfigurePassTrafficAndStopCleanlyOnSigterm(
            @TempDir Path dir) throws Exception {
        int controllerPort = Ports.free();
        int control = Ports.free();
        int metrics = Ports.free();
        int data = Ports.free();
        String id = "rel-slipstream-cache-a-7d9f8-x2k4q";
        // The chart, rendered for this host: external ZooKeeper, one cache worker at site a, a fleet policy.
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, String.join("\n",
                "zookeeper: {enabled: false, external: \"" + zk.getConnectString() + "\"}",
                "sites: [{name: a, replicas: {wanopt: 0, cache: 1, gateway: 0}}]",
                "controller: {port: " + controllerPort + "}",
                // No cert-manager CSI driver under plain Docker: plaintext, explicitly.
                "tls: {enabled: false}",
                "workers:",
                "  zkSessionTimeoutMs: 40000",
                "  javaOpts: \"-Xmx256m -XX:+ExitOnOutOfMemoryError\"",
                "  ports: {control: " + control + ", metrics: " + metrics + ", data: " + data + "}",
                "  cache: {origin: \"http://127.0.0.1:" + origin.getAddress().getPort() + "\"}",
                "policy:",
                "  policies: [{name: web, dstPorts: [80], chain: cache}]",
                "compression: {codec: zstd, level: 5}", ""));
        List<ObjectNode> objects = Chart.parse(Chart.templateWithTests(values, Map.of()));
        Path config = Files.createDirectories(dir.resolve("etc-slipstream"));
        ObjectNode controllerConfig = named(objects, "ConfigMap", "rel-slipstream-controller");
        Files.writeString(config.resolve("policy.json"), controllerConfig.path("data").path("policy.json").asText());
        Files.writeString(config.resolve("controller.json"), controllerConfig.path("data").path("controller.json").asText());
        config.toFile().setReadable(true, false);
        config.toFile().setExecutable(true, false);
        try (Stream<Path> files = Files.list(config)) {
            files.forEach(f -> f.toFile().setReadable(true, false));
        }

        GenericContainer<?> controller = fromChart(named(objects, "Deployment", "rel-slipstream-controller"),
                controllerConfig, "controller", "rel-slipstream-controller-5c8d7-abcde")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(new Bind(config.toString(),
                        new Volume("/etc/slipstream"), AccessMode.ro)))
                .waitingFor(Wait.forLogMessage(".*controller started.*", 1).withStartupTimeout(Duration.ofSeconds(60)));
        start(controller);

        GenericContainer<?> worker = fromChart(named(objects, "Deployment", "rel-slipstream-cache-a"),
                named(objects, "ConfigMap", "rel-slipstream-worker"), "worker", id)
                .waitingFor(Wait.forLogMessage(".*registered and serving.*", 1).withStartupTimeout(Duration.ofSeconds(60)));
        start(worker);

        // The controller runs the policy the chart rendered.
        JsonNode policy = Chart.JSON.readTree(get("http://127.0.0.1:" + controllerPort + "/api/policy").body());
        assertThat(policy.path("compression").path("level").asInt()).isEqualTo(5);
        assertThat(policy.path("policies").get(0).path("name").asText()).isEqualTo("web");

        // Registered in ZooKeeper, healthy and ready.
        assertThat(registrations()).contains(id);
        assertThat(get("http://127.0.0.1:" + metrics + "/healthz").statusCode()).isEqualTo(200);
        assertThat(get("http://127.0.0.1:" + metrics + "/readyz").statusCode()).isEqualTo(200);
        assertThat(get("http://127.0.0.1:" + metrics + "/metrics").body()).contains("slipstream_");

        // The controller (in its container) sees the worker serve and has configured it over gRPC.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode w = fleetWorker(controllerPort, id);
            assertThat(w).as("worker %s in the controller's fleet", id).isNotNull();
            assertThat(w.path("health").asText()).isEqualTo("serving");
            assertThat(w.path("config_digest").asText()).isNotEmpty();
        });
        assertThat(get("http://127.0.0.1:" + controllerPort + "/readyz").statusCode()).isEqualTo(200);

        // Traffic: through the worker to the origin, the second time from the cache.
        int hitsBefore = originHits.get();
        HttpResponse<String> first = get("http://127.0.0.1:" + data + "/objects/1");
        HttpResponse<String> second = get("http://127.0.0.1:" + data + "/objects/1");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("object /objects/1");
        assertThat(second.body()).isEqualTo("object /objects/1");
        assertThat(originHits.get() - hitsBefore).as("origin requests for two identical GETs").isEqualTo(1);

        // The chart's `helm test` pod, its script run from the image against these containers (the Service
        // names become 127.0.0.1: one host network).
        ObjectNode testPod = named(objects, "Pod", "rel-slipstream-test");
        JsonNode check = testPod.path("spec").path("containers").get(0);
        String script = check.path("args").get(0).asText()
                .replace("rel-slipstream-controller ", "127.0.0.1 ").replace("rel-slipstream-cache-a ", "127.0.0.1 ");
        List<String> entry = new ArrayList<>();
        check.path("command").forEach(a -> entry.add(a.asText()));
        GenericContainer<?> helmTest = container("helm-test", entry.get(1), script)
                .withCreateContainerCmdModifier(cmd -> cmd.withEntrypoint(entry.get(0)))
                .withStartupCheckStrategy(new org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy()
                        .withTimeout(Duration.ofSeconds(60)));
        started.add(helmTest);
        helmTest.start();
        assertThat(helmTest.getLogs()).contains("ok: controller ready", "ok: controller fleet API",
                "ok: cache worker at site a ready");

        // SIGTERM: the worker leaves ZooKeeper at once (its session would live 40 s), and exits in the grace period.
        long t0 = System.nanoTime();
        worker.getDockerClient().killContainerCmd(worker.getContainerId()).withSignal("SIGTERM").exec();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(registrations()).doesNotContain(id));
        InspectContainerResponse.ContainerState workerState = awaitExit(worker);
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(stopMillis).as("worker stop time, ms").isLessThan(GRACE.toMillis());
        assertThat(workerState.getOOMKilled()).isFalse();
        // 143 = 128 + SIGTERM: the JVM ran its shutdown hooks and exited on the signal (not killed).
        assertThat(workerState.getExitCodeLong()).isIn(0L, 143L);
        assertThat(worker.getLogs()).contains("draining:", "worker " + id + " stopped");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode w = fleetWorker(controllerPort, id);
            assertThat(w == null || !w.path("registered").asBoolean() || !"serving".equals(w.path("health").asText()))
                    .as("controller no longer counts %s as a serving member: %s", id, w).isTrue();
        });

        controller.getDockerClient().killContainerCmd(controller.getContainerId()).withSignal("SIGTERM").exec();
        InspectContainerResponse.ContainerState controllerState = awaitExit(controller);
        assertThat(controllerState.getExitCodeLong()).isIn(0L, 143L);
        System.out.printf("ContainerImageIT: worker stopped %d ms after SIGTERM%n", stopMillis);
    }

    @Test
    void zookeeper_startedAsTheChartRunsIt_servesClientsAndStopsOnSigterm(@TempDir Path dir) throws Exception {
        int port = Ports.free();
        List<ObjectNode> objects = Chart.parse(Chart.template(null, null, Map.of("zookeeper.clientPort", port)));
        ObjectNode statefulSet = named(objects, "StatefulSet", "rel-slipstream-zookeeper");
        ObjectNode configMap = named(objects, "ConfigMap", "rel-slipstream-zookeeper");
        Path conf = Files.createDirectories(dir.resolve("conf"));
        // As for the workers: bound to loopback, since the container shares the host's network.
        Files.writeString(conf.resolve("zoo.cfg"), configMap.path("data").path("zoo.cfg").asText()
                + "clientPortAddress=127.0.0.1\n");
        conf.toFile().setReadable(true, false);
        conf.toFile().setExecutable(true, false);
        conf.resolve("zoo.cfg").toFile().setReadable(true, false);
        JsonNode c = statefulSet.path("spec").path("template").path("spec").path("containers").get(0);
        List<String> args = new ArrayList<>();
        c.path("args").forEach(a -> args.add(a.asText()));
        GenericContainer<?> server = container("zookeeper", args.toArray(new String[0]))
                .withEnv("SLIPSTREAM_JAVA_OPTS", configMap.path("data").path("SLIPSTREAM_JAVA_OPTS").asText())
                .withTmpFs(Map.of("/tmp", "rw,exec,nosuid,size=64m", "/data", "rw,size=64m,mode=1777"))
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(new Bind(conf.toString(),
                        new Volume("/etc/zookeeper"), AccessMode.ro)));
        start(server);
        try (CuratorFramework client = CuratorFrameworkFactory.newClient("127.0.0.1:" + port, new RetryOneTime(200))) {
            client.start();
            assertThat(client.blockUntilConnected(30, TimeUnit.SECONDS)).as("connected to the containerised ZooKeeper").isTrue();
            client.create().forPath("/it", "x".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(client.getData().forPath("/it"), StandardCharsets.UTF_8)).isEqualTo("x");
        }
        server.getDockerClient().killContainerCmd(server.getContainerId()).withSignal("SIGTERM").exec();
        assertThat(awaitExit(server).getExitCodeLong()).isIn(0L, 143L);
    }

    @Test
    void zookeeperEnsemble_ofThreeStartedAsTheChartRunsIt_electsALeaderAndReplicates(@TempDir Path dir) throws Exception {
        List<ObjectNode> objects = Chart.parse(Chart.template(null, null, Map.of("zookeeper.replicas", 3)));
        ObjectNode statefulSet = named(objects, "StatefulSet", "rel-slipstream-zookeeper");
        String cfg = named(objects, "ConfigMap", "rel-slipstream-zookeeper").path("data").path("zoo.cfg").asText();
        JsonNode c = statefulSet.path("spec").path("template").path("spec").path("containers").get(0);
        assertThat(c.path("env").findValuesAsText("name")).contains("ZOO_MY_ID_FROM_HOSTNAME");
        List<String> args = new ArrayList<>();
        c.path("args").forEach(a -> args.add(a.asText()));
        int[] client = {Ports.free(), Ports.free(), Ports.free()};
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            String line = "server." + (i + 1) + "=rel-slipstream-zookeeper-" + i
                    + ".rel-slipstream-zookeeper-headless.ns.svc.cluster.local:2888:3888";
            assertThat(cfg).as("the chart's zoo.cfg names the StatefulSet pods").contains(line + "\n");
            cfg = cfg.replace(line + "\n", "");
            servers.append("server.").append(i + 1).append("=127.0.0.1:").append(Ports.free()).append(':')
                    .append(Ports.free()).append('\n');
        }
        assertThat(cfg).contains("standaloneEnabled=false");
        List<GenericContainer<?>> ensemble = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // The pod DNS names become loopback ports (one host network), bound to loopback only.
            Path conf = Files.createDirectories(dir.resolve("zk" + i));
            Files.writeString(conf.resolve("zoo.cfg"), cfg.replace("clientPort=2181", "clientPort=" + client[i])
                    .replace("quorumListenOnAllIPs=true", "quorumListenOnAllIPs=false")
                    + "clientPortAddress=127.0.0.1\n" + servers);
            conf.toFile().setReadable(true, false);
            conf.toFile().setExecutable(true, false);
            conf.resolve("zoo.cfg").toFile().setReadable(true, false);
            GenericContainer<?> server = container("zookeeper-" + i, args.toArray(new String[0]))
                    // What Kubernetes gives the StatefulSet's pod i; the entry point derives myid = i + 1 from it.
                    .withEnv("HOSTNAME", "rel-slipstream-zookeeper-" + i)
                    .withEnv("ZOO_MY_ID_FROM_HOSTNAME", "true")
                    .withEnv("SLIPSTREAM_JAVA_OPTS", "-Xmx128m")
                    .withTmpFs(Map.of("/tmp", "rw,exec,nosuid,size=64m", "/data", "rw,size=64m,mode=1777"))
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(new Bind(conf.toString(),
                            new Volume("/etc/zookeeper"), AccessMode.ro)));
            start(server);
            ensemble.add(server);
        }
        String connect = "127.0.0.1:" + client[0] + ",127.0.0.1:" + client[1] + ",127.0.0.1:" + client[2];
        try (CuratorFramework client0 = CuratorFrameworkFactory.newClient(connect, new RetryOneTime(200))) {
            client0.start();
            assertThat(client0.blockUntilConnected(60, TimeUnit.SECONDS)).as("connected to the ensemble").isTrue();
            client0.create().forPath("/replicated", "y".getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < 3; i++) {
            try (CuratorFramework one = CuratorFrameworkFactory.newClient("127.0.0.1:" + client[i], new RetryOneTime(200))) {
                one.start();
                assertThat(one.blockUntilConnected(30, TimeUnit.SECONDS)).as("server %d serves", i).isTrue();
                one.sync().forPath("/replicated");
                assertThat(new String(one.getData().forPath("/replicated"), StandardCharsets.UTF_8))
                        .as("server %d has the write", i).isEqualTo("y");
            }
        }
        for (int i = 0; i < 3; i++) {
            assertThat(ensemble.get(i).execInContainer("cat", "/data/myid").getStdout().trim())
                    .as("myid of pod %d", i).isEqualTo(Integer.toString(i + 1));
        }
        for (GenericContainer<?> server : ensemble) {
            server.getDockerClient().killContainerCmd(server.getContainerId()).withSignal("SIGTERM").exec();
            assertThat(awaitExit(server).getExitCodeLong()).isIn(0L, 143L);
        }
    }

    /**
     * A container running a rendered Deployment's container: its args (the downward-API variables
     * substituted: POD_NAME is {@code podName}, POD_IP is 127.0.0.1) and its ConfigMap's environment. The
     * only change: 0.0.0.0 binds become 127.0.0.1, since these containers share the host's network.
     */
    private GenericContainer<?> fromChart(ObjectNode deployment, ObjectNode configMap, String name, String podName) {
        JsonNode c = deployment.path("spec").path("template").path("spec").path("containers").get(0);
        List<String> args = new ArrayList<>();
        for (JsonNode a : c.path("args")) {
            args.add(a.asText().replace("$(POD_NAME)", podName).replace("$(POD_IP)", "127.0.0.1")
                    .replace("=0.0.0.0", "=127.0.0.1"));
        }
        assertThat(c.path("envFrom").get(0).path("configMapRef").path("name").asText()).isEqualTo(Chart.name(configMap));
        GenericContainer<?> container = container(name, args.toArray(new String[0]));
        configMap.path("data").fields().forEachRemaining(e -> {
            if (e.getKey().matches("[A-Z_]+")) {
                container.withEnv(e.getKey(), e.getValue().asText());
            }
        });
        return container;
    }

    private static ObjectNode named(List<ObjectNode> objects, String kind, String name) {
        return Chart.ofKind(objects, kind).stream().filter(o -> name.equals(Chart.name(o))).findFirst()
                .orElseThrow(() -> new AssertionError("the chart rendered no " + kind + " " + name));
    }

    /** A container from the image as the chart runs it: uid 10001, read-only root, tmpfs /tmp, no capabilities. */
    private GenericContainer<?> container(String name, String... command) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withImagePullPolicy(img -> false)
                .withNetworkMode("host")
                .withCommand(command)
                // exec: JNI libraries (zstd-jni, lz4, Netty's native transport) are unpacked to /tmp and mapped
                // from there; Kubernetes' emptyDir allows that, Docker's tmpfs default (noexec) does not.
                .withTmpFs(Map.of("/tmp", "rw,exec,nosuid,size=64m"))
                .withEnv("SLIPSTREAM_JAVA_OPTS", "-Xmx256m -XX:+ExitOnOutOfMemoryError")
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName("slipstream-it-" + name + "-" + ProcessHandle.current().pid());
                    cmd.getHostConfig().withReadonlyRootfs(true).withCapDrop(Capability.ALL)
                            .withSecurityOpts(List.of("no-new-privileges"));
                });
        return c;
    }

    private void start(GenericContainer<?> c) {
        started.add(c);
        c.start();
        InspectContainerResponse inspect = c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec();
        assertThat(inspect.getConfig().getUser()).isEqualTo("10001:10001");
        assertThat(inspect.getHostConfig().getReadonlyRootfs()).as("read-only root filesystem").isTrue();
        assertThat(inspect.getHostConfig().getCapDrop()).as("capabilities dropped").containsExactly(Capability.ALL);
    }

    private static InspectContainerResponse.ContainerState awaitExit(GenericContainer<?> c) {
        await().atMost(GRACE).pollInterval(Duration.ofMillis(100)).until(() -> !Boolean.TRUE.equals(
                c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState().getRunning()));
        return c.getDockerClient().inspectContainerCmd(c.getContainerId()).exec().getState();
    }

    /** Worker ids registered under /slipstream/v1/discovery/<service>/<id>. */
    private static List<String> registrations() throws Exception {
        List<String> ids = new ArrayList<>();
        String base = io.slipstream.contract.FleetPaths.DISCOVERY_BASE_PATH;
        if (curator.checkExists().forPath(base) == null) {
            return ids;
        }
        for (String service : curator.getChildren().forPath(base)) {
            ids.addAll(curator.getChildren().forPath(base + "/" + service));
        }
        return ids;
    }

    private JsonNode fleetWorker(int controllerPort, String id) throws Exception {
        JsonNode fleet = Chart.JSON.readTree(get("http://127.0.0.1:" + controllerPort + "/api/fleet").body());
        for (JsonNode w : fleet.path("workers")) {
            if (id.equals(w.path("id").asText())) {
                return w;
            }
        }
        return null;
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }


    private record Result(int exit, String output) {
    }

    private static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append(e);
            }
        });
        reader.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            reader.join(1000);
            return new Result(-1, "timed out after " + timeout + ": " + out);
        }
        reader.join();
        return new Result(p.exitValue(), out.toString());
    }
}
