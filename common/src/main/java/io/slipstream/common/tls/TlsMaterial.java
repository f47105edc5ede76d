package io.slipstream.common.tls;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's mutual-TLS material: certificate chain, private key and the fleet's CA bundle, read from
 * PEM files and served through grpc-java's reloadable {@link AdvancedTlsX509KeyManager} and
 * {@link AdvancedTlsX509TrustManager}. Every TLS context of the process (the gRPC control plane and the
 * tunnel) is built on these two managers, so after a {@link #reload()} new handshakes use the new material
 * while established connections keep going.
 *
 * <p>{@link #reloadEvery} polls the files' content (a SHA-256 of the three files, so a Kubernetes Secret's
 * {@code ..data} symlink swap is seen however the timestamps fall). A replacement is applied only when it
 * is complete and consistent (certificate parses, is valid now, names a fleet identity, matches the key,
 * and is signed by the CA bundle or its own chain); otherwise the old material stays, the error is logged
 * once per bad content and counted in {@code slipstream.tls.reload{result=failure}}.
 */
public final class TlsMaterial implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

    private final TlsFiles files;
    private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trustManager;
    private volatile Loaded current;
    private volatile byte[] lastBadFingerprint;
    private volatile Counter successes;
    private volatile Counter failures;
    private ScheduledFuture<?> polling;

    /** One consistent set of material. */
    private static final class Loaded {
        final byte[] fingerprint;
        final X509Certificate[] chain;
        final PrivateKey key;
        final X509Certificate[] cas;
        final FleetIdentity identity;

        Loaded(byte[] fingerprint, X509Certificate[] chain, PrivateKey key, X509Certificate[] cas,
               FleetIdentity identity) {
            this.fingerprint = fingerprint;
            this.chain = chain;
            this.key = key;
            this.cas = cas;
            this.identity = identity;
        }
    }

    private TlsMaterial(TlsFiles files) {
        this.files = files;
        try {
            this.trustManager = AdvancedTlsX509TrustManager.newBuilder()
                    // The peer is checked by its fleet identity (URI SAN), not by host name.
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
                    .build();
        } catch (CertificateException e) {
            throw new IllegalStateException("TLS trust manager: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the files once; throws {@link IllegalArgumentException} naming the file and what was wrong
     * with it when they are missing, unreadable or inconsistent.
     */
    public static TlsMaterial load(TlsFiles files) {
        TlsMaterial material = new TlsMaterial(files);
        Loaded loaded = material.read();
        material.install(loaded);
        return material;
    }

    /** Counts reloads in {@code slipstream.tls.reload{result}} and exposes the certificate's expiry. */
    public TlsMaterial bindTo(MeterRegistry meters) {
        successes = Counter.builder("slipstream.tls.reload").tag("result", "success")
                .description("TLS material reloads by outcome (failure: the old material stays)").register(meters);
        failures = Counter.builder("slipstream.tls.reload").tag("result", "failure")
                .description("TLS material reloads by outcome (failure: the old material stays)").register(meters);
        Gauge.builder("slipstream.tls.certificate.expiry", this,
                        m -> m.current.chain[0].getNotAfter().getTime() / 1000.0)
                .description("When this process's certificate expires, seconds since the epoch")
                .baseUnit("seconds").register(meters);
        return this;
    }

    /** Polls the files every {@code period} on {@code executor} and applies good changes. */
    public synchronized TlsMaterial reloadEvery(Duration period, ScheduledExecutorService executor) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("TLS reload period: " + period + " (expected: > 0)");
        }
        if (polling != null) {
            polling.cancel(false);
        }
        long millis = period.toMillis();
        polling = executor.scheduleWithFixedDelay(() -> {
            try {
                reload();
            } catch (RuntimeException e) {
                log.warn("TLS reload of {} failed", files, e);
            }
        }, millis, millis, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Reads the files now; returns {@code true} if they changed and the new material is in use, {@code false}
     * if they are unchanged or the change is bad (then the old material stays).
     */
    public synchronized boolean reload() {
        byte[] fingerprint;
        try {
            fingerprint = fingerprint(readAll());
        } catch (IOException e) {
            return failed(null, files + ": " + e);
        }
        if (Arrays.equals(fingerprint, current.fingerprint) || Arrays.equals(fingerprint, lastBadFingerprint)) {
            return false;
        }
        Loaded loaded;
        try {
            loaded = read();
        } catch (IllegalArgumentException e) {
            return failed(fingerprint, e.getMessage());
        }
        BigInteger before = serial();
        install(loaded);
        lastBadFingerprint = null;
        if (successes != null) {
            successes.increment();
        }
        log.info("TLS material reloaded: {} certificate serial {} (was {}), expires {}", loaded.identity,
                serial().toString(16), before.toString(16), loaded.chain[0].getNotAfter().toInstant());
        return true;
    }

    private boolean failed(byte[] fingerprint, String why) {
        if (fingerprint == null || !Arrays.equals(fingerprint, lastBadFingerprint)) {
            log.error("TLS material not reloaded, keeping certificate serial {}: {}", serial().toString(16), why);
            if (failures != null) {
                failures.increment();
            }
        }
        if (fingerprint != null) {
            lastBadFingerprint = fingerprint;
        }
        return false;
    }

    private void install(Loaded loaded) {
        try {
            trustManager.updateTrustCredentials(loaded.cas);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS CA " + files.trustedCa() + ": " + e.getMessage(), e);
        }
        keyManager.updateIdentityCredentials(loaded.chain, loaded.key);
        current = loaded;
    }

    private byte[][] readAll() throws IOException {
        return new byte[][] {
            Files.readAllBytes(files.certificateChain()),
            Files.readAllBytes(files.privateKey()),
            Files.readAllBytes(files.trustedCa())};
    }

    private static byte[] fingerprint(byte[][] contents) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (byte[] content : contents) {
                sha.update(BigInteger.valueOf(content.length).toByteArray());
                sha.update(content);
            }
            return sha.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Loaded read() {
        for (Path f : new Path[] {files.certificateChain(), files.privateKey(), files.trustedCa()}) {
            if (!Files.isReadable(f)) {
                throw new IllegalArgumentException("TLS file " + f + ": not readable (expected: a readable PEM file)");
            }
        }
        byte[][] contents;
        try {
            contents = readAll();
        } catch (IOException e) {
            throw new IllegalArgumentException("TLS files " + files + ": " + e, e);
        }
        X509Certificate[] chain = certificates(contents[0], files.certificateChain(), "a certificate chain");
        X509Certificate[] cas = certificates(contents[2], files.trustedCa(), "a CA bundle");
        PrivateKey key;
        try {
            key = CertificateUtils.getPrivateKey(new ByteArrayInputStream(contents[1]));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("TLS key " + files.privateKey() + ": " + e
                    + " (expected: a PKCS#8 PEM private key, BEGIN PRIVATE KEY)", e);
        }
        X509Certificate leaf = chain[0];
        try {
            leaf.checkValidity();
        } catch (CertificateException e) {
            throw new IllegalArgumentException("TLS certificate " + files.certificateChain() + ": not valid now ("
                    + leaf.getNotBefore().toInstant() + " .. " + leaf.getNotAfter().toInstant() + ")", e);
        }
        FleetIdentity identity = FleetIdentity.of(leaf);
        if (identity == null) {
            throw new IllegalArgumentException("TLS certificate " + files.certificateChain() + " (subject "
                    + leaf.getSubjectX500Principal() + "): names no fleet identity (expected: one URI SAN "
                    + FleetIdentity.WORKER_PREFIX + "<site>:<id> or " + FleetIdentity.CONTROLLER_PREFIX + "<name>)");
        }
        if (!keyMatches(key, leaf)) {
            throw new IllegalArgumentException("TLS key " + files.privateKey() + " does not match the certificate "
                    + files.certificateChain() + " (expected: the key the certificate was issued for)");
        }
        if (!signedByAny(leaf, cas) && !signedByAny(leaf, Arrays.copyOfRange(chain, 1, chain.length))) {
            throw new IllegalArgumentException("TLS certificate " + files.certificateChain() + " (issuer "
                    + leaf.getIssuerX500Principal() + "): not signed by the CA bundle " + files.trustedCa());
        }
        return new Loaded(fingerprint(contents), chain, key, cas, identity);
    }

    private static X509Certificate[] certificates(byte[] pem, Path file, String expected) {
        try {
            X509Certificate[] certs = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
            if (certs.length == 0) {
                throw new IllegalArgumentException("TLS file " + file + ": no certificate (expected: " + expected
                        + " in PEM)");
            }
            return certs;
        } catch (CertificateException | RuntimeException e) {
            if (e instanceof IllegalArgumentException && e.getMessage() != null
                    && e.getMessage().startsWith("TLS file")) {
                throw (IllegalArgumentException) e;
            }
            throw new IllegalArgumentException("TLS file " + file + ": " + e + " (expected: " + expected
                    + " in PEM)", e);
        }
    }

    private static boolean keyMatches(PrivateKey key, X509Certificate cert) {
        String algorithm;
        switch (key.getAlgorithm()) {
            case "EC":
                algorithm = "SHA256withECDSA";
                break;
            case "RSA":
                algorithm = "SHA256withRSA";
                break;
            default:
                algorithm = key.getAlgorithm();
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean signedByAny(X509Certificate leaf, X509Certificate[] issuers) {
        for (X509Certificate issuer : issuers) {
            try {
                leaf.verify(issuer.getPublicKey());
                return true;
            } catch (GeneralSecurityException e) {
                // not this one
            }
        }
        return false;
    }

    /** The key manager every TLS context of this process presents its certificate with. */
    public X509ExtendedKeyManager keyManager() {
        return keyManager;
    }

    /** Trusts certificates the fleet's CA signed; checks no identity (callers check {@link FleetIdentity}). */
    public X509ExtendedTrustManager trustManager() {
        return trustManager;
    }

    /**
     * Trusts only a peer whose certificate the fleet's CA signed and that names {@code expected}: what a
     * client uses to connect to one known member (a worker found in ZooKeeper with its id and site). A
     * {@code null} identity (the member's record names no valid one) trusts nobody.
     */
    public X509ExtendedTrustManager trustManagerRequiring(FleetIdentity expected) {
        return trustManagerRequiring(expected, why -> { });
    }

    /**
     * As {@link #trustManagerRequiring(FleetIdentity)}, telling {@code onRefusal} why a peer was refused (gRPC
     * reports a refused handshake only as {@code UNAVAILABLE}).
     */
    public X509ExtendedTrustManager trustManagerRequiring(FleetIdentity expected,
                                                          java.util.function.Consumer<String> onRefusal) {
        return new RequiringTrustManager(trustManager, expected, onRefusal);
    }

    /** The identity the current certificate names. */
    public FleetIdentity identity() {
        return current.identity;
    }

    /** The current certificate's serial number. */
    public BigInteger serial() {
        return current.chain[0].getSerialNumber();
    }

    public TlsFiles files() {
        return files;
    }

    /** Stops polling (the executor is the caller's). */
    @Override
    public synchronized void close() {
        if (polling != null) {
            polling.cancel(false);
            polling = null;
        }
    }

    /** The fleet CA's verdict, then the identity check. */
    private static final class RequiringTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        private final FleetIdentity expected;
        private final java.util.function.Consumer<String> onRefusal;

        RequiringTrustManager(X509ExtendedTrustManager delegate, FleetIdentity expected,
                              java.util.function.Consumer<String> onRefusal) {
            this.delegate = delegate;
            this.expected = expected;
            this.onRefusal = onRefusal;
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            FleetIdentity actual = chain == null || chain.length == 0 ? null : FleetIdentity.of(chain[0]);
            if (expected == null || !expected.equals(actual)) {
                throw refused(new CertificateException("peer certificate names " + (actual == null ? "no fleet identity"
                        : actual.uri()) + " (expected: " + (expected == null ? "a valid fleet identity in the "
                        + "member's record" : expected.uri()) + ")"));
            }
        }

        private CertificateException refused(CertificateException e) {
            onRefusal.accept(e.getMessage());
            return e;
        }

        private void trusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                delegate.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw refused(e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            delegate.checkServerTrusted(chain, authType, socket);
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            trusted(chain, authType, engine);
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkServerTrusted(chain, authType);
            check(chain);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }
}
