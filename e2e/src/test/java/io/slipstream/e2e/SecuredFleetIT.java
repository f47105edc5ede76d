package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import io.slipstream.controller.standalone.AdminAccess;
import io.slipstream.controller.standalone.AdminTokens;
import io.slipstream.controller.standalone.ControllerSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 end to end: worker JVMs and the controller authenticate to ZooKeeper with digest
 * credentials from a file, so outsiders cannot touch registrations; the admin API drains a real worker
 * only for an operator token, and audits it.
 */
class SecuredFleetIT {

    private static final String OPERATOR = "secured-operator-token-0123";
    private static final String VIEWER = "secured-viewer-token-0123";

    @Test
    void securedFleet_registersWithAcls_andDrainNeedsAnOperator(@TempDir Path logs) throws Exception {
        Path zkAuth = Files.writeString(logs.resolve("zk-auth.properties"),
                "# fleet identity\nuser=slipstream\npassword=e2e-fleet-secret-42\n");
        List<String> audit = new CopyOnWriteArrayList<>();
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(ControllerSettings.builder(fleet.zk.getConnectString())
                    .http("127.0.0.1", 0)
                    .membershipGrace(Duration.ofSeconds(5))
                    .loadIntervalMillis(200)
                    .zooKeeperAuth(ZooKeeperAuth.load(zkAuth))
                    .adminAccess(AdminAccess.of(AdminTokens.parse("ops:operator:" + OPERATOR + "\n"
                            + "view:viewer:" + VIEWER), false, false).auditingAlsoTo(audit::add))
                    .build());
            fleet.startWorker("wanopt-a1", "wanopt", "a", "--zk-auth-file", zkAuth.toString());
            fleet.startWorker("wanopt-a2", "wanopt", "a", "--zk-auth-file", zkAuth.toString());
            fleet.awaitServingAndConfigured("wanopt-a1", "wanopt-a2");

            try (CuratorFramework outsider = ZooKeeperClients.newClient(fleet.zk.getConnectString(), 10_000);
                 CuratorFramework impostor = ZooKeeperClients.newClient(fleet.zk.getConnectString(), 10_000,
                         ZooKeeperAuth.parse("slipstream:guessed-password"))) {
                outsider.start();
                impostor.start();
                for (CuratorFramework c : List.of(outsider, impostor)) {
                    assertThatThrownBy(() -> c.delete().forPath(FleetPaths.instancePath("wanopt-a1")))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.setData().forPath(FleetPaths.instancePath("wanopt-a1"), new byte[0]))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                    assertThatThrownBy(() -> c.create().forPath(FleetPaths.instancePath("fake-b1"), new byte[0]))
                            .isInstanceOf(KeeperException.NoAuthException.class);
                }

                String drain = "http://127.0.0.1:" + fleet.controller.httpPort() + "/api/workers/wanopt-a1/drain";
                HttpClient http = HttpClient.newHttpClient();
                assertThat(post(http, drain, null).statusCode()).isEqualTo(401);
                assertThat(post(http, drain, VIEWER).statusCode()).isEqualTo(403);
                assertThat(outsider.checkExists().forPath(FleetPaths.instancePath("wanopt-a1"))).isNotNull();
                HttpResponse<String> ok = post(http, drain, OPERATOR);
                assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
                assertThat(ok.body()).contains("\"started\":true");
                await("the drained worker leaves the directory").atMost(Fleet.WAIT)
                        .until(() -> outsider.checkExists().forPath(FleetPaths.instancePath("wanopt-a1")) == null);
                assertThat(outsider.checkExists().forPath(FleetPaths.instancePath("wanopt-a2"))).isNotNull();
            }
            assertThat(audit).hasSize(3);
            assertThat(audit.get(0)).contains("principal=anonymous", "outcome=unauthenticated");
            assertThat(audit.get(1)).contains("principal=view", "outcome=forbidden");
            assertThat(audit.get(2)).contains("principal=ops", "method=POST", "path=/api/workers/wanopt-a1/drain",
                    "outcome=ok");
            assertThat(String.join("\n", audit)).doesNotContain(OPERATOR).doesNotContain(VIEWER);
        }
    }

    private static HttpResponse<String> post(HttpClient http, String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
