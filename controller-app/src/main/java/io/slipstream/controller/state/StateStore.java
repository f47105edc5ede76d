package io.slipstream.controller.state;

import io.slipstream.contract.FleetPaths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Versioned records of one kind of controller state in ZooKeeper: the current one at
 * {@code FleetPaths.CONTROLLER_STATE_PATH/<kind>}, and every version (the newest {@link #HISTORY} kept) under
 * {@code FleetPaths.CONTROLLER_HISTORY_PATH/<kind>/v-<version>}.
 *
 * <p>A write is one ZooKeeper transaction: the current node replaced at the ZooKeeper version it was read
 * at (compare-and-set), the history node created, the oldest history nodes deleted; it is applied
 * completely or not at all. Nodes are created with the given ACLs (the fleet's digest identities; see
 * docs/security.md). Thread-safe; blocking calls, not for event threads.
 *
 * <p>Reads and writes fail fast when ZooKeeper goes away: each is one call on the session's ZooKeeper handle, not
 * retried through Curator's retry loop (which would hold an operator's request, and the HTTP thread serving it, for
 * up to a minute, and could even make a write it gave up on land after ZooKeeper came back). A call cut off by a lost
 * connection fails at once, or within the client's read timeout (two thirds of the session timeout) when ZooKeeper
 * stops answering without closing the connection.
 */
public final class StateStore {

    /** How many versions the history keeps. */
    public static final int HISTORY = 50;

    private static final Logger log = LoggerFactory.getLogger(StateStore.class);

    private final CuratorFramework curator;
    private final String kind;
    private final Consumer<String> validator;
    private final List<ACL> acl;
    private final Clock clock;
    private final String node;
    private final String historyDir;

    /**
     * @param kind the name of the state, e.g. {@code policy} (a path segment)
     * @param validator throws {@link IllegalArgumentException} for content this kind refuses
     * @param acl ACLs of the nodes written
     */
    public StateStore(CuratorFramework curator, String kind, Consumer<String> validator, List<ACL> acl, Clock clock) {
        if (kind == null || !kind.matches("[a-z][a-z0-9-]{0,40}")) {
            throw new IllegalArgumentException("state kind: '" + kind + "' (expected: [a-z][a-z0-9-]*)");
        }
        this.curator = Objects.requireNonNull(curator, "curator");
        this.kind = kind;
        this.validator = Objects.requireNonNull(validator, "validator");
        this.acl = List.copyOf(acl);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.node = FleetPaths.CONTROLLER_STATE_PATH + "/" + kind;
        this.historyDir = FleetPaths.CONTROLLER_HISTORY_PATH + "/" + kind;
    }

    public String kind() {
        return kind;
    }

    /** The path of the current record. */
    public String path() {
        return node;
    }

    /** The record with its ZooKeeper stat, or empty when there is none yet. */
    private static final class Current {
        final StateRecord record;
        final Stat stat;
        final CorruptStateException corrupt;

        Current(StateRecord record, Stat stat, CorruptStateException corrupt) {
            this.record = record;
            this.stat = stat;
            this.corrupt = corrupt;
        }
    }

    /**
     * The current record, or empty before the first write.
     *
     * @throws CorruptStateException when the stored node is not a record of this kind
     */
    public Optional<StateRecord> read() throws StateUnavailableException {
        Current c = current();
        if (c == null) {
            return Optional.empty();
        }
        if (c.corrupt != null) {
            throw c.corrupt;
        }
        return Optional.of(c.record);
    }

    private Current current() throws StateUnavailableException {
        requireConnected("read");
        Stat stat = new Stat();
        byte[] bytes;
        try {
            bytes = zooKeeper().getData(node, false, stat);
        } catch (KeeperException.NoNodeException e) {
            return null;
        } catch (Exception e) {
            throw unavailable("read", e);
        }
        try {
            StateRecord record = StateRecord.parse(node, bytes);
            validate(record.content());
            return new Current(record, stat, null);
        } catch (CorruptStateException e) {
            return new Current(null, stat, e);
        }
    }

    private void validate(String content) {
        try {
            validator.accept(content);
        } catch (IllegalArgumentException e) {
            throw new CorruptStateException(node + ": $.content is not a valid " + kind + ": " + e.getMessage());
        }
    }

    /**
     * Writes {@code content} as the version after {@code expectedVersion}, which must be the current one (0:
     * none yet).
     *
     * @throws IllegalArgumentException when the content is not valid for this kind
     * @throws StateConflictException when another version is current (the caller's is stale)
     * @throws StateUnavailableException when ZooKeeper cannot be reached; nothing was written, unless the
     *     message says the outcome is unknown (then it was written completely or not at all)
     */
    public StateRecord write(long expectedVersion, String content, String principal, String from)
            throws StateConflictException, StateUnavailableException {
        validator.accept(content);
        Current c = current();
        long currentVersion = c == null ? 0 : c.record == null ? -1 : c.record.version();
        if (c != null && c.record == null) {
            // A corrupt node is replaced only at start (adoptValues): refuse rather than guess its version.
            throw new StateUnavailableException(c.corrupt.getMessage() + " (the controller replaces it with its "
                    + "values when it starts)", c.corrupt);
        }
        if (currentVersion != expectedVersion) {
            if (c == null) {
                throw new StateConflictException(kind, expectedVersion, none());
            }
            throw new StateConflictException(kind, expectedVersion, c.record);
        }
        String valuesDigest = c == null ? "" : c.record.valuesDigest();
        StateRecord next = new StateRecord(expectedVersion + 1, StateRecord.RUNTIME, principal, clock.instant(), from,
                valuesDigest, content);
        return commit(c, next);
    }

    private StateRecord none() {
        return new StateRecord(0, StateRecord.VALUES, "", clock.instant(), "", "", "");
    }

    /**
     * At start: makes the record agree with the controller's values. With no record yet, or one written over
     * other values (a different {@code digest(values)}), or a corrupt one (logged with what is wrong), the values
     * become a new version with source {@value StateRecord#VALUES}; otherwise the stored record (a runtime change
     * made over these same values) stays in force.
     *
     * @return the record in force
     */
    public StateRecord adoptValues(String values, String from) throws StateUnavailableException {
        validator.accept(values);
        String valuesDigest = StateRecord.digestOf(values);
        for (int attempt = 0; attempt < 5; attempt++) {
            Current c = current();
            long next;
            if (c == null) {
                next = 1;
            } else if (c.record == null) {
                log.error("controller state {} is unreadable: {}; the start-up values are used and become a new "
                        + "version", node, c.corrupt.getMessage());
                next = highestHistoryVersion() + 1;
            } else if (!c.record.valuesDigest().equals(valuesDigest)) {
                log.info("controller state {}: the start-up values changed since {} was written; they win and become "
                        + "version {}", node, c.record, c.record.version() + 1);
                next = c.record.version() + 1;
            } else {
                if (StateRecord.RUNTIME.equals(c.record.source())) {
                    log.info("controller state {}: runtime change {} is in force over the start-up values (the same "
                            + "values it was made over)", node, c.record);
                }
                return c.record;
            }
            try {
                return commit(c, new StateRecord(next, StateRecord.VALUES, "controller", clock.instant(), from,
                        valuesDigest, values));
            } catch (StateConflictException e) {
                log.info("controller state {} changed meanwhile (another controller starting); reading it again", node);
            }
        }
        throw new StateUnavailableException(node + ": kept changing while the start-up values were compared with it",
                null);
    }

    private long highestHistoryVersion() throws StateUnavailableException {
        long max = 0;
        for (String child : historyChildren()) {
            max = Math.max(max, versionOf(child));
        }
        return max;
    }

    private List<String> historyChildren() throws StateUnavailableException {
        try {
            List<String> children = new ArrayList<>(zooKeeper().getChildren(historyDir, false));
            children.removeIf(name -> versionOf(name) < 0);
            children.sort(null);
            return children;
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        } catch (Exception e) {
            throw unavailable("read the history of", e);
        }
    }

    private static long versionOf(String child) {
        if (!child.matches("v-\\d{10}")) {
            return -1;
        }
        return Long.parseLong(child.substring(2));
    }

    private static String name(long version) {
        return String.format(java.util.Locale.ROOT, "v-%010d", version);
    }

    private StateRecord commit(Current c, StateRecord next) throws StateConflictException, StateUnavailableException {
        ensureParents();
        List<String> history = historyChildren();
        List<Op> ops = new ArrayList<>();
        byte[] bytes = next.toBytes();
        if (c == null) {
            ops.add(Op.create(node, bytes, acl, CreateMode.PERSISTENT));
        } else {
            ops.add(Op.setData(node, bytes, c.stat.getVersion()));
        }
        String historyNode = historyDir + "/" + name(next.version());
        if (history.contains(name(next.version()))) {
            // Left by a record that was lost (a corrupt node replaced): the newer write wins.
            ops.add(Op.delete(historyNode, -1));
            history.remove(name(next.version()));
        }
        ops.add(Op.create(historyNode, bytes, acl, CreateMode.PERSISTENT));
        for (int i = 0; i < history.size() - (HISTORY - 1); i++) {
            ops.add(Op.delete(historyDir + "/" + history.get(i), -1));
        }
        requireConnected("write");
        try {
            // Not retried: after a connection loss the outcome is settled (the transaction was applied before it, or
            // never will be), and a retry could only make a write the caller was told failed land later.
            zooKeeper().multi(ops);
        } catch (KeeperException.BadVersionException | KeeperException.NodeExistsException e) {
            Current now = current();
            throw new StateConflictException(kind, next.version() - 1, now == null || now.record == null ? none()
                    : now.record);
        } catch (KeeperException.NoNodeException e) {
            // A history node trimmed by a concurrent writer: that writer won.
            Current now = current();
            throw new StateConflictException(kind, next.version() - 1, now == null || now.record == null ? none()
                    : now.record);
        } catch (KeeperException.ConnectionLossException | KeeperException.OperationTimeoutException
                 | KeeperException.SessionExpiredException e) {
            throw new StateUnavailableException("ZooKeeper connection lost while writing " + kind + " version "
                    + next.version() + ": the outcome is unknown (a write is applied completely or not at all; "
                    + "GET it again to see which version is in force)", e);
        } catch (Exception e) {
            throw unavailable("write", e);
        }
        log.info("controller state {}: version {} written", node, next);
        return next;
    }

    private void ensureParents() throws StateUnavailableException {
        for (String dir : new String[] {FleetPaths.CONTROLLER_STATE_PATH, historyDir}) {
            try {
                // Curator (with its retries) only for the first write ever, when the parents are made.
                if (zooKeeper().exists(dir, false) == null) {
                    curator.create().creatingParentsIfNeeded().withACL(acl).forPath(dir);
                }
            } catch (KeeperException.NodeExistsException e) {
                // created by another controller meanwhile
            } catch (Exception e) {
                throw unavailable("find or create the parents of", e);
            }
        }
    }

    /** The newest versions first, at most {@link #HISTORY}; records that cannot be read are left out (logged). */
    public List<StateRecord> history() throws StateUnavailableException {
        List<String> children = historyChildren();
        List<StateRecord> records = new ArrayList<>();
        for (int i = children.size() - 1; i >= 0; i--) {
            version(versionOf(children.get(i))).ifPresent(records::add);
        }
        return records;
    }

    /** One version from the history, or empty when it is not (or no longer) kept. */
    public Optional<StateRecord> version(long version) throws StateUnavailableException {
        requireConnected("read the history of");
        String path = historyDir + "/" + name(version);
        try {
            return Optional.of(StateRecord.parse(path, zooKeeper().getData(path, false, null)));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (CorruptStateException e) {
            log.warn("controller state history: {}", e.getMessage());
            return Optional.empty();
        } catch (Exception e) {
            throw unavailable("read the history of", e);
        }
    }

    private void requireConnected(String what) throws StateUnavailableException {
        if (!curator.getZookeeperClient().isConnected()) {
            throw new StateUnavailableException("ZooKeeper is not reachable: cannot " + what + " the controller's "
                    + kind + " (" + node + "); nothing was written, try again when it is back", null);
        }
    }

    /** The session's ZooKeeper handle: one call on it is one attempt, no retries. */
    private ZooKeeper zooKeeper() throws Exception {
        return curator.getZookeeperClient().getZooKeeper();
    }

    /** Nothing was written: a read, or a step before the write's transaction, failed. */
    private StateUnavailableException unavailable(String what, Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof KeeperException.ConnectionLossException || e instanceof KeeperException.SessionExpiredException
                || e instanceof KeeperException.OperationTimeoutException
                || e instanceof KeeperException.SessionMovedException) {
            return new StateUnavailableException("ZooKeeper is not reachable (" + e.getMessage() + "): cannot " + what
                    + " the controller's " + kind + " (" + node + "); nothing was written, try again when it is back", e);
        }
        return new StateUnavailableException("ZooKeeper failed: cannot " + what + " the controller's " + kind + " ("
                + node + "): " + e + "; nothing was written", e);
    }
}
