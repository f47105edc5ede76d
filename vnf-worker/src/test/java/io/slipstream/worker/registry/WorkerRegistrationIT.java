package io.slipstream.worker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import io.slipstream.contract.WorkerRecord;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Registration against a real ZooKeeper server (Curator's TestingServer), one per test. */
class WorkerRegistrationIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private final WorkerRecord record = new WorkerRecord("w1", "wanopt", "a", "127.0.0.1:9000", "127.0.0.1:7000",
            "127.0.0.1:9100", 125_000_000L, List.of("zstd"), "test");
    private TestingServer zk;
    private CuratorFramework workerClient;
    private CuratorFramework observer;
    private WorkerRegistration registration;
    private final AtomicInteger announced = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        workerClient = ZooKeeperClients.newClient(zk.getConnectString(), 4000);
        workerClient.start();
        observer = ZooKeeperClients.newClient(zk.getConnectString(), 10_000);
        observer.start();
        registration = new WorkerRegistration(workerClient, record, announced::incrementAndGet, 200).start();
    }

    @AfterEach
    void stop() throws Exception {
        registration.close();
        workerClient.close();
        observer.close();
        zk.close();
    }

    private Stat stat() throws Exception {
        return observer.checkExists().forPath(FleetPaths.instancePath("w1"));
    }

    private long workerSession() throws Exception {
        return workerClient.getZookeeperClient().getZooKeeper().getSessionId();
    }

    @Test
    void register_appearsAsEphemeralWithJsonPayload() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        assertThat(registration.path()).isEqualTo(FleetPaths.instancePath("w1"));
        assertThat(stat().getEphemeralOwner()).isEqualTo(workerSession());
        byte[] json = observer.getData().forPath(registration.path());
        var node = new ObjectMapper().readTree(json);
        assertThat(node.path("id").asText()).isEqualTo("w1");
        assertThat(node.path("name").asText()).isEqualTo(FleetPaths.WORKER_SERVICE);
        WorkerRecord payload = new ObjectMapper().treeToValue(node.path("payload"), WorkerRecord.class);
        assertThat(payload).isEqualTo(record);
        await().atMost(WAIT).until(() -> announced.get() == 1);
    }

    @Test
    void close_removesRegistration() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        registration.close();
        assertThat(stat()).isNull();
    }

    @Test
    void unregister_staysUnregisteredAcrossVerifications() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        registration.unregister();
        assertThat(stat()).isNull();
        // It stays gone through several verification rounds (every 200 ms).
        await().during(Duration.ofMillis(800)).atMost(WAIT).until(() -> stat() == null);
    }

    @Test
    void sessionExpiry_registersAgainUnderNewSession() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        long before = workerSession();
        workerClient.getZookeeperClient().getZooKeeper().getTestable().injectSessionExpiration();
        await().atMost(WAIT).until(() -> {
            Stat s = stat();
            return s != null && s.getEphemeralOwner() != before && s.getEphemeralOwner() == workerSession();
        });
        assertThat(registration.registeredSession()).isEqualTo(workerSession());
        assertThat(announced.get()).isEqualTo(1);
    }

    @Test
    void zooKeeperRestart_registrationComesBack() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        zk.stop();
        zk.restart();
        await().atMost(WAIT).until(() -> {
            Stat s = stat();
            return s != null && s.getEphemeralOwner() == workerSession();
        });
    }

    @Test
    void staleNodeOfAnotherSession_doesNotBlockRegistration() throws Exception {
        await().atMost(WAIT).until(() -> stat() != null);
        registration.unregister();
        // Another session (say, this worker's previous life) still holds the node.
        observer.create().creatingParentContainersIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath(FleetPaths.instancePath("w1"), "{}".getBytes());
        WorkerRegistration again = new WorkerRegistration(workerClient, record, () -> { }, 200).start();
        try {
            await().atMost(WAIT).until(() -> {
                Stat s = stat();
                return s != null && s.getEphemeralOwner() == workerSession();
            });
        } finally {
            again.close();
        }
    }
}
