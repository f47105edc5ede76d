package io.slipstream.controller.state;

import io.slipstream.contract.FleetPaths;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One leader among the standalone controllers: a Curator {@link LeaderLatch} at
 * {@link FleetPaths#CONTROLLER_LEADER_PATH}, the participant id {@code <name> <http url>} so every controller
 * can say who leads and where its API is.
 *
 * <p>Fencing: Curator's default connection-state policy treats SUSPENDED (the connection to ZooKeeper lost,
 * the session perhaps still alive) as losing leadership, so a leader cut off from ZooKeeper hears
 * {@link Gate#leading(boolean) leading(false)} at once, before its session can expire and another controller
 * be elected. Gates are called in order on one thread, and each must have taken effect when it returns.
 */
public final class Leadership implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    /** Something only the leader may do (push configurations, scale). */
    @FunctionalInterface
    public interface Gate {
        /** Called when this controller gains or loses leadership; must have taken effect when it returns. */
        void leading(boolean leading);
    }

    /** Who leads, as far as this controller knows. */
    public static final class Leader {
        private final boolean self;
        private final String name;
        private final String url;

        public Leader(boolean self, String name, String url) {
            this.self = self;
            this.name = name;
            this.url = url;
        }

        /** This controller leads. */
        public boolean self() {
            return self;
        }

        public String name() {
            return name;
        }

        /** Where the leader's HTTP API is, e.g. {@code http://10.0.0.5:8080}. */
        public String url() {
            return url;
        }

        @Override
        public String toString() {
            return name + " at " + url;
        }
    }

    private final String id;
    private final CuratorFramework curator;
    private final LeaderLatch latch;
    private final List<Gate> gates = new CopyOnWriteArrayList<>();
    private final ExecutorService events;
    private volatile boolean leading;

    /**
     * @param name this controller's name (e.g. the pod's)
     * @param url where its HTTP API is reached by clients, e.g. {@code http://10.0.0.5:8080}
     */
    public Leadership(CuratorFramework curator, String name, String url) {
        if (name == null || name.isBlank() || name.contains(" ")) {
            throw new IllegalArgumentException("controller name: '" + name + "' (expected: non-empty, no spaces)");
        }
        if (url == null || !url.matches("https?://\\S+")) {
            throw new IllegalArgumentException("controller url: '" + url + "' (expected: http://host:port)");
        }
        this.id = name + " " + url;
        this.curator = curator;
        this.latch = new LeaderLatch(Objects.requireNonNull(curator, "curator"), FleetPaths.CONTROLLER_LEADER_PATH, id);
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "leadership");
            t.setDaemon(true);
            return t;
        });
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                set(true);
            }

            @Override
            public void notLeader() {
                set(false);
            }
        }, events);
    }

    /** Adds a gate (before {@link #start()}); gates hear changes in the order they were added. */
    public Leadership gate(Gate gate) {
        gates.add(gate);
        return this;
    }

    /** Joins the election. */
    public Leadership start() throws Exception {
        latch.start();
        return this;
    }

    private void set(boolean now) {
        if (now == leading) {
            return;
        }
        if (!now) {
            // Deposed: stop first, say so after.
            leading = false;
        }
        for (Gate gate : gates) {
            try {
                gate.leading(now);
            } catch (RuntimeException e) {
                log.error("leadership gate failed", e);
            }
        }
        leading = now;
        log.info(now ? "this controller ({}) leads: it plans, pushes configurations and scales"
                : "this controller ({}) no longer leads: it serves reads and redirects writes", id);
    }

    /** True while this controller leads and every gate has heard it. */
    public boolean leading() {
        return leading;
    }

    /**
     * This controller's leader-election node while it leads, else {@code null}: a write made in one transaction with
     * a check that this node exists is made by the leader only (a deposed leader's node is gone with its session,
     * and the node of a later leader is always younger). See {@link FencedNode}.
     */
    public String fence() {
        // The latch's own flag, not this class's: gates that take over (and write) run before that one is set.
        if (!latch.hasLeadership()) {
            return null;
        }
        String ours = latch.getOurPath();
        return ours == null || ours.isEmpty() ? null : ours;
    }

    /** This controller's participant id. */
    public String id() {
        return id;
    }

    /** Who leads, or {@code null} when no leader is known (an election in progress, ZooKeeper away). */
    public Leader leader() {
        if (leading) {
            return parse(id, true);
        }
        if (!curator.getZookeeperClient().isConnected()) {
            return null;
        }
        try {
            Participant p = latch.getLeader();
            if (p == null || !p.isLeader() || p.getId().isEmpty()) {
                return null;
            }
            return parse(p.getId(), p.getId().equals(id));
        } catch (Exception e) {
            return null;
        }
    }

    private static Leader parse(String participant, boolean self) {
        int space = participant.indexOf(' ');
        return space < 0 ? new Leader(self, participant, "") : new Leader(self, participant.substring(0, space),
                participant.substring(space + 1));
    }

    @Override
    public void close() throws IOException {
        try {
            latch.close(LeaderLatch.CloseMode.NOTIFY_LEADER);
        } catch (IllegalStateException e) {
            // never started
        }
        events.shutdown();
        try {
            events.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
