package io.slipstream.common.tls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the TLS material lives: this process's certificate chain (PEM), its PKCS#8 private key (PEM), and
 * the CA bundle (PEM) that signs every member of the fleet.
 */
public final class TlsFiles {

    /** File names in a directory laid out like a {@code kubernetes.io/tls} Secret made by cert-manager. */
    public static final String CERT = "tls.crt";
    public static final String KEY = "tls.key";
    public static final String CA = "ca.crt";

    private final Path certificateChain;
    private final Path privateKey;
    private final Path trustedCa;

    private TlsFiles(Path certificateChain, Path privateKey, Path trustedCa) {
        this.certificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        this.trustedCa = Objects.requireNonNull(trustedCa, "trustedCa");
    }

    public static TlsFiles of(Path certificateChain, Path privateKey, Path trustedCa) {
        return new TlsFiles(certificateChain, privateKey, trustedCa);
    }

    /**
     * {@code tls.crt}, {@code tls.key} and {@code ca.crt} in {@code dir}: a mounted Secret (Kubernetes swaps
     * its {@code ..data} symlink on update, so the three files change together).
     */
    public static TlsFiles inDirectory(Path dir) {
        return new TlsFiles(dir.resolve(CERT), dir.resolve(KEY), dir.resolve(CA));
    }

    /**
     * The files from either a directory or three explicit paths, as command-line options give them; exactly
     * one of the two forms. Returns {@code null} when none is given.
     */
    public static TlsFiles fromOptions(Path dir, Path cert, Path key, Path ca, String optionNames) {
        int files = (cert != null ? 1 : 0) + (key != null ? 1 : 0) + (ca != null ? 1 : 0);
        if (dir != null && files > 0) {
            throw new IllegalArgumentException(optionNames + ": both a directory and files given (expected: "
                    + "a directory with tls.crt, tls.key and ca.crt, or the three files)");
        }
        if (dir != null) {
            return inDirectory(dir);
        }
        if (files == 0) {
            return null;
        }
        if (files != 3) {
            throw new IllegalArgumentException(optionNames + ": " + files + " of the certificate, key and CA files "
                    + "given (expected: all three)");
        }
        return of(cert, key, ca);
    }

    public Path certificateChain() {
        return certificateChain;
    }

    public Path privateKey() {
        return privateKey;
    }

    public Path trustedCa() {
        return trustedCa;
    }

    @Override
    public String toString() {
        return "certificate " + certificateChain + ", key " + privateKey + ", CA " + trustedCa;
    }
}
