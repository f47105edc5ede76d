package io.slipstream.worker.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import io.slipstream.contract.WorkerRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ZooKeeper digest authentication and ACLs on a real server: a registration made with the fleet's
 * credentials can be read by anyone but changed, deleted or joined only by fleet members.
 */
class RegistrationAclIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ZooKeeperAuth FLEET = ZooKeeperAuth.parse("user=fleet\npassword=fleet-secret-0123\n");
    private final WorkerRecord record = new WorkerRecord("w1", "wanopt", "a", "127.0.0.1:9000", "127.0.0.1:7000",
            "127.0.0.1:9100", 125_000_000L, List.of("zstd"), "test");
    private TestingServer zk;
    private CuratorFramework worker;
    private CuratorFramework anonymous;
    private CuratorFramework wrong;
    private CuratorFramework member;
    private WorkerRegistration registration;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        worker = started(FLEET);
        anonymous = started(ZooKeeperAuth.none());
        wrong = started(ZooKeeperAuth.parse("fleet:not-the-fleet-secret"));
        member = started(ZooKeeperAuth.parse("fleet:fleet-secret-0123"));
        registration = new WorkerRegistration(worker, record, () -> { }, 200).start();
        await().atMost(WAIT).until(() -> anonymous.checkExists().forPath(FleetPaths.instancePath("w1")) != null);
    }

    private CuratorFramework started(ZooKeeperAuth auth) {
        CuratorFramework c = ZooKeeperClients.newClient(zk.getConnectString(), 10_000, auth);
        c.start();
        return c;
    }

    @AfterEach
    void stop() throws Exception {
        registration.close();
        for (CuratorFramework c : new CuratorFramework[] {worker, anonymous, wrong, member}) {
            c.close();
        }
        zk.close();
    }

    @Test
    void registration_andItsParents_carryCreatorAllAndWorldReadOnly() throws Exception {
        for (String path : new String[] {"/slipstream", FleetPaths.DISCOVERY_BASE_PATH,
                FleetPaths.DISCOVERY_BASE_PATH + "/" + FleetPaths.WORKER_SERVICE, FleetPaths.instancePath("w1")}) {
            // ZooKeeper masks digests to "user:x" for readers without ADMIN; a member sees them.
            List<ACL> acl = member.getACL().forPath(path);
            assertThat(acl).as(path).containsExactlyInAnyOrder(
                    new ACL(ZooDefs.Perms.ALL, new org.apache.zookeeper.data.Id("digest",
                            ZooKeeperAuth.digestOf("fleet:fleet-secret-0123"))),
                    new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        }
    }

    @Test
    void clientsWithoutOrWithWrongCredentials_cannotDeleteChangeOrAddRegistrations() throws Exception {
        String path = FleetPaths.instancePath("w1");
        for (CuratorFramework outsider : new CuratorFramework[] {anonymous, wrong}) {
            assertThat(outsider.getData().forPath(path)).as("registrations are readable").isNotEmpty();
            assertThatThrownBy(() -> outsider.delete().forPath(path)).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> outsider.setData().forPath(path, "{}".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> outsider.create().withMode(CreateMode.EPHEMERAL)
                    .forPath(FleetPaths.instancePath("impostor"), "{}".getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> outsider.setACL().withACL(ZooDefs.Ids.OPEN_ACL_UNSAFE).forPath(path))
                    .isInstanceOf(KeeperException.NoAuthException.class);
        }
        assertThat(anonymous.checkExists().forPath(path)).as("registration intact").isNotNull();
        assertThat(anonymous.getChildren().forPath(FleetPaths.DISCOVERY_BASE_PATH + "/" + FleetPaths.WORKER_SERVICE))
                .containsExactly("w1");
    }

    @Test
    void anotherFleetMember_canRegisterBesideIt_andChangeIt() throws Exception {
        member.create().withMode(CreateMode.EPHEMERAL)
                .forPath(FleetPaths.instancePath("w2"), "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(member.setData().forPath(FleetPaths.instancePath("w2"), "{\"x\":1}".getBytes(StandardCharsets.UTF_8)))
                .isNotNull();
        member.delete().forPath(FleetPaths.instancePath("w2"));
        assertThat(anonymous.getChildren().forPath(FleetPaths.DISCOVERY_BASE_PATH + "/" + FleetPaths.WORKER_SERVICE))
                .containsExactly("w1");
    }
}
