package io.slipstream.worker.wanopt.tunnel;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.io.File;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Mutual TLS for the tunnel: both ends present a certificate signed by the fleet's CA, and each
 * certificate names its worker with a URI subject alternative name
 * {@code urn:slipstream:worker:<site>:<worker id>}. {@link #identityOf} reads it back so the
 * connection can check it against what the peer claims in HELLO and against the peer the
 * configuration named: a worker certificate of site A cannot pose as site B.
 */
public final class TunnelTls {

    /** Prefix of the URI SAN that names a worker. */
    public static final String IDENTITY_PREFIX = "urn:slipstream:worker:";

    private final SslContext server;
    private final SslContext client;

    private TunnelTls(SslContext server, SslContext client) {
        this.server = server;
        this.client = client;
    }

    /**
     * Loads PEM files: this worker's certificate chain and PKCS#8 private key, and the CA that signs
     * every worker's certificate.
     */
    public static TunnelTls fromPem(File certificateChain, File privateKey, File trustedCa) {
        for (File f : List.of(certificateChain, privateKey, trustedCa)) {
            if (!f.canRead()) {
                throw new IllegalArgumentException("tunnel TLS file: " + f + " (expected: a readable PEM file)");
            }
        }
        try {
            SslContext server = SslContextBuilder.forServer(certificateChain, privateKey)
                    .trustManager(trustedCa).clientAuth(ClientAuth.REQUIRE).protocols("TLSv1.3", "TLSv1.2").build();
            SslContext client = SslContextBuilder.forClient().keyManager(certificateChain, privateKey)
                    .trustManager(trustedCa).protocols("TLSv1.3", "TLSv1.2").build();
            return new TunnelTls(server, client);
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tunnel TLS: cannot load " + certificateChain + ", " + privateKey
                    + ", " + trustedCa + ": " + e.getMessage(), e);
        }
    }

    SslContext server() {
        return server;
    }

    SslContext client() {
        return client;
    }

    /** The worker identity URI of a certificate, {@code site:id}, or {@code null} if it names none. */
    static String identityOf(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names == null) {
                return null;
            }
            for (List<?> name : names) {
                // 6 = uniformResourceIdentifier
                if (Integer.valueOf(6).equals(name.get(0)) && name.get(1) instanceof String
                        && ((String) name.get(1)).startsWith(IDENTITY_PREFIX)) {
                    return ((String) name.get(1)).substring(IDENTITY_PREFIX.length());
                }
            }
            return null;
        } catch (CertificateParsingException e) {
            return null;
        }
    }

    /** The identity ({@code site:id}) the peer's certificate proves on this TLS connection. */
    static String peerIdentity(SslHandler ssl) {
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate
                    ? identityOf((X509Certificate) chain[0]) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
