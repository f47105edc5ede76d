package io.slipstream.controller.standalone;

import io.slipstream.controller.scale.ScaleTarget;
import io.slipstream.controller.scale.ScalingConfig;
import io.slipstream.proto.v1.FleetPolicy;
import java.time.Duration;
import java.util.Objects;

/** How the standalone controller starts. Built with {@link #builder(String)}. */
public final class ControllerSettings {

    final String zookeeper;
    final int zkSessionTimeoutMillis;
    final String httpHost;
    final int httpPort;
    final Duration membershipGrace;
    final int loadIntervalMillis;
    final FleetPolicy policy;
    // Autoscaling (issue 7).
    final ScalingConfig scaling;
    final ScaleTarget scaleTarget;
    // Security (issue 10).
    final io.slipstream.common.ZooKeeperAuth zkAuth;
    final AdminAccess adminAccess;
    // Mutual TLS (issue 10): exactly one of tlsFiles, devCa, insecurePlaintext.
    final io.slipstream.common.tls.TlsFiles tlsFiles;
    final io.slipstream.controller.local.FleetCa devCa;
    final boolean insecurePlaintext;
    final Duration tlsReloadPeriod;
    // Durable state and leadership (issue 23).
    final String name;
    final String advertisedUrl;

    private ControllerSettings(Builder b) {
        this.name = b.name;
        this.advertisedUrl = b.advertisedUrl;
        this.tlsFiles = b.tlsFiles;
        this.devCa = b.devCa;
        this.insecurePlaintext = b.insecurePlaintext;
        this.tlsReloadPeriod = b.tlsReloadPeriod;
        this.zookeeper = b.zookeeper;
        this.zkSessionTimeoutMillis = b.zkSessionTimeoutMillis;
        this.httpHost = b.httpHost;
        this.httpPort = b.httpPort;
        this.membershipGrace = b.membershipGrace;
        this.loadIntervalMillis = b.loadIntervalMillis;
        this.policy = b.policy;
        this.scaling = b.scaling;
        this.scaleTarget = b.scaleTarget;
        this.zkAuth = b.zkAuth;
        this.adminAccess = b.adminAccess;
    }

    public static Builder builder(String zookeeper) {
        return new Builder(zookeeper);
    }

    /** Builder with the production defaults. */
    public static final class Builder {
        private final String zookeeper;
        private int zkSessionTimeoutMillis = 10_000;
        private String httpHost = "127.0.0.1";
        private int httpPort = 8080;
        private Duration membershipGrace = Duration.ofSeconds(30);
        private int loadIntervalMillis = 1000;
        private FleetPolicy policy = FleetPolicy.getDefaultInstance();
        private ScalingConfig scaling = ScalingConfig.disabled();
        private ScaleTarget scaleTarget;
        private io.slipstream.common.ZooKeeperAuth zkAuth = io.slipstream.common.ZooKeeperAuth.none();
        private AdminAccess adminAccess = AdminAccess.disabled();
        private io.slipstream.common.tls.TlsFiles tlsFiles;
        private io.slipstream.controller.local.FleetCa devCa;
        private boolean insecurePlaintext;
        private Duration tlsReloadPeriod = Duration.ofSeconds(10);
        private String name = "controller";
        private String advertisedUrl;

        private Builder(String zookeeper) {
            this.zookeeper = Objects.requireNonNull(zookeeper, "zookeeper");
        }

        public Builder zkSessionTimeoutMillis(int millis) {
            if (millis < 1000 || millis > 600_000) {
                throw new IllegalArgumentException("zookeeper session timeout: " + millis + " ms (expected: 1000..600000)");
            }
            this.zkSessionTimeoutMillis = millis;
            return this;
        }

        /** This controller's name in the leader election and in the records it writes (default: controller). */
        public Builder name(String name) {
            if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
                throw new IllegalArgumentException("controller name: '" + name
                        + "' (expected: letters, digits, '.', '_', '-'; at most 63)");
            }
            this.name = name;
            return this;
        }

