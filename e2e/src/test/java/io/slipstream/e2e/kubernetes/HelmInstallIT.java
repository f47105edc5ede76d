package io.slipstream.e2e.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.slipstream.contract.FleetPaths;
import io.slipstream.controller.scale.kubernetes.KubernetesScaleTarget;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chart installed by real Helm (helm-java) into a real Kubernetes 1.20 control plane and node on this
 * machine ({@link KubernetesControlPlane}, {@link KubernetesNode}), running the image built from this checkout
 * ({@code docker/image.sh build}, imported into the node's containerd): every pod becomes Ready and every worker
 * registers in ZooKeeper, HTTP passes through the cache worker to an origin and is cached, {@code helm test}
 * passes, an upgrade with a changed fleet policy and the controller's autoscaler on rolls the controller
 * (checksum annotation), which then serves the new policy and scales the cache role out through the API server
 * with its own service account (the chart's RBAC), the new pod registering, and uninstall removes every pod
 * and deregisters the workers.
 *
 * <p>ZooKeeper and the origin run in this JVM on the host's address on the pod network
 * ({@link KubernetesNode#HOST_ADDRESS}); the chart uses them as an external ZooKeeper and the cache's origin.
 * The node has no kube-proxy: the controller reaches the API server through the node's relay
 * ({@code KUBERNETES_SERVICE_HOST} set by {@code controller.extraEnv}), and {@code helm test} reaches Services
 * by name through the node's cluster DNS, which answers with their endpoints.
 */
class HelmInstallIT {

    private static final Logger log = LoggerFactory.getLogger(HelmInstallIT.class);
    private static final String IMAGE_TAG = "local/slipstream:k8s-it";
    private static final String RELEASE = "e2e";
    private static final String NAMESPACE = "default";
    private static final String APP_LABEL = "app.kubernetes.io/name";
    private static final Duration READY = Duration.ofSeconds(150);

    private int apiPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static boolean startedEngine;
    private static Path archive;

    /** The image from this checkout, saved for the node (bounded apart: a fresh machine builds the base first). */
    @BeforeAll
    static void image(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        Path root = KubernetesBinaries.repositoryRoot();
        Path jar = root.resolve("dist/target/slipstream.jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar),
                () -> jar + " is missing (built by `mvn package -pl dist -am`, which verify does first)");
        // Output to a file: dockerd, when the script starts one, outlives it.
        Path engineLog = dir.resolve("engine.out");
        Process engine = new ProcessBuilder("bash", root.resolve("docker/engine.sh").toString())
                .redirectErrorStream(true).redirectOutput(engineLog.toFile()).start();
        assertThat(engine.waitFor(60, TimeUnit.SECONDS)).as("docker/engine.sh finished").isTrue();
        String engineOutput = Files.readString(engineLog, StandardCharsets.UTF_8);
        Assumptions.assumeTrue(engine.exitValue() != 3, () -> "no container engine can be started: " + engineOutput.strip());
        assertThat(engine.exitValue()).as("docker/engine.sh: %s", engineOutput).isZero();
        startedEngine = engineOutput.contains("starting dockerd");
        KubernetesNode.run(Duration.ofMinutes(15), "bash", root.resolve("docker/image.sh").toString(),
                "build", "--tag", IMAGE_TAG);
        archive = dir.resolve("slipstream.tar");
        KubernetesNode.run(Duration.ofMinutes(3), "docker", "save", "-o", archive.toString(), IMAGE_TAG);
        log.info("image {} built and saved in {} ms", IMAGE_TAG, millisSince(t0));
    }

    @AfterAll
    static void stopEngine() throws Exception {
        if (startedEngine) {
            // The engine this test started (its pid file), not any other; the image stays for the next run.
            KubernetesNode.run(Duration.ofSeconds(30), true, "bash",
                    KubernetesBinaries.repositoryRoot().resolve("docker/engine.sh").toString(), "stop");
        }
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void chart_installedOnARealNode_runsRegistersServesScalesUpgradesAndUninstalls(@TempDir Path dir) throws Exception {
        long t0 = System.nanoTime();
        try (KubernetesControlPlane plane = KubernetesControlPlane.start(KubernetesNode.HOST_ADDRESS);
                KubernetesNode node = KubernetesNode.start(plane);
                TestingServer zk = new TestingServer(0, true);
                CuratorFramework curator = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(200))) {
            curator.start();
            apiPort = node.exposeApiServerToPods();
            long tImport = System.nanoTime();
            node.importImage(archive);
            log.info("image imported into the node's containerd in {} ms", millisSince(tImport));
            AtomicInteger originHits = new AtomicInteger();
            HttpServer origin = origin(originHits);
            try {
                run(plane, node, dir, zk.getPort(), origin.getAddress().getPort(), originHits, curator);
            } catch (Exception | Error e) {
                log.error("failed; pods: {}{}", describePods(plane.admin()), node.logTails());
                throw e;
            } finally {
                origin.stop(0);
            }
        }
        log.info("HelmInstallIT: cluster, install, test, upgrade, uninstall and clean-up in {} ms", millisSince(t0));
    }

    private void run(KubernetesControlPlane plane, KubernetesNode node, Path dir, int zkPort, int originPort,
            AtomicInteger originHits, CuratorFramework curator) throws Exception {
        KubernetesClient k8s = plane.admin();
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, values(zkPort, originPort, "[{name: web, dstPorts: [80], chain: cache}]"));
        Helm chart = new Helm(KubernetesBinaries.repositoryRoot().resolve("helm/slipstream"));

        long tInstall = System.nanoTime();
        Release installed = chart.install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeConfig(plane.adminKubeconfig()).withValuesFile(values).withTimeout(120).call();
        assertThat(installed.getStatus()).isEqualTo("deployed");

        // Every pod Ready: two controllers (one leads), one wanopt and one cache worker.
        await("every pod of the release Ready").atMost(READY).pollInterval(Duration.ofSeconds(1))
                .until(() -> {
                    List<Pod> pods = releasePods(k8s);
                    return pods.size() == 4 && pods.stream().allMatch(HelmInstallIT::isReady);
                });
        long readyMs = millisSince(tInstall);
        // ...and every worker registered in ZooKeeper under its pod name.
        Set<String> workerPods = workerPodNames(k8s);
        assertThat(workerPods).hasSize(2);
        await("every worker registered in ZooKeeper").atMost(Duration.ofSeconds(30))
                .until(() -> registered(curator).containsAll(workerPods));
        log.info("install: all pods Ready in {} ms, workers registered in {} ms", readyMs, millisSince(tInstall));

        // Traffic through the cache worker (its data port is the HTTP reverse proxy to the origin): the second
        // request is answered from the cache.
        Pod cache = workerPods(k8s, "cache").get(0);
        URI object = URI.create("http://" + cache.getStatus().getPodIP() + ":7002/objects/one");
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(object).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("object /objects/one");
        }
        assertThat(originHits.get()).as("origin requests for two identical GETs through the cache").isEqualTo(1);

        // helm test: the chart's test pod reaches the controller and every worker Service by name.
        long tHelmTest = System.nanoTime();
        Release tested = Helm.test(RELEASE).withNamespace(NAMESPACE).withKubeConfig(plane.adminKubeconfig())
                .withTimeout(120).call();
        assertThat(tested.getStatus()).isEqualTo("deployed");
        log.info("helm test passed in {} ms", millisSince(tHelmTest));

        // Upgrade with a changed fleet policy and the controller's autoscaler on (target kubernetes, cache at
        // least 2): the controller's pod rolls (config checksum), the new one serves the new policy and scales
        // the cache Deployment out through the API server with its own service account; the new pod registers.
        // Two controllers by default (issue 23): any of the new pods will do; each serves the policy in force.
        Set<String> controllersBefore = workerPods(k8s, "controller").stream().map(p -> p.getMetadata().getUid())
                .collect(Collectors.toSet());
        Files.writeString(values, values(zkPort, originPort,
                "[{name: web, dstPorts: [80], chain: cache}, {name: bulk, dstPorts: [5001], chain: wanopt}]")
                + String.join("\n",
                "scaling:",
                "  enabled: true",
                "  intervalMillis: 500",
                "  target: kubernetes",
                "  rules: [{role: cache, site: a, minReplicas: 2, maxReplicas: 3}]",
                ""));
        long tUpgrade = System.nanoTime();
        Release upgraded = chart.upgrade().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeConfig(plane.adminKubeconfig()).withValuesFile(values).withTimeout(120).call();
        assertThat(upgraded.getStatus()).isEqualTo("deployed");
        await("the controller rolled and serves the new policy").atMost(READY).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions()
                .until(() -> {
                    Pod c = workerPods(k8s, "controller").stream()
                            .filter(p -> !controllersBefore.contains(p.getMetadata().getUid()) && isReady(p))
                            .findFirst().orElse(null);
                    if (c == null) {
                        return false;
                    }
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create("http://" + c.getStatus().getPodIP() + ":8080/api/policy"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() == 200 && r.body().contains("bulk");
                });
        log.info("upgrade: new controller Ready with the new policy in {} ms", millisSince(tUpgrade));
        await("the controller scaled cache to 2 and the new pod registered in ZooKeeper").atMost(READY)
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    Set<String> caches = workerPods(k8s, "cache").stream().map(p -> p.getMetadata().getName())
                            .collect(Collectors.toSet());
                    return caches.size() == 2 && registered(curator).containsAll(caches);
                });
        assertThat(k8s.apps().deployments().inNamespace(NAMESPACE).withName(RELEASE + "-slipstream-cache-a").get()
                .getSpec().getReplicas()).as("cache Deployment replicas after the controller's scale-out").isEqualTo(2);
        log.info("upgrade: cache scaled 1 -> 2 by the controller, new pod registered {} ms after the upgrade",
                millisSince(tUpgrade));

        // Another upgrade (same values) keeps the autoscaler's count: no cache pod is removed.
        Set<String> cachesBefore = workerPods(k8s, "cache").stream().map(p -> p.getMetadata().getName())
                .collect(Collectors.toSet());
        chart.upgrade().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeConfig(plane.adminKubeconfig()).withValuesFile(values).withTimeout(120).call();
        assertThat(k8s.apps().deployments().inNamespace(NAMESPACE).withName(RELEASE + "-slipstream-cache-a").get()
                .getSpec().getReplicas()).as("cache Deployment replicas after a second upgrade").isEqualTo(2);
        await("cache pods unchanged by the second upgrade").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                .until(() -> workerPods(k8s, "cache").stream().map(p -> p.getMetadata().getName())
                        .collect(Collectors.toSet()).equals(cachesBefore));

        // Uninstall: every pod goes, every worker deregisters.
        Helm.uninstall(RELEASE).withNamespace(NAMESPACE).withKubeConfig(plane.adminKubeconfig()).call();
        await("every pod of the release gone").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1))
                .until(() -> releasePods(k8s).isEmpty());
        await("every worker deregistered").atMost(Duration.ofSeconds(30)).until(() -> registered(curator).isEmpty());
        assertThat(node.ready()).isTrue();
    }

    private String values(int zkPort, int originPort, String policies) {
        return String.join("\n",
                "image: {repository: docker.io/local/slipstream, tag: k8s-it, pullPolicy: Never}",
                "zookeeper: {enabled: false, external: \"" + KubernetesNode.HOST_ADDRESS + ":" + zkPort + "\"}",
                "sites: [{name: a, replicas: {wanopt: 1, cache: 1, gateway: 0}}]",
                // The test node has no cert-manager CSI driver: plaintext, explicitly (the chart warns).
                "tls: {enabled: false}",
                "workers:",
                "  javaOpts: \"-Xmx160m -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError\"",
                "  terminationGracePeriodSeconds: 10",
                "  resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 512Mi}}",
                "  cache: {origin: \"http://" + KubernetesNode.HOST_ADDRESS + ":" + originPort + "\"}",
                "controller:",
                "  javaOpts: \"-Xmx160m -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError\"",
                "  resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 512Mi}}",
                // No kube-proxy on the node: the scale target reaches the API server through the node's relay.
                "  extraEnv:",
                "    - {name: KUBERNETES_SERVICE_HOST, value: \"" + KubernetesNode.HOST_ADDRESS + "\"}",
                "    - {name: KUBERNETES_SERVICE_PORT, value: \"" + apiPort + "\"}",
                "policy:",
                "  policies: " + policies,
                "");
    }

    private static HttpServer origin(AtomicInteger hits) throws Exception {
        HttpServer origin = HttpServer.create(new InetSocketAddress(KubernetesNode.HOST_ADDRESS, 0), 16);
        origin.createContext("/", exchange -> {
            hits.incrementAndGet();
            byte[] body = ("object " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Cache-Control", "max-age=300");
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
        return origin;
    }

    private static List<Pod> releasePods(KubernetesClient k8s) {
        return k8s.pods().inNamespace(NAMESPACE).withLabel("app.kubernetes.io/instance", RELEASE).list().getItems();
    }

    private static List<Pod> workerPods(KubernetesClient k8s, String role) {
        return releasePods(k8s).stream()
                .filter(p -> role.equals(p.getMetadata().getLabels().get(KubernetesScaleTarget.COMPONENT_LABEL)))
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .collect(Collectors.toList());
    }

    private static Set<String> workerPodNames(KubernetesClient k8s) {
        Set<String> names = new HashSet<>();
        for (String role : List.of("wanopt", "cache", "gateway")) {
            workerPods(k8s, role).forEach(p -> names.add(p.getMetadata().getName()));
        }
        return names;
    }

    private static boolean isReady(Pod p) {
        return p.getStatus() != null && p.getStatus().getConditions() != null && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static Set<String> registered(CuratorFramework curator) throws Exception {
        String path = FleetPaths.DISCOVERY_BASE_PATH + "/worker";
        if (curator.checkExists().forPath(path) == null) {
            return Set.of();
        }
        return new HashSet<>(curator.getChildren().forPath(path));
    }

    private static String describePods(KubernetesClient k8s) {
        StringBuilder out = new StringBuilder();
        try {
            for (Pod p : k8s.pods().inNamespace(NAMESPACE).list().getItems()) {
                out.append("\n  ").append(p.getMetadata().getName()).append(' ').append(p.getStatus().getPhase())
                        .append(' ').append(p.getStatus().getContainerStatuses());
            }
        } catch (RuntimeException e) {
            out.append(e);
        }
        return out.toString();
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
