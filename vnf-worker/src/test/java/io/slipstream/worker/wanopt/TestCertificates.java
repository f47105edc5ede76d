package io.slipstream.worker.wanopt;

import io.slipstream.worker.security.WorkerTls;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A test CA that issues worker certificates named {@code urn:slipstream:worker:<site>:<id>}, as PEM files. */
public final class TestCertificates {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());
    private final Path dir;
    private final KeyPair caKey;
    private final X509Certificate ca;
    public final Path caPem;

    public TestCertificates(Path dir, String name) throws Exception {
        this.dir = dir;
        this.caKey = keyPair();
        X500Name subject = new X500Name("CN=" + name);
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(), notBefore(), notAfter(),
                subject, caKey.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        this.ca = sign(builder, caKey);
        this.caPem = write(name + "-ca.pem", ca);
    }

    /** Files of a worker certificate: [chain, key]. */
    Path[] issue(String site, String workerId) throws Exception {
        KeyPair key = keyPair();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial(), notBefore(), notAfter(),
                new X500Name("CN=" + workerId), key.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(
                GeneralName.uniformResourceIdentifier, WorkerTls.IDENTITY_PREFIX + site + ":" + workerId)));
        X509Certificate cert = sign(builder, caKey);
        Path certPem = write(workerId + ".pem", cert);
        StringWriter pem = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
            w.writeObject(new JcaPKCS8Generator(key.getPrivate(), null));
        }
        Path keyPem = Files.writeString(dir.resolve(workerId + ".key"), pem.toString());
        return new Path[] {certPem, keyPem};
    }

    /**
     * Issues a certificate with URI SAN {@code uri} into {@code target} laid out like a Kubernetes TLS Secret
     * ({@code tls.crt}, {@code tls.key}, {@code ca.crt}), replacing what is there; returns its serial.
     */
    public BigInteger issueInto(Path target, String uri) throws Exception {
        KeyPair key = keyPair();
        BigInteger serial = serial();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serial, notBefore(), notAfter(),
                new X500Name("CN=" + uri.substring(uri.lastIndexOf(':') + 1)), key.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(
                GeneralName.uniformResourceIdentifier, uri)));
        X509Certificate cert = sign(builder, caKey);
        Files.createDirectories(target);
        StringWriter keyPem = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(keyPem)) {
            w.writeObject(new JcaPKCS8Generator(key.getPrivate(), null));
        }
        Files.writeString(target.resolve("ca.crt"), Files.readString(caPem));
        Files.writeString(target.resolve("tls.key"), keyPem.toString());
        StringWriter certPem = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(certPem)) {
            w.writeObject(cert);
        }
        Files.writeString(target.resolve("tls.crt"), certPem.toString());
        return serial;
    }

    public WorkerTls tls(String site, String workerId) throws Exception {
        Path[] files = issue(site, workerId);
        return WorkerTls.fromPem(files[0].toFile(), files[1].toFile(), caPem.toFile());
    }

    private Path write(String name, Object object) throws IOException {
        StringWriter pem = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
            w.writeObject(object);
        }
        return Files.writeString(dir.resolve(name), pem.toString());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(1, ChronoUnit.DAYS));
    }
}
