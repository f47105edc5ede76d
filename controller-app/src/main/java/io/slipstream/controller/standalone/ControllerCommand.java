package io.slipstream.controller.standalone;

import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.scale.ScalingConfig;
import io.slipstream.controller.scale.kubernetes.KubernetesScaleTarget;
import io.slipstream.proto.v1.FleetPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code slipstream controller}: runs the standalone controller until SIGTERM. */
@Command(name = "controller", mixinStandardHelpOptions = true,
        description = "Run the standalone controller (no ONOS): fleet directory, configuration, HTTP API.")
public final class ControllerCommand implements Callable<Integer> {

    @Option(names = "--zookeeper", defaultValue = "${env:SLIPSTREAM_ZOOKEEPER:-127.0.0.1:2181}",
            description = "ZooKeeper connect string (default: ${DEFAULT-VALUE})")
    String zookeeper;

    @Option(names = "--http", defaultValue = "127.0.0.1:8080",
            description = "Address of the HTTP API and /metrics (default: ${DEFAULT-VALUE})")
    String http;

    @Option(names = "--name", defaultValue = "${env:HOSTNAME:-controller}",
            description = "This controller's name in the leader election and the state's audit records "
                    + "(default: HOSTNAME, else controller)")
    String name;

    @Option(names = "--advertise-url", defaultValue = "${env:SLIPSTREAM_ADVERTISE_URL}",
            description = "URL at which clients reach this controller's HTTP API when it leads, e.g. "
                    + "http://10.0.0.5:8080; followers redirect writes there (default: SLIPSTREAM_ADVERTISE_URL, "
                    + "else from --http)")
    String advertiseUrl;

    @Option(names = "--zk-session-timeout-ms", defaultValue = "10000",
            description = "ZooKeeper session timeout; a killed leader is replaced about this long after it died "
                    + "(default: ${DEFAULT-VALUE})")
    int zkSessionTimeoutMillis;

    @Option(names = "--policy", description = "Fleet policy JSON file (the start-up values: see docs/control-plane.md, "
            + "durable state)")
    Path policyFile;

    @Option(names = "--membership-grace-ms", defaultValue = "30000",
            description = "How long a serving worker missing from ZooKeeper is kept (default: ${DEFAULT-VALUE})")
    long graceMillis;

    @Option(names = "--config", description = "Controller configuration JSON file; its \"scaling\" section "
            + "turns the autoscaler on (see docs/autoscaling.md)")
    Path configFile;

    @Option(names = "--kubernetes-namespace", description = "Namespace of the worker Deployments when the scaling "
            + "target is kubernetes (default: the pod's own namespace, or the kubeconfig's)")
    String kubernetesNamespace;

    @Option(names = "--zk-auth-file", defaultValue = "${env:SLIPSTREAM_ZK_AUTH}",
            description = "ZooKeeper digest credentials file (user=/password= lines, or one user:password line) "
                    + "(default: SLIPSTREAM_ZK_AUTH; none: open directory, development only)")
    Path zkAuthFile;

    @Option(names = "--admin-tokens-file", defaultValue = "${env:SLIPSTREAM_ADMIN_TOKENS}",
            description = "Admin API bearer tokens, one a line: 'name role sha256-hex' or 'name:role:token'; "
                    + "roles viewer, operator (default: SLIPSTREAM_ADMIN_TOKENS; none: mutating routes disabled)")
    Path adminTokensFile;

    @Option(names = "--admin-require-auth-for-reads",
            description = "GET routes of the admin API need a viewer or operator token too")
    boolean adminRequireAuthForReads;

    @Option(names = "--insecure-admin",
            description = "Development only: without tokens, let anyone use the mutating admin routes")
    boolean insecureAdmin;

    @Option(names = "--tls-dir", paramLabel = "DIR", defaultValue = "${env:SLIPSTREAM_TLS_DIR}",
            description = "Mutual TLS on the control channels: a directory with tls.crt (URI SAN "
                    + "urn:slipstream:controller:<name>), tls.key (PKCS#8) and ca.crt, e.g. a mounted cert-manager "
                    + "Secret; reloaded on change (default: SLIPSTREAM_TLS_DIR)")
    Path tlsDir;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "Instead of --tls-dir: the certificate chain")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "Instead of --tls-dir: its PKCS#8 private key")
    Path tlsKey;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "Instead of --tls-dir: the fleet CA bundle")
    Path tlsCa;

    @Option(names = "--tls-reload-ms", defaultValue = "10000", paramLabel = "MILLIS",
            description = "How often the TLS files are checked for a change (default: ${DEFAULT-VALUE})")
    long tlsReloadMillis;

    @Option(names = "--insecure-plaintext",
            description = "Plaintext control channels, for development only (logged as a warning)")
    boolean insecurePlaintext;

    private static String readConfig(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("--config: '" + file + "' (expected: a readable JSON file; " + e + ")");
        }
    }

    @Override
    public Integer call() throws Exception {
        FleetPolicy policy = FleetPolicy.getDefaultInstance();
        if (policyFile != null) {
            policy = FleetPolicies.parse(Files.readString(policyFile));
        }
        int colon = http.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--http: '" + http + "' (expected: host:port)");
        }
        ScalingConfig scaling = configFile == null ? ScalingConfig.disabled() : ScalingConfig.parse(readConfig(configFile));
        ControllerSettings.Builder builder = ControllerSettings.builder(zookeeper)
                .http(http.substring(0, colon), Integer.parseInt(http.substring(colon + 1)))
                .membershipGrace(Duration.ofMillis(graceMillis))
                .name(name)
                .zkSessionTimeoutMillis(zkSessionTimeoutMillis)
                .policy(policy)
                .scaling(scaling)
                .zooKeeperAuth(io.slipstream.common.ZooKeeperAuth.load(zkAuthFile))
                .adminAccess(AdminAccess.of(adminTokensFile == null ? AdminTokens.none()
                        : AdminTokens.load(adminTokensFile), insecureAdmin, adminRequireAuthForReads));
        if (advertiseUrl != null && !advertiseUrl.isBlank()) {
            builder.advertisedUrl(advertiseUrl);
        }
        if (scaling.enabled() && "kubernetes".equals(scaling.target())) {
            // Only here: the ONOS bundle and the local demo never load fabric8.
            builder.scaleTarget(KubernetesScaleTarget.fromEnvironment(kubernetesNamespace));
        }
        io.slipstream.common.tls.TlsFiles tls = io.slipstream.common.tls.TlsFiles.fromOptions(
                tlsDir == null || tlsDir.toString().isBlank() ? null : tlsDir, tlsCert, tlsKey, tlsCa,
                "--tls-dir/--tls-cert/--tls-key/--tls-ca");
        if (tls != null && insecurePlaintext) {
            throw new IllegalArgumentException("--insecure-plaintext with TLS files (expected: one or the other)");
        }
        if (tls == null && !insecurePlaintext) {
            throw new IllegalArgumentException("no transport security configured (expected: --tls-dir DIR or "
                    + "SLIPSTREAM_TLS_DIR, or --tls-cert/--tls-key/--tls-ca, for mutual TLS with the workers; "
                    + "or --insecure-plaintext for development)");
        }
        if (tls != null) {
            builder.tls(tls).tlsReloadPeriod(Duration.ofMillis(tlsReloadMillis));
        } else {
            builder.insecurePlaintext();
        }
        ControllerSettings settings = builder.build();
        StandaloneController controller = StandaloneController.start(settings);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            controller.close();
            stop.countDown();
        }, "controller-shutdown"));
        stop.await();
        return 0;
    }
}
