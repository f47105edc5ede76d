package io.slipstream.controller.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link StateStore} on a real ZooKeeper (Curator's TestingServer). */
class StateStoreTest {

    /** Content must be a JSON object with a "v" field: stands in for a policy's validation. */
    private static final Consumer<String> VALID = json -> {
        if (!json.startsWith("{\"v\":")) {
            throw new IllegalArgumentException("expected {\"v\":...}, got " + json);
        }
    };

    private TestingServer zk;
    private CuratorFramework curator;
    private StateStore store;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        curator = ZooKeeperClients.newClient(zk.getConnectString(), 10_000);
        curator.start();
        curator.blockUntilConnected();
        store = new StateStore(curator, "policy", VALID, ZooDefs.Ids.OPEN_ACL_UNSAFE, java.time.Clock.systemUTC());
    }

    @AfterEach
    void stop() throws Exception {
        curator.close();
        zk.close();
    }

    @Test
    void adoptValues_emptyStore_valuesBecomeVersion1() throws Exception {
        StateRecord r = store.adoptValues("{\"v\":1}", "c1");
        assertThat(r.version()).isEqualTo(1);
        assertThat(r.source()).isEqualTo(StateRecord.VALUES);
        assertThat(r.valuesDigest()).isEqualTo(StateRecord.digestOf("{\"v\":1}"));
        assertThat(store.read()).get().extracting(StateRecord::content).isEqualTo("{\"v\":1}");
        assertThat(store.history()).extracting(StateRecord::version).containsExactly(1L);
    }

    @Test
    void write_currentVersion_newVersionWithAuditFields() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        StateRecord r = store.write(1, "{\"v\":2}", "alice", "10.0.0.7:5000");
        assertThat(r.version()).isEqualTo(2);
        assertThat(r.source()).isEqualTo(StateRecord.RUNTIME);
        assertThat(r.principal()).isEqualTo("alice");
        assertThat(r.from()).isEqualTo("10.0.0.7:5000");
        assertThat(r.etag()).isEqualTo("\"2\"");
        StateRecord read = store.read().orElseThrow();
        assertThat(read.version()).isEqualTo(2);
        assertThat(read.principal()).isEqualTo("alice");
        assertThat(read.digest()).isEqualTo(StateRecord.digestOf("{\"v\":2}"));
        assertThat(store.version(1)).get().extracting(StateRecord::content).isEqualTo("{\"v\":1}");
    }

    @Test
    void write_staleVersion_conflictWithCurrentAndNothingWritten() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        store.write(1, "{\"v\":2}", "alice", "a");
        assertThatThrownBy(() -> store.write(1, "{\"v\":3}", "bob", "b"))
                .isInstanceOfSatisfying(StateConflictException.class, e -> {
                    assertThat(e.current().version()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("version 1 is not the current one", "If-Match \"2\"");
                });
        assertThat(store.read().orElseThrow().content()).isEqualTo("{\"v\":2}");
        assertThat(store.history()).hasSize(2);
    }

    @Test
    void write_twoWritersSameVersion_exactlyOneWins() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        try (CuratorFramework other = ZooKeeperClients.newClient(zk.getConnectString(), 10_000)) {
            other.start();
            other.blockUntilConnected();
            StateStore second = new StateStore(other, "policy", VALID, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    java.time.Clock.systemUTC());
            store.write(1, "{\"v\":\"a\"}", "a", "a");
            assertThatThrownBy(() -> second.write(1, "{\"v\":\"b\"}", "b", "b"))
                    .isInstanceOf(StateConflictException.class);
        }
        assertThat(store.read().orElseThrow().content()).isEqualTo("{\"v\":\"a\"}");
    }

    @Test
    void write_invalidContent_refusedBeforeZooKeeper() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        assertThatThrownBy(() -> store.write(1, "[]", "a", "a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected {\"v\":...}");
        assertThat(store.read().orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void history_moreThan50Versions_keepsTheNewest50() throws Exception {
        store.adoptValues("{\"v\":0}", "c1");
        for (int i = 1; i <= 55; i++) {
            store.write(i, "{\"v\":" + i + "}", "a", "a");
        }
        List<StateRecord> history = store.history();
        assertThat(history).hasSize(StateStore.HISTORY);
        assertThat(history.get(0).version()).isEqualTo(56);
        assertThat(history.get(history.size() - 1).version()).isEqualTo(7);
        assertThat(store.version(6)).isEmpty();
        assertThat(curator.getChildren().forPath(FleetPaths.CONTROLLER_HISTORY_PATH + "/policy")).hasSize(50);
    }

    @Test
    void adoptValues_runtimeChangeOverSameValues_runtimeStaysInForce() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        store.write(1, "{\"v\":\"runtime\"}", "alice", "a");
        StateRecord r = store.adoptValues("{\"v\":1}", "c2");
        assertThat(r.version()).isEqualTo(2);
        assertThat(r.source()).isEqualTo(StateRecord.RUNTIME);
        assertThat(r.content()).isEqualTo("{\"v\":\"runtime\"}");
    }

    @Test
    void adoptValues_valuesChangedSinceRuntimeChange_valuesWinAsNewVersion() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        store.write(1, "{\"v\":\"runtime\"}", "alice", "a");
        StateRecord r = store.adoptValues("{\"v\":\"upgraded\"}", "c2");
        assertThat(r.version()).isEqualTo(3);
        assertThat(r.source()).isEqualTo(StateRecord.VALUES);
        assertThat(r.principal()).isEqualTo("controller");
        assertThat(r.content()).isEqualTo("{\"v\":\"upgraded\"}");
        // The runtime change is still in the history: a rollback to it is a PUT of its body.
        assertThat(store.version(2)).get().extracting(StateRecord::source).isEqualTo(StateRecord.RUNTIME);
        // A later runtime change is made over the new values, and survives the next start with them.
        store.write(3, "{\"v\":\"again\"}", "bob", "b");
        assertThat(store.adoptValues("{\"v\":\"upgraded\"}", "c3").content()).isEqualTo("{\"v\":\"again\"}");
    }

    @Test
    void adoptValues_corruptNode_clearErrorThenValuesUsedAsNewVersion() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        store.write(1, "{\"v\":2}", "a", "a");
        curator.setData().forPath(store.path(), "not json {".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> store.read()).isInstanceOf(CorruptStateException.class)
                .hasMessageContaining(store.path()).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> store.write(2, "{\"v\":3}", "a", "a")).isInstanceOf(StateUnavailableException.class)
                .hasMessageContaining("not JSON");
        StateRecord r = store.adoptValues("{\"v\":1}", "c2");
        assertThat(r.version()).as("above every kept version").isEqualTo(3);
        assertThat(r.source()).isEqualTo(StateRecord.VALUES);
        assertThat(store.read().orElseThrow().content()).isEqualTo("{\"v\":1}");
    }

    @Test
    void read_recordWithInvalidContent_corruptNamingThePath() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        String bad = "{\"version\":2,\"source\":\"runtime\",\"principal\":\"x\",\"at\":\"2026-01-01T00:00:00Z\","
                + "\"from\":\"x\",\"values_digest\":\"\",\"content\":\"[1]\"}";
        curator.setData().forPath(store.path(), bad.getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> store.read()).isInstanceOf(CorruptStateException.class)
                .hasMessageContaining("$.content is not a valid policy");
        String noVersion = bad.replace("\"version\":2,", "");
        curator.setData().forPath(store.path(), noVersion.getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> store.read()).hasMessageContaining("$.version");
        String badSource = bad.replace("runtime", "helm");
        curator.setData().forPath(store.path(), badSource.getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> store.read()).hasMessageContaining("$.source 'helm'");
    }

    @Test
    void write_zooKeeperDown_unavailableAndNothingWritten() throws Exception {
        store.adoptValues("{\"v\":1}", "c1");
        zk.stop();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> !curator.getZookeeperClient().isConnected());
        assertThatThrownBy(() -> store.write(1, "{\"v\":2}", "a", "a")).isInstanceOf(StateUnavailableException.class)
                .hasMessageContaining("ZooKeeper is not reachable").hasMessageContaining("nothing was written");
        zk.restart();
        curator.blockUntilConnected();
        assertThat(store.read().orElseThrow().version()).isEqualTo(1);
        assertThat(store.history()).hasSize(1);
    }

    /**
     * Writes back to back from three threads while ZooKeeper is stopped: the writes cut off fail within seconds
     * (one attempt, not Curator's minute of retries), and afterwards ZooKeeper holds every acknowledged version and
     * nothing of a write told "nothing was written".
     */
    @Test
    void write_zooKeeperStoppedDuringWrites_answeredWithinSecondsAndNothingHalfWritten() throws Exception {
        store.adoptValues("{\"v\":0}", "c1");
        java.util.Map<String, String> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.List<Double> seconds = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        java.util.List<Thread> writers = new java.util.ArrayList<>();
        for (int w = 0; w < 3; w++) {
            String prefix = "w" + w + "-";
            Thread writer = new Thread(() -> {
                for (int n = 0; !stop.get(); n++) {
                    String content = "{\"v\":\"" + prefix + n + "\"}";
                    long started = System.nanoTime();
                    try {
                        long current = store.read().orElseThrow().version();
                        outcomes.put(content, "ok " + store.write(current, content, "a", "a").version());
                        written.incrementAndGet();
                    } catch (StateConflictException e) {
                        outcomes.put(content, "conflict");
                    } catch (StateUnavailableException e) {
                        outcomes.put(content, e.getMessage());
                    }
                    seconds.add((System.nanoTime() - started) / 1e9);
                }
            });
            writer.start();
            writers.add(writer);
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> written.get() >= 10);
        zk.stop();
        org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ofSeconds(6)).until(() -> true);
        zk.restart();
        stop.set(true);
        for (Thread t : writers) {
            t.join(10_000);
        }
        curator.blockUntilConnected();

        assertThat(seconds).as("time of each read and write").allMatch(s -> s < 5);
        java.util.Map<Long, String> stored = new java.util.TreeMap<>();
        for (StateRecord r : store.history()) {
            stored.put(r.version(), r.content());
        }
        outcomes.forEach((content, outcome) -> {
            if (outcome.startsWith("ok ")) {
                assertThat(stored.get(Long.parseLong(outcome.substring(3)))).as(content).isEqualTo(content);
            } else if (outcome.contains("nothing was written")) {
                assertThat(outcome).contains("ZooKeeper");
                assertThat(stored).as(content + ": " + outcome).doesNotContainValue(content);
            } else if (!outcome.equals("conflict")) {
                assertThat(outcome).contains("ZooKeeper").contains("the outcome is unknown");
            }
        });
        assertThat(outcomes.values()).anyMatch(o -> o.contains("ZooKeeper"));
        assertThat(store.read().orElseThrow().version()).isEqualTo(stored.size());
    }

    @Test
    void nodes_withCredentials_noReadForEveryone() throws Exception {
        ZooKeeperAuth auth = ZooKeeperAuth.parse("user=fleet\npassword=fleet-secret-0123\n");
        try (CuratorFramework fleet = ZooKeeperClients.newClient(zk.getConnectString(), 10_000, auth)) {
            fleet.start();
            fleet.blockUntilConnected();
            List<ACL> acl = new java.util.ArrayList<>(auth.acl());
            acl.removeIf(a -> a.getId().equals(ZooDefs.Ids.ANYONE_ID_UNSAFE));
            StateStore secured = new StateStore(fleet, "policy", VALID, acl, java.time.Clock.systemUTC());
            secured.adoptValues("{\"v\":1}", "c1");
            assertThatThrownBy(() -> curator.getData().forPath(secured.path()))
                    .isInstanceOf(org.apache.zookeeper.KeeperException.NoAuthException.class);
            assertThat(fleet.getACL().forPath(secured.path())).noneMatch(a -> a.getId().equals(ZooDefs.Ids.ANYONE_ID_UNSAFE));
        }
    }

    @Test
    void constructor_badKind_says() {
        assertThatThrownBy(() -> new StateStore(curator, "Policy/x", VALID, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                java.time.Clock.systemUTC())).hasMessageContaining("expected: [a-z][a-z0-9-]*");
    }
}
