package io.slipstream.worker;

import io.slipstream.common.HostPort;
import io.slipstream.proto.v1.Role;
import io.slipstream.worker.wanopt.PortForward;
import io.slipstream.worker.wanopt.TransparentListener;
import io.slipstream.worker.wanopt.WanOptimizer;
import java.nio.file.Path;
import java.util.List;

/**
 * The wanopt role: which connections it carries through the tunnel, and its chunk stores. Built by name:
 * {@link #defaults()} then the {@code with...} methods.
 *
 * @param forwards explicit mode: listeners carried through the tunnel to a peer site
 * @param transparent transparent mode: TPROXY listeners, each connection carried to its original destination
 *     through the tunnel to a peer site
 * @param steeredPort port of the steered listener gateways hand connections to (PROXY protocol v2 header first),
 *     0 for an ephemeral one, -1 for none
 * @param dataAdvertise the data endpoint to register when peers reach it through something in front of the
 *     worker (NAT, load balancer, a WAN emulator); empty: the advertise host and the bound data port
 * @param chunkStoreBytes chunk store per peer and direction
 * @param chunkStoreDir where the chunk stores are kept on disk (across restarts), or {@code null} to keep them
 *     on the heap (bounded then by a share of the heap, see {@code ChunkStoreBudget})
 */
public record WanOptRoleSettings(
        List<PortForward> forwards,
        List<TransparentListener> transparent,
        int steeredPort,
        String dataAdvertise,
        long chunkStoreBytes,
        Path chunkStoreDir) implements RoleSettings {

    public WanOptRoleSettings {
        forwards = List.copyOf(forwards);
        transparent = List.copyOf(transparent);
        if (steeredPort != -1) {
            WorkerSettings.checkPort("steered port", steeredPort);
        }
        dataAdvertise = dataAdvertise == null ? "" : dataAdvertise;
        if (!dataAdvertise.isEmpty()) {
            HostPort.parse(dataAdvertise);
        }
        if (chunkStoreBytes < (1 << 20)) {
            throw new IllegalArgumentException("chunk store: " + chunkStoreBytes + " bytes (expected: >= 1 MiB)");
        }
    }

    /** No listeners, no steered port, the bound data endpoint, chunk stores of the default size on the heap. */
    public static WanOptRoleSettings defaults() {
        return new WanOptRoleSettings(List.of(), List.of(), -1, "", WanOptimizer.DEFAULT_STORE_BYTES, null);
    }

    @Override
    public Role role() {
        return Role.ROLE_WANOPT;
    }

    @Override
    public DataPlane dataPlane(WorkerSettings worker) {
        return new WanOptDataPlane(worker, this);
    }

    public WanOptRoleSettings withForwards(List<PortForward> forwards) {
        return new WanOptRoleSettings(forwards, transparent, steeredPort, dataAdvertise, chunkStoreBytes, chunkStoreDir);
    }

    public WanOptRoleSettings withTransparent(List<TransparentListener> transparent) {
        return new WanOptRoleSettings(forwards, transparent, steeredPort, dataAdvertise, chunkStoreBytes, chunkStoreDir);
    }

    public WanOptRoleSettings withSteeredPort(int steeredPort) {
        return new WanOptRoleSettings(forwards, transparent, steeredPort, dataAdvertise, chunkStoreBytes, chunkStoreDir);
    }

    public WanOptRoleSettings withDataAdvertise(String dataAdvertise) {
        return new WanOptRoleSettings(forwards, transparent, steeredPort, dataAdvertise, chunkStoreBytes, chunkStoreDir);
    }

    /** Chunk stores of {@code bytes} per peer and direction, in {@code dir} or ({@code null}) on the heap. */
    public WanOptRoleSettings withChunkStore(long bytes, Path dir) {
        return new WanOptRoleSettings(forwards, transparent, steeredPort, dataAdvertise, bytes, dir);
    }
}
