package io.slipstream.e2e.kubernetes;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension sharing one {@link KubernetesControlPlane} among the tests of a class:
 * {@code @RegisterExtension static final KubernetesCluster k8s = new KubernetesCluster();}.
 *
 * <p>It starts before the first test (not in a class-level callback) so that, when the binaries cannot be
 * built here, every test is reported as skipped with the reason, rather than the class running no test.
 */
public final class KubernetesCluster implements BeforeEachCallback, AfterAllCallback {

    private KubernetesControlPlane plane;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (plane == null) {
            plane = KubernetesControlPlane.start();
        }
    }

    /** The running control plane (from the first test's start on). */
    public KubernetesControlPlane plane() {
        if (plane == null) {
            throw new IllegalStateException("the control plane starts before each test; not available yet");
        }
        return plane;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (plane != null) {
            plane.close();
            plane = null;
        }
    }
}
