package io.slipstream.e2e.kubernetes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the Kubernetes 1.20 binaries the tests run, building them once with
 * {@code e2e/k8s/build-kubernetes.sh} when the cache outside the repository does not hold them yet
 * (about 6 minutes on two cores; {@code bin/test} does this before Maven starts). Tests are skipped,
 * with the script's reason, only when the binaries cannot be built here (not root, no network);
 * a build that fails is a test failure.
 */
public final class KubernetesBinaries {

    public static final String VERSION = "1.20.2";
    private static final long BUILD_TIMEOUT_MINUTES = 30;
    private static final int CANNOT_BUILD_HERE = 2;

    private static Path cached;
    private static String unavailable;

    private KubernetesBinaries() {
    }

    /** The directory holding kube-apiserver, kube-controller-manager, kube-scheduler and kubelet. */
    public static synchronized Path directory() throws IOException, InterruptedException {
        if (cached != null) {
            return cached;
        }
        if (unavailable != null) {
            Assumptions.abort(unavailable);
        }
        Path script = repositoryRoot().resolve("e2e/k8s/build-kubernetes.sh");
        Path log = Files.createTempFile("slipstream-build-kubernetes", ".log");
        Path out = Files.createTempFile("slipstream-build-kubernetes", ".out");
        try {
            Process p = new ProcessBuilder("bash", script.toString())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(log.toFile())
                    .start();
            if (!p.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(script + " did not finish within " + BUILD_TIMEOUT_MINUTES
                        + " minutes; its log: " + tail(log));
            }
            if (p.exitValue() == CANNOT_BUILD_HERE) {
                unavailable = "Kubernetes " + VERSION + " binaries cannot be built on this machine, so the "
                        + "tests that need a real API server are skipped: " + tail(log);
                System.err.println("WARNING: " + unavailable);
                Assumptions.abort(unavailable);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(script + " failed (exit " + p.exitValue() + "): " + tail(log));
            }
            String[] lines = Files.readString(out, StandardCharsets.UTF_8).trim().split("\n");
            Path dir = Path.of(lines[lines.length - 1].trim());
            for (String binary : List.of("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")) {
                if (!Files.isExecutable(dir.resolve(binary))) {
                    throw new IllegalStateException(script + " reported " + dir + " but " + binary + " is not there");
                }
            }
            cached = dir;
            return dir;
        } finally {
            Files.deleteIfExists(log);
            Files.deleteIfExists(out);
        }
    }

    /** The etcd server from Debian's etcd-server package (the build script installs it). */
    public static Path etcd() {
        Path etcd = Path.of("/usr/bin/etcd");
        if (!Files.isExecutable(etcd)) {
            throw new IllegalStateException(etcd + " is missing (expected: Debian package etcd-server, which "
                    + "e2e/k8s/build-kubernetes.sh installs)");
        }
        return etcd;
    }

    /** The checkout's root: the nearest directory above the working directory holding the build script. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("e2e/k8s/build-kubernetes.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("no e2e/k8s/build-kubernetes.sh above " + dir);
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    }
}
