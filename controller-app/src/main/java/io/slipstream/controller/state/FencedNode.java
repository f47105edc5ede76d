package io.slipstream.controller.state;

import io.slipstream.contract.FleetPaths;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;

/**
 * One JSON document of the leader's scaling intent at {@code FleetPaths.CONTROLLER_SCALING_PATH/<name>} (issue
 * 23), written only by the leader: every write is one ZooKeeper transaction that also checks this controller's
 * leader-election node still exists ({@link Leadership#fence()}). A controller that was deposed (its session
 * expired, its node gone) therefore cannot overwrite what the new leader wrote, even if it has not heard yet that
 * it lost. Nodes are created with the given ACLs. Thread-safe; blocking calls, not for event threads.
 */
public final class FencedNode {

    private final CuratorFramework curator;
    private final String path;
    private final List<ACL> acl;
    private final Supplier<String> fence;

    /**
     * @param name the document's name, a path segment ({@code intent}, {@code local-workers})
     * @param fence this controller's leader-election node, or {@code null} when it holds none (then every write
     *     is refused)
     */
    public FencedNode(CuratorFramework curator, String name, List<ACL> acl, Supplier<String> fence) {
        if (name == null || !name.matches("[a-z][a-z0-9-]{0,40}")) {
            throw new IllegalArgumentException("scaling document name: '" + name + "' (expected: [a-z][a-z0-9-]*)");
        }
        this.curator = Objects.requireNonNull(curator, "curator");
        this.path = FleetPaths.CONTROLLER_SCALING_PATH + "/" + name;
        this.acl = List.copyOf(acl);
        this.fence = Objects.requireNonNull(fence, "fence");
    }

    public String path() {
        return path;
    }

    /** The document, or empty when none was written yet. */
    public Optional<String> read() throws StateUnavailableException {
        requireConnected("read");
        try {
            return Optional.of(new String(curator.getData().forPath(path), StandardCharsets.UTF_8));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw unavailable("read", e);
        }
    }

    /**
     * Replaces the document, only while this controller's election node exists.
     *
     * @throws FencedException when this controller holds no election node (it does not lead): nothing
     *     was written
     * @throws StateUnavailableException when ZooKeeper cannot be reached (the outcome of a write cut off by a
     *     connection loss is unknown: applied completely or not at all)
     */
    public void write(String json) throws FencedException, StateUnavailableException {
        Objects.requireNonNull(json, "json");
        String ours = fence.get();
        if (ours == null) {
            throw notLeading("this controller holds no leader-election node");
        }
        requireConnected("write");
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        try {
            if (curator.checkExists().forPath(FleetPaths.CONTROLLER_SCALING_PATH) == null) {
                try {
                    curator.create().creatingParentsIfNeeded().withACL(acl).forPath(FleetPaths.CONTROLLER_SCALING_PATH);
                } catch (KeeperException.NodeExistsException e) {
                    // created by another controller meanwhile
                }
            }
            boolean exists = curator.checkExists().forPath(path) != null;
            CuratorOp check = curator.transactionOp().check().forPath(ours);
            CuratorOp put = exists ? curator.transactionOp().setData().forPath(path, bytes)
                    : curator.transactionOp().create().withACL(acl).forPath(path, bytes);
            curator.transaction().forOperations(List.of(check, put));
        } catch (KeeperException.NoNodeException e) {
            throw notLeading("its leader-election node " + ours + " is gone");
        } catch (KeeperException.NodeExistsException e) {
            // Created by another writer between the check and the create: only a leader writes, so that one was
            // this controller's own earlier attempt whose answer was lost; write again over it.
            write(json);
        } catch (Exception e) {
            throw unavailable("write", e);
        }
    }

    private FencedException notLeading(String why) {
        return new FencedException(path + ": not written: " + why + " (expected: written by the leader only)");
    }

    private void requireConnected(String what) throws StateUnavailableException {
        if (!curator.getZookeeperClient().isConnected()) {
            throw new StateUnavailableException("ZooKeeper is not reachable: cannot " + what + " " + path, null);
        }
    }

    private StateUnavailableException unavailable(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        return new StateUnavailableException("ZooKeeper failed: cannot " + what + " " + path + ": " + e, e);
    }
}
