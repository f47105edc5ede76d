package io.slipstream.e2e.kubernetes;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes node on this machine, joined to a {@link KubernetesControlPlane}: kube-scheduler, a
 * private containerd (its own socket, root, state and runc root in one temporary directory; CRI with
 * {@code restrict_oom_score_adj}, runc, cgroupfs), CNI {@code bridge} + {@code host-local} on its own bridge
 * {@value #BRIDGE} with pod addresses from {@value #POD_SUBNET} (no default route in pods, no masquerade), and
 * kubelet ({@code --hostname-override=localhost}, {@code makeIPTablesUtilChains: false}, so it adds no
 * iptables chains), and a cluster DNS ({@link ClusterDns}: Service names to their ready endpoints, since there
 * is no kube-proxy to route ClusterIPs) on the bridge's address. The node is Ready and its not-ready taint removed when {@link #start} returns.
 *
 * <p>{@link #close()} removes everything it started or created, even after a failure: containers (runc by its
 * private root), shims (by PID, those naming this node's socket), processes (by PID), pod network namespaces
 * created while it ran, mounts under its directory, the bridge, the kubepods cgroups, iptables chains
 * named KUBE-* that were not there before, {@code ip_forward} as it was, and the directory.
 */
public final class KubernetesNode implements AutoCloseable {

    /** The pod sandbox image, built FROM scratch around the static pause binary of the same source. */
    public static final String PAUSE_IMAGE = "docker.io/local/pause:3.4.1-slipstream";
    /** Pod addresses (inside 198.18.0.0/15, which has no route off this machine). */
    public static final String POD_SUBNET = "198.19.250.0/24";
    /** The bridge's (the host's) address on the pod network. */
    public static final String HOST_ADDRESS = "198.19.250.1";
    static final String BRIDGE = "slpk8s0";
    static final String CLUSTER_DOMAIN = "cluster.local";

    private static final Logger log = LoggerFactory.getLogger(KubernetesNode.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Path NETNS_DIR = Path.of("/var/run/netns");
    private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

    private final KubernetesControlPlane plane;
    private final Path dir;
    private final LoggedProcesses processes;
    private final Set<String> netnsBefore;
    private final Set<String> chainsBefore;
    private final String ipForwardBefore;
    private final Thread shutdownHook = new Thread(this::cleanUp, "kubernetes-node-stop");
    private boolean cleaned;
    private Process containerd;
    private TcpRelay relay;
    private ClusterDns dns;

    private KubernetesNode(KubernetesControlPlane plane, Path dir) throws IOException, InterruptedException {
        this.plane = plane;
        this.dir = dir;
        this.processes = new LoggedProcesses(dir);
        this.netnsBefore = netns();
        this.chainsBefore = kubeChains();
        this.ipForwardBefore = Files.readString(IP_FORWARD).trim();
    }

    /**
     * Starts the node and waits until it is Ready. Skips the calling test (with the reason) when this machine
     * cannot run one: not root, or containerd, runc, ctr or the CNI plugins missing.
     */
    public static KubernetesNode start(KubernetesControlPlane plane) throws Exception {
        Assumptions.assumeTrue("0".equals(run(Duration.ofSeconds(5), "id", "-u").strip()),
                "a Kubernetes node needs root (containerd, CNI, kubelet)");
        for (String tool : List.of("/usr/bin/containerd", "/usr/bin/ctr", "/usr/sbin/runc",
                "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of(tool)), () -> tool + " is missing (expected: "
                    + "apt-get install containerd runc containernetworking-plugins, which bin/test does)");
        }
        Assumptions.assumeFalse(Files.exists(Path.of("/sys/class/net", BRIDGE)),
                () -> "the bridge " + BRIDGE + " exists already: another Kubernetes node test runs on this machine");
        Path binaries = KubernetesBinaries.directory();
        KubernetesNode node = new KubernetesNode(plane, Files.createTempDirectory("slipstream-node-"));
        Runtime.getRuntime().addShutdownHook(node.shutdownHook);
        try {
            long started = System.nanoTime();
            node.startAll(binaries);
            log.info("Kubernetes node Ready in {} ms ({})", (System.nanoTime() - started) / 1_000_000, node.dir);
            return node;
        } catch (Exception | Error e) {
            IllegalStateException failure = new IllegalStateException("the Kubernetes node did not start: "
                    + e.getMessage() + node.logTails(), e);
            node.close();
            throw failure;
        }
    }

    /**
     * Relays {@link #HOST_ADDRESS}:{@code apiPort} to the API server on loopback, so pods (the controller's
     * Kubernetes scale target, with {@code KUBERNETES_SERVICE_HOST} set to {@link #HOST_ADDRESS}) reach it:
     * the node has no kube-proxy to route the {@code kubernetes} Service. The control plane must advertise
     * {@link #HOST_ADDRESS} ({@link KubernetesControlPlane#start(String)}) so its certificate names it.
     * Returns the port; the relay stops with the node.
     */
    public int exposeApiServerToPods() throws IOException {
        if (relay == null) {
            relay = TcpRelay.start(new InetSocketAddress(HOST_ADDRESS, plane.apiPort()),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), plane.apiPort()));
        }
        return plane.apiPort();
    }

    /** containerd's socket (for {@code ctr --address}). */
    public Path containerdSocket() {
        return dir.resolve("containerd.sock");
    }

    /** Imports an image archive ({@code docker save}) into the node's runtime, namespace k8s.io. */
    public void importImage(Path archive) throws IOException, InterruptedException {
        run(Duration.ofMinutes(3), "ctr", "--address", containerdSocket().toString(), "-n", "k8s.io",
                "images", "import", archive.toString());
    }

    private void startAll(Path binaries) throws Exception {
        // The bridge up front (CNI adopts it), so the host's address on the pod network exists before any pod:
        // tests bind origins and ZooKeeper-facing services to it.
        run(Duration.ofSeconds(10), "ip", "link", "add", BRIDGE, "type", "bridge");
        run(Duration.ofSeconds(10), "ip", "addr", "add", HOST_ADDRESS + "/24", "dev", BRIDGE);
        run(Duration.ofSeconds(10), "ip", "link", "set", BRIDGE, "up");
        dns = ClusterDns.start(plane.admin(), HOST_ADDRESS, CLUSTER_DOMAIN);
        Path kubeconfig = plane.adminKubeconfig();
        processes.launch("kube-scheduler", binaries.resolve("kube-scheduler").toString(),
                "--kubeconfig=" + kubeconfig,
                "--authentication-kubeconfig=" + kubeconfig,
                "--authorization-kubeconfig=" + kubeconfig,
                "--leader-elect=false", "--bind-address=127.0.0.1", "--port=0", "--secure-port=0", "--v=1");

        Path cni = Files.createDirectories(dir.resolve("cni"));
        Files.writeString(cni.resolve("10-slipstream-test.conflist"), String.join("\n",
                "{",
                "  \"cniVersion\": \"0.4.0\",",
                "  \"name\": \"slipstream-test\",",
                "  \"plugins\": [",
                "    {\"type\": \"bridge\", \"bridge\": \"" + BRIDGE + "\", \"isGateway\": true, \"ipMasq\": false,",
                "     \"hairpinMode\": true,",
                "     \"ipam\": {\"type\": \"host-local\", \"dataDir\": \"" + dir.resolve("cni-ipam") + "\",",
                "               \"ranges\": [[{\"subnet\": \"" + POD_SUBNET + "\", \"gateway\": \"" + HOST_ADDRESS + "\"}]]}}",
                "  ]",
                "}", ""));
        Files.writeString(dir.resolve("containerd.toml"), String.join("\n",
                "version = 2",
                "root = \"" + dir.resolve("containerd/root") + "\"",
                "state = \"" + dir.resolve("containerd/state") + "\"",
                "[grpc]",
                "  address = \"" + containerdSocket() + "\"",
                "[ttrpc]",
                "  address = \"" + dir.resolve("containerd-ttrpc.sock") + "\"",
                "[debug]",
                "  level = \"warn\"",
                "[metrics]",
                "  address = \"\"",
                "[plugins.\"io.containerd.grpc.v1.cri\"]",
                "  sandbox_image = \"" + PAUSE_IMAGE + "\"",
                "  restrict_oom_score_adj = true",
                "  disable_apparmor = true",
                "  [plugins.\"io.containerd.grpc.v1.cri\".containerd]",
                "    snapshotter = \"overlayfs\"",
                "    default_runtime_name = \"runc\"",
                "    [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]",
                "      runtime_type = \"io.containerd.runc.v2\"",
                "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]",
                "        SystemdCgroup = false",
                "        Root = \"" + dir.resolve("runc") + "\"",
                "  [plugins.\"io.containerd.grpc.v1.cri\".cni]",
                "    bin_dir = \"/usr/lib/cni\"",
                "    conf_dir = \"" + cni + "\"",
                ""));
        containerd = processes.launch("containerd", "/usr/bin/containerd", "--config", dir.resolve("containerd.toml").toString());
        await("containerd answering on " + containerdSocket()).atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsMatching(e -> e instanceof IOException)
                .until(() -> {
                    processes.checkAlive();
                    run(Duration.ofSeconds(10), "ctr", "--address", containerdSocket().toString(), "version");
                    return true;
                });
        importImage(pauseImage());

        int kubeletPort = Ports.free();
        Files.writeString(dir.resolve("kubelet.yaml"), String.join("\n",
                "apiVersion: kubelet.config.k8s.io/v1beta1",
                "kind: KubeletConfiguration",
                "address: " + HOST_ADDRESS,
                "port: " + kubeletPort,
                "readOnlyPort: 0",
                "healthzPort: 0",
                "authentication:",
                "  anonymous: {enabled: false}",
                "  webhook: {enabled: false}",
                "authorization: {mode: AlwaysAllow}",
                "cgroupDriver: cgroupfs",
                "failSwapOn: false",
                "maxOpenFiles: 20000",
                "makeIPTablesUtilChains: false",
                "serializeImagePulls: false",
                "clusterDomain: " + CLUSTER_DOMAIN,
                "clusterDNS: [" + HOST_ADDRESS + "]",
                "resolvConf: /etc/resolv.conf",
                "enforceNodeAllocatable: []",
                "imageGCHighThresholdPercent: 100",
                "evictionHard: {memory.available: \"1Mi\", nodefs.available: \"1%\", imagefs.available: \"1%\"}",
                ""));
        processes.launch("kubelet", binaries.resolve("kubelet").toString(),
                "--kubeconfig=" + kubeconfig,
                "--config=" + dir.resolve("kubelet.yaml"),
                "--container-runtime=remote",
                "--container-runtime-endpoint=unix://" + containerdSocket(),
                "--pod-infra-container-image=" + PAUSE_IMAGE,
                "--hostname-override=localhost",
                "--node-ip=" + HOST_ADDRESS,
                "--root-dir=" + dir.resolve("kubelet"),
                "--cert-dir=" + dir.resolve("kubelet-pki"),
                "--v=1");

        KubernetesClient admin = plane.admin();
        await("node localhost Ready").atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> {
                    processes.checkAlive();
                    Node n = admin.nodes().withName("localhost").get();
                    return n != null && n.getStatus().getConditions().stream()
                            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
                });
        // Without the node-lifecycle controller nobody removes the taint kubelet registers with.
        admin.nodes().withName("localhost").edit(n -> {
            if (n.getSpec().getTaints() != null) {
                n.getSpec().getTaints().removeIf(t -> t.getKey().startsWith("node.kubernetes.io/not-ready"));
            }
            return n;
        });
    }

    /** Is the node Ready now? */
    public boolean ready() {
        Node n = plane.admin().nodes().withName("localhost").get();
        if (n == null) {
            return false;
        }
        for (NodeCondition c : n.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    /** The pause image as an archive: FROM scratch, the static pause binary from the binary cache. */
    private Path pauseImage() throws IOException, InterruptedException {
        Path pause = KubernetesBinaries.directory().resolve("pause");
        if (!Files.isExecutable(pause)) {
            throw new IllegalStateException(pause + " is missing (e2e/k8s/build-kubernetes.sh compiles it)");
        }
        Path ctx = Files.createDirectories(dir.resolve("pause-image"));
        Files.copy(pause, ctx.resolve("pause"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\nCOPY pause /pause\nUSER 65535:65535\n"
                + "ENTRYPOINT [\"/pause\"]\n");
        String tag = PAUSE_IMAGE.substring("docker.io/".length());
        run(Duration.ofMinutes(2), "docker", "build", "-q", "-t", tag, ctx.toString());
        Path archive = dir.resolve("pause.tar");
        run(Duration.ofMinutes(1), "docker", "save", "-o", archive.toString(), tag);
        return archive;
    }




    /** The last lines of each process's log (for failures). */
    public String logTails() {
        return processes.logTails();
    }

    @Override
    public void close() {
        cleanUp();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run.
        }
    }

    private synchronized void cleanUp() {
        if (cleaned) {
            return;
        }
        cleaned = true;
        if (relay != null) {
            relay.close();
        }
        if (dns != null) {
            dns.close();
        }
        // kubelet and the scheduler first (nothing restarts containers), then the containers, then containerd.
        for (Process p : processes.newestFirst()) {
            if (p != containerd) {
                stop(p);
            }
        }
        quietly(this::removeContainers);
        if (containerd != null) {
            stop(containerd);
        }
        processes.clear();
        quietly(this::killShims);
        quietly(this::removeNetns);
        quietly(this::unmountUnderDir);
        quietly(() -> {
            if (Files.exists(Path.of("/sys/class/net", BRIDGE))) {
                run(Duration.ofSeconds(10), "ip", "link", "del", BRIDGE);
            }
        });
        quietly(this::removeKubeChains);
        quietly(this::removeKubepodsCgroups);
        quietly(() -> Files.writeString(IP_FORWARD, ipForwardBefore));
        quietly(() -> deleteTree(dir));
    }

    private void removeContainers() throws IOException, InterruptedException {
        // containerd's runc root holds one directory per namespace (k8s.io).
        Path root = dir.resolve("runc");
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> namespaces = Files.list(root)) {
            for (Path ns : (Iterable<Path>) namespaces.filter(Files::isDirectory)::iterator) {
                String ids = run(Duration.ofSeconds(20), "runc", "--root", ns.toString(), "list", "-q");
                for (String id : ids.split("\n")) {
                    if (!id.isBlank()) {
                        run(Duration.ofSeconds(20), true, "runc", "--root", ns.toString(), "delete", "--force",
                                id.strip());
                    }
                }
            }
        }
    }

    /** Shims outlive containerd: those serving this node's socket, by PID. */
    private void killShims() throws IOException {
        String socket = containerdSocket().toString();
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            all.filter(h -> h.info().commandLine().map(c -> c.contains("containerd-shim") && c.contains(socket))
                            .orElse(false))
                    .forEach(h -> {
                        h.destroyForcibly();
                        h.onExit().orTimeout(5, TimeUnit.SECONDS).exceptionally(e -> h).join();
                    });
        }
    }

    private void removeNetns() throws IOException, InterruptedException {
        for (String name : netns()) {
            if (!netnsBefore.contains(name) && name.startsWith("cni-")) {
                Path f = NETNS_DIR.resolve(name);
                run(Duration.ofSeconds(10), true, "umount", "-l", f.toString());
                Files.deleteIfExists(f);
            }
        }
    }

    private void unmountUnderDir() throws IOException, InterruptedException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            String point = f[1].replace("\\040", " ");
            if (point.startsWith(dir.toString() + "/")) {
                mounts.add(point);
            }
        }
        mounts.sort(Comparator.reverseOrder());
        for (String m : mounts) {
            run(Duration.ofSeconds(10), true, "umount", "-l", m);
        }
    }

    private void removeKubeChains() throws IOException, InterruptedException {
        for (String table : List.of("filter", "nat", "mangle")) {
            Set<String> now = chains(table);
            for (String chain : now) {
                if (!chain.startsWith("KUBE-") || chainsBefore.contains(table + "/" + chain)) {
                    continue;
                }
                // Rules jumping to it first, then the chain.
                for (String rule : run(Duration.ofSeconds(10), "iptables", "-w", "-t", table, "-S").split("\n")) {
                    if (rule.startsWith("-A ") && rule.contains("-j " + chain)) {
                        List<String> del = new ArrayList<>(List.of("iptables", "-w", "-t", table, "-D"));
                        del.addAll(List.of(rule.substring(3).split(" ")));
                        run(Duration.ofSeconds(10), true, del.toArray(String[]::new));
                    }
                }
                run(Duration.ofSeconds(10), true, "iptables", "-w", "-t", table, "-F", chain);
            }
            for (String chain : now) {
                if (chain.startsWith("KUBE-") && !chainsBefore.contains(table + "/" + chain)) {
                    run(Duration.ofSeconds(10), true, "iptables", "-w", "-t", table, "-X", chain);
                }
            }
        }
    }

    private void removeKubepodsCgroups() throws IOException {
        Path cgroups = Path.of("/sys/fs/cgroup");
        try (Stream<Path> controllers = Files.list(cgroups)) {
            for (Path c : (Iterable<Path>) controllers::iterator) {
                Path kubepods = c.resolve("kubepods");
                if (Files.isDirectory(kubepods) && !Files.isSymbolicLink(c)) {
                    try (Stream<Path> tree = Files.walk(kubepods)) {
                        tree.filter(Files::isDirectory).sorted(Comparator.reverseOrder())
                                .forEach(d -> d.toFile().delete());
                    }
                }
            }
        }
    }

    private static Set<String> netns() throws IOException {
        Set<String> names = new HashSet<>();
        if (Files.isDirectory(NETNS_DIR)) {
            try (Stream<Path> files = Files.list(NETNS_DIR)) {
                files.forEach(f -> names.add(f.getFileName().toString()));
            }
        }
        return names;
    }

    private static Set<String> kubeChains() throws IOException, InterruptedException {
        Set<String> all = new HashSet<>();
        for (String table : List.of("filter", "nat", "mangle")) {
            for (String chain : chains(table)) {
                all.add(table + "/" + chain);
            }
        }
        return all;
    }

    private static Set<String> chains(String table) throws IOException, InterruptedException {
        Set<String> names = new HashSet<>();
        for (String line : run(Duration.ofSeconds(10), "iptables", "-w", "-t", table, "-S").split("\n")) {
            if (line.startsWith("-N ")) {
                names.add(line.substring(3).strip());
            }
        }
        return names;
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void quietly(Step step) {
        try {
            step.run();
        } catch (Exception e) {
            log.warn("Kubernetes node clean-up step failed: {}", e.toString());
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(f);
            }
        }
    }


    static String run(Duration timeout, String... command) throws IOException, InterruptedException {
        return run(timeout, false, command);
    }

    /** Runs a command, returns its output; fails (unless {@code tolerant}) on a non-zero exit or a timeout. */
    static String run(Duration timeout, boolean tolerant, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("slipstream-node-cmd", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + timeout);
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 && !tolerant) {
                throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + output);
            }
            return output;
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
