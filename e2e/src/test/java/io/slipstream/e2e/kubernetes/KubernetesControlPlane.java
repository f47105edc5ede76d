package io.slipstream.e2e.kubernetes;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kubernetes 1.20 control plane on loopback for tests: etcd, kube-apiserver (token
 * authentication, RBAC authorization, service-account keys) and kube-controller-manager (Deployments
 * get ReplicaSets, ReplicaSets get Pods; without a node the pods stay Pending). Everything listens on
 * 127.0.0.1 at free ports and lives in one temporary directory; {@link #close()} stops the processes
 * and removes the directory, and a shutdown hook does the same if the JVM exits first.
 *
 * <p>Two identities: {@code admin} (group {@code system:masters}) and {@link #RESTRICTED_USER}, a user
 * with no permissions until a test binds a Role to it.
 */
public final class KubernetesControlPlane implements AutoCloseable {

    /** A user with no bindings of its own (only what {@code system:authenticated} gets). */
    public static final String RESTRICTED_USER = "slipstream-restricted";

    private static final Logger log = LoggerFactory.getLogger(KubernetesControlPlane.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Path dir;
    private final Path binaries;
    private final String adminToken = randomToken();
    private final String restrictedToken = randomToken();
    private final LoggedProcesses processes;
    private final Thread shutdownHook = new Thread(this::stopProcesses, "kubernetes-control-plane-stop");
    private int apiPort;
    private Path serverCertificate;
    private KubernetesClient admin;

    private KubernetesControlPlane(Path dir, Path binaries) {
        this.dir = dir;
        this.processes = new LoggedProcesses(dir);
        this.binaries = binaries;
    }

    /**
     * Builds the binaries if needed (or skips the calling test when they cannot be built here), starts
     * the control plane and waits until the API server is ready and the controllers run.
     */
    public static KubernetesControlPlane start() throws Exception {
        return start("127.0.0.1");
    }

    /**
     * As {@link #start()}, with the API server advertising {@code advertiseAddress} (the {@code kubernetes}
     * Service's endpoint, and an address in its serving certificate) while it still listens on 127.0.0.1 only:
     * for pods that reach it through a relay on that address ({@link KubernetesNode#exposeApiServerToPods}).
     */
    public static KubernetesControlPlane start(String advertiseAddress) throws Exception {
        Path binaries = KubernetesBinaries.directory();
        Path etcd = KubernetesBinaries.etcd();
        KubernetesControlPlane plane = new KubernetesControlPlane(Files.createTempDirectory("slipstream-k8s-"), binaries);
        Runtime.getRuntime().addShutdownHook(plane.shutdownHook);
        try {
            long started = System.nanoTime();
            plane.startAll(etcd, advertiseAddress);
            log.info("Kubernetes {} control plane ready at {} in {} ms ({})", KubernetesBinaries.VERSION,
                    plane.apiServerUrl(), (System.nanoTime() - started) / 1_000_000, plane.dir);
            return plane;
        } catch (Exception | Error e) {
            // The logs go with the directory: keep their ends in the failure.
            IllegalStateException failure = new IllegalStateException("the Kubernetes control plane did not start: "
                    + e.getMessage() + plane.processes.logTails(), e);
            plane.close();
            throw failure;
        }
    }

    private void startAll(Path etcd, String advertiseAddress) throws Exception {
        Files.writeString(dir.resolve("tokens.csv"), adminToken + ",admin,admin-uid,system:masters\n"
                + restrictedToken + "," + RESTRICTED_USER + "," + RESTRICTED_USER + "-uid\n");
        writeServiceAccountKeys();

        int etcdPort = Ports.free();
        int etcdPeerPort = Ports.free();
        String etcdUrl = "http://127.0.0.1:" + etcdPort;
        String peerUrl = "http://127.0.0.1:" + etcdPeerPort;
        processes.launch("etcd", etcd.toString(),
                "--name=slipstream-test",
                "--data-dir=" + dir.resolve("etcd"),
                "--listen-client-urls=" + etcdUrl, "--advertise-client-urls=" + etcdUrl,
                "--listen-peer-urls=" + peerUrl, "--initial-advertise-peer-urls=" + peerUrl,
                "--initial-cluster=slipstream-test=" + peerUrl,
                "--listen-metrics-urls=", "--log-level=warn");

        apiPort = Ports.free();
        Path certs = dir.resolve("apiserver-certs");
        processes.launch("kube-apiserver", binaries.resolve("kube-apiserver").toString(),
                "--etcd-servers=" + etcdUrl,
                "--bind-address=127.0.0.1", "--advertise-address=" + advertiseAddress,
                "--secure-port=" + apiPort, "--insecure-port=0",
                "--cert-dir=" + certs,
                "--token-auth-file=" + dir.resolve("tokens.csv"),
                "--authorization-mode=RBAC",
                "--service-account-key-file=" + dir.resolve("sa.pub"),
                "--service-account-signing-key-file=" + dir.resolve("sa.key"),
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--allow-privileged=true",
                "--profiling=false", "--v=1");
        serverCertificate = certs.resolve("apiserver.crt");
        awaitApiServerReady();

        Path kubeconfig = writeKubeconfig(dir.resolve("admin.kubeconfig"), adminToken);
        processes.launch("kube-controller-manager", binaries.resolve("kube-controller-manager").toString(),
                "--kubeconfig=" + kubeconfig,
                "--authentication-kubeconfig=" + kubeconfig,
                "--authorization-kubeconfig=" + kubeconfig,
                "--bind-address=127.0.0.1", "--secure-port=0", "--port=0",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                "--service-account-private-key-file=" + dir.resolve("sa.key"),
                "--root-ca-file=" + serverCertificate,
                "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route",
                "--concurrent-deployment-syncs=2", "--concurrent-replicaset-syncs=2",
                "--profiling=false", "--v=1");
        admin = new KubernetesClientBuilder().withConfig(adminConfig()).build();
        // The controllers run once the service-account controllers have given "default" its account and token.
        await("kube-controller-manager running (default service account with a token)")
                .atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> {
                    processes.checkAlive();
                    var sa = admin.serviceAccounts().inNamespace("default").withName("default").get();
                    return sa != null && sa.getSecrets() != null && !sa.getSecrets().isEmpty();
                });
    }

    /** The API server's URL, e.g. {@code https://127.0.0.1:41234}. */
    public String apiServerUrl() {
        return "https://127.0.0.1:" + apiPort;
    }

    /** The API server's port on 127.0.0.1. */
    public int apiPort() {
        return apiPort;
    }

    /** A client with full rights (group system:masters); closed with the control plane. */
    public KubernetesClient admin() {
        return admin;
    }

    /** Configuration for the admin identity. */
    public Config adminConfig() {
        return configWithToken(adminToken);
    }

    /** Configuration for {@link #RESTRICTED_USER}, who may do only what tests bind to it. */
    public Config restrictedConfig() {
        return configWithToken(restrictedToken);
    }

    /** A kubeconfig file for the admin identity (for tools such as helm or kubectl). */
    public Path adminKubeconfig() {
        return dir.resolve("admin.kubeconfig");
    }

    /** The directory holding the control plane's files and logs. */
    public Path directory() {
        return dir;
    }

    private Config configWithToken(String token) {
        // Config.empty(): nothing from this machine's ~/.kube or environment leaks into tests.
        return new ConfigBuilder(Config.empty())
                .withMasterUrl(apiServerUrl())
                .withCaCertFile(serverCertificate.toString())
                .withOauthToken(token)
                .withNamespace("default")
                .withRequestRetryBackoffLimit(0)
                .build();
    }

    private void awaitApiServerReady() throws Exception {
        await("kube-apiserver serving its certificate").atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    processes.checkAlive();
                    return Files.isRegularFile(serverCertificate) && Files.size(serverCertificate) > 0;
                });
        HttpClient http = HttpClient.newBuilder().sslContext(trusting(serverCertificate))
                .connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create(apiServerUrl() + "/readyz"))
                .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(5)).build();
        await("kube-apiserver /readyz").atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsMatching(e -> e instanceof IOException)
                .until(() -> {
                    processes.checkAlive();
                    return http.send(readyz, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                });
    }

    private static SSLContext trusting(Path certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certificate)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("apiserver-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    private Path writeKubeconfig(Path file, String token) throws IOException {
        Files.writeString(file, String.join("\n",
                "apiVersion: v1",
                "kind: Config",
                "clusters:",
                "- name: slipstream-test",
                "  cluster:",
                "    server: " + apiServerUrl(),
                "    certificate-authority: " + serverCertificate,
                "users:",
                "- name: admin",
                "  user:",
                "    token: " + token,
                "contexts:",
                "- name: slipstream-test",
                "  context:",
                "    cluster: slipstream-test",
                "    user: admin",
                "    namespace: default",
                "current-context: slipstream-test",
                ""));
        return file;
    }

    private void writeServiceAccountKeys() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        Files.writeString(dir.resolve("sa.key"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        Files.writeString(dir.resolve("sa.pub"), pem("PUBLIC KEY", pair.getPublic().getEncoded()));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }





    private static String randomToken() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Stops the processes in reverse order of start: SIGTERM, then SIGKILL after a grace period. */
    private void stopProcesses() {
        for (Process p : processes.newestFirst()) {
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
        processes.clear();
    }

    @Override
    public void close() throws IOException {
        if (admin != null) {
            admin.close();
        }
        stopProcesses();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run: it stops the processes itself.
        }
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }
}
