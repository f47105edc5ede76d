package io.slipstream.worker.security;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.slipstream.common.tls.FleetIdentity;
import io.slipstream.common.tls.TlsFiles;
import io.slipstream.common.tls.TlsMaterial;
import java.io.File;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The worker's mutual TLS: its {@link TlsMaterial} (certificate, key, fleet CA; reloaded when the files
 * change), the tunnel's Netty contexts and the control server's credentials, all built on it.
 * Both ends of a tunnel present a certificate signed by the fleet's CA, and each certificate names its
 * worker with a URI subject alternative name {@code urn:slipstream:worker:<site>:<worker id>}.
 * {@link #identityOf} reads it back so the connection can check it against what the peer claims in HELLO
 * and against the peer the configuration named: a worker certificate of site A cannot pose as site B.
 */
public final class WorkerTls {

    /** Prefix of the URI SAN that names a worker. */
    public static final String IDENTITY_PREFIX = FleetIdentity.WORKER_PREFIX;
    /** How often the files are checked for a change unless told otherwise. */
    public static final Duration DEFAULT_RELOAD_PERIOD = Duration.ofSeconds(10);

    private final TlsMaterial material;
    private final Duration reloadPeriod;
    private final SslContext server;
    private final SslContext client;

    private WorkerTls(TlsMaterial material, Duration reloadPeriod) {
        this.material = material;
        this.reloadPeriod = reloadPeriod;
        try {
            // The contexts hold the reloadable managers, not the key: new handshakes use the current material.
            this.server = SslContextBuilder.forServer(material.keyManager()).trustManager(material.trustManager())
                    .clientAuth(ClientAuth.REQUIRE).protocols("TLSv1.3", "TLSv1.2").build();
            this.client = SslContextBuilder.forClient().keyManager(material.keyManager())
                    .trustManager(material.trustManager()).protocols("TLSv1.3", "TLSv1.2").build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("tunnel TLS: " + material.files() + ": " + e.getMessage(), e);
        }
    }

    /** Mutual TLS on {@code material}, its files checked for a change every {@code reloadPeriod}. */
    public static WorkerTls of(TlsMaterial material, Duration reloadPeriod) {
        if (reloadPeriod.isNegative() || reloadPeriod.isZero()) {
            throw new IllegalArgumentException("TLS reload period: " + reloadPeriod + " (expected: > 0)");
        }
        return new WorkerTls(material, reloadPeriod);
    }

    /**
     * Loads PEM files: this worker's certificate chain and PKCS#8 private key, and the CA that signs
     * every worker's certificate.
     */
    public static WorkerTls fromPem(File certificateChain, File privateKey, File trustedCa) {
        return of(TlsMaterial.load(TlsFiles.of(certificateChain.toPath(), privateKey.toPath(), trustedCa.toPath())),
                DEFAULT_RELOAD_PERIOD);
    }

    /** The certificate, key and CA; the control server is built on them too. */
    public TlsMaterial material() {
        return material;
    }

    public Duration reloadPeriod() {
        return reloadPeriod;
    }

    /** The control server's side: clients must present a certificate of the fleet CA. */
    public ServerCredentials controlServerCredentials() {
        return TlsServerCredentials.newBuilder()
                .keyManager(material.keyManager())
                .trustManager(material.trustManager())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                .build();
    }

    /** The tunnel's server side: a peer must present a certificate of the fleet CA. */
    public SslContext server() {
        return server;
    }

    /** The tunnel's client side, presenting this worker's certificate. */
    public SslContext client() {
        return client;
    }

    /** The worker identity URI of a certificate, {@code site:id}, or {@code null} if it names none. */
    public static String identityOf(X509Certificate certificate) {
        FleetIdentity identity = FleetIdentity.of(certificate);
        return identity == null || !identity.isWorker() ? null : identity.site() + ":" + identity.name();
    }

    /** The identity ({@code site:id}) the peer's certificate proves on this TLS connection. */
    public static String peerIdentity(SslHandler ssl) {
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate
                    ? identityOf((X509Certificate) chain[0]) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
