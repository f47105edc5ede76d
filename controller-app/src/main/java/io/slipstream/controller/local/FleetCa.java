package io.slipstream.controller.local;

import io.slipstream.common.tls.FleetIdentity;
import io.slipstream.common.tls.TlsFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for a local fleet (the demo, the test harness): it issues fleet
 * certificates (URI SAN {@code urn:slipstream:worker:<site>:<id>} or {@code urn:slipstream:controller:<name>},
 * ECDSA P-256) into directories laid out like a cert-manager Secret ({@code tls.crt}, {@code tls.key},
 * {@code ca.crt}). Not for production: its key lives only in memory and on nothing but this run.
 */
public final class FleetCa {

    private static final Duration DEFAULT_VALIDITY = Duration.ofDays(2);
    private final Path dir;
    private final KeyPair caKey;
    private final X509Certificate ca;
    private final Path caPem;
    private final SecureRandom random = new SecureRandom();

    private FleetCa(Path dir, String name) throws IOException, GeneralSecurityException {
        this.dir = dir;
        this.caKey = keyPair();
        X500Name subject = new X500Name("CN=" + name);
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                Date.from(Instant.now().minus(Duration.ofHours(1))), Date.from(Instant.now().plus(DEFAULT_VALIDITY)),
                subject, caKey.getPublic());
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } catch (CertIOException e) {
            throw new IOException(e);
        }
        this.ca = sign(builder);
        Files.createDirectories(dir);
        this.caPem = dir.resolve(name + "-ca.crt");
        Files.writeString(caPem, pem(ca));
    }

    /** A new CA named {@code name}; its certificate goes to {@code dir/<name>-ca.crt}. */
    public static FleetCa create(Path dir, String name) throws IOException {
        try {
            return new FleetCa(dir, name);
        } catch (GeneralSecurityException e) {
            throw new IOException("fleet CA: " + e.getMessage(), e);
        }
    }

    /** The CA certificate (PEM). */
    public Path caPem() {
        return caPem;
    }

    /** Issues a worker certificate into {@code dir/<id>/}; returns that directory. */
    public Path issueWorker(String site, String workerId) throws IOException {
        return issue(FleetIdentity.worker(site, workerId), dir.resolve(workerId));
    }

    /** Issues a controller certificate into {@code dir/controller-<name>/}; returns that directory. */
    public Path issueController(String name) throws IOException {
        return issue(FleetIdentity.controller(name), dir.resolve("controller-" + name));
    }

    /**
     * Issues a certificate for {@code identity} into {@code target} ({@code tls.crt}, {@code tls.key},
     * {@code ca.crt}), replacing what is there file by file with atomic moves (a rotation).
     */
    public Path issue(FleetIdentity identity, Path target) throws IOException {
        return issue(identity, target, DEFAULT_VALIDITY);
    }

    /** As {@link #issue(FleetIdentity, Path)} with a chosen validity. */
    public Path issue(FleetIdentity identity, Path target, Duration validity) throws IOException {
        try {
            KeyPair key = keyPair();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(),
                    Date.from(Instant.now().minus(Duration.ofHours(1))), Date.from(Instant.now().plus(validity)),
                    new X500Name("CN=" + identity.name()), key.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, identity.uri())));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            X509Certificate cert = sign(builder);
            StringWriter keyPem = new StringWriter();
            try (JcaPEMWriter w = new JcaPEMWriter(keyPem)) {
                w.writeObject(new JcaPKCS8Generator(key.getPrivate(), null));
            }
            Files.createDirectories(target);
            replace(target.resolve(TlsFiles.CA), pem(ca));
            replace(target.resolve(TlsFiles.KEY), keyPem.toString());
            replace(target.resolve(TlsFiles.CERT), pem(cert));
            return target;
        } catch (GeneralSecurityException e) {
            throw new IOException("fleet CA: issuing " + identity + ": " + e.getMessage(), e);
        }
    }

    private static void replace(Path file, String content) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), ".tmp-", ".pem");
        Files.writeString(tmp, content);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Worker command-line options that use the certificate in {@code tlsDir}. */
    public static java.util.List<String> tlsArgs(Path tlsDir) {
        return java.util.List.of("--tls-dir", tlsDir.toString());
    }

    private X509Certificate sign(X509v3CertificateBuilder builder) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(object);
        }
        return out.toString();
    }

    private KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256, random);
        return generator.generateKeyPair();
    }

    private BigInteger serial() {
        return new BigInteger(63, random).add(BigInteger.ONE);
    }
}