        /**
         * The URL other controllers send clients to when this one leads, e.g. {@code http://10.0.0.5:8080}; by
         * default {@code http://<http host>:<bound port>} (the machine's address when bound to a wildcard).
         */
        public Builder advertisedUrl(String url) {
            if (url == null || !url.matches("https?://[^/\\s]+")) {
                throw new IllegalArgumentException("advertised url: '" + url
                        + "' (expected: http://host:port, no path)");
            }
            this.advertisedUrl = url;
            return this;
        }

        /** Address and port of the HTTP API (/api/fleet, /api/policy, /metrics); port 0 for any. */
        public Builder http(String host, int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("http port: " + port + " (expected: 0..65535)");
            }
            this.httpHost = host;
            this.httpPort = port;
            return this;
        }

        /** How long a serving worker that vanished from ZooKeeper is kept while it re-registers. */
        public Builder membershipGrace(Duration grace) {
            this.membershipGrace = grace;
            return this;
        }

        public Builder loadIntervalMillis(int millis) {
            if (millis < 100 || millis > 60_000) {
                throw new IllegalArgumentException("load interval: " + millis + " ms (expected: 100..60000)");
            }
            this.loadIntervalMillis = millis;
            return this;
        }

        public Builder policy(FleetPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The autoscaler's rules; disabled by default. */
        public Builder scaling(ScalingConfig scaling) {
            this.scaling = Objects.requireNonNull(scaling, "scaling");
            return this;
        }

        /**
         * What the autoscaler scales through; the controller closes it. Without one, a {@code local}
         * scaling section gets worker processes on this machine started with the controller's ZooKeeper.
         */
        public Builder scaleTarget(ScaleTarget target) {
            this.scaleTarget = Objects.requireNonNull(target, "scaleTarget");
            return this;
        }

        /** ZooKeeper digest credentials; none by default (open directory, development). */
        public Builder zooKeeperAuth(io.slipstream.common.ZooKeeperAuth auth) {
            this.zkAuth = Objects.requireNonNull(auth, "zooKeeperAuth");
            return this;
        }

        /** Who may use the admin API, and where its audit lines go; by default mutating routes are refused. */
        public Builder adminAccess(AdminAccess access) {
            this.adminAccess = Objects.requireNonNull(access, "adminAccess");
            return this;
        }

        /**
         * Mutual TLS on the control channels with the controller's certificate (URI SAN
         * {@code urn:slipstream:controller:<name>}), key and the fleet CA, reloaded when the files change.
         */
        public Builder tls(io.slipstream.common.tls.TlsFiles files) {
            this.tlsFiles = Objects.requireNonNull(files, "tls files");
            return this;
        }

        /**
         * Mutual TLS from a throwaway CA (demo, tests): the controller issues its own certificate from it, and
         * workers the local scale target starts get theirs.
         */
        public Builder devCa(io.slipstream.controller.local.FleetCa ca) {
            this.devCa = Objects.requireNonNull(ca, "devCa");
            return this;
        }

        /** Plaintext control channels: development only, logged as a warning and in slipstream.security.plaintext. */
        public Builder insecurePlaintext() {
            this.insecurePlaintext = true;
            return this;
        }

        /** How often the TLS files are checked for a change (default 10 s). */
        public Builder tlsReloadPeriod(Duration period) {
            if (period.isNegative() || period.isZero()) {
                throw new IllegalArgumentException("TLS reload period: " + period + " (expected: > 0)");
            }
            this.tlsReloadPeriod = period;
            return this;
        }

        public ControllerSettings build() {
            int chosen = (tlsFiles != null ? 1 : 0) + (devCa != null ? 1 : 0) + (insecurePlaintext ? 1 : 0);
            if (chosen != 1) {
                throw new IllegalArgumentException("controller transport security: " + (chosen == 0 ? "none chosen"
                        : "more than one of TLS files, a development CA and plaintext chosen") + " (expected: "
                        + "--tls-dir or --tls-cert/--tls-key/--tls-ca for mutual TLS, or --insecure-plaintext for "
                        + "development)");
            }
            return new ControllerSettings(this);
        }
    }
}
