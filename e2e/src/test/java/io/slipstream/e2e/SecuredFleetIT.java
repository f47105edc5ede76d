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

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
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
                    .devCa(fleet.ca())
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
                assertThat(JSON.readTree(ok.body()).path("started").asBoolean()).as(ok.body()).isTrue();
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

    @Test
    void purge_throughTheAdminApi_sendsTheNextRequestToTheOrigin(@TempDir Path logs) throws Exception {
        java.util.concurrent.atomic.AtomicInteger originHits = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer origin = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 16);
        origin.createContext("/object", exchange -> {
            originHits.incrementAndGet();
            byte[] body = "cacheable object".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Cache-Control", "public, max-age=300");
            exchange.sendResponseHeaders(200, body.length);
            try (var out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        origin.start();
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(ControllerSettings.builder(fleet.zk.getConnectString())
                    .http("127.0.0.1", 0)
                    .devCa(fleet.ca())
                    .loadIntervalMillis(200)
                    .adminAccess(AdminAccess.of(AdminTokens.parse("ops:operator:" + OPERATOR + "\n"
                            + "view:viewer:" + VIEWER), false, false))
                    .build());
            fleet.startWorker("cache-a1", "cache", "a", "--origin", "http://127.0.0.1:" + origin.getAddress().getPort());
            var snapshot = fleet.awaitServingAndConfigured("cache-a1");
            String object = "http://" + snapshot.worker("cache-a1").record().dataEndpoint() + "/object";
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < 2; i++) {
                assertThat(http.send(HttpRequest.newBuilder(URI.create(object)).timeout(Duration.ofSeconds(20)).build(),
                        HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("cacheable object");
            }
            assertThat(originHits).as("the second request is a hit").hasValue(1);

            String purge = "http://127.0.0.1:" + fleet.controller.httpPort() + "/api/cache/purge";
            String body = "{\"url\": \"" + object + "\"}";
            assertThat(send(http, purge, null, body).statusCode()).isEqualTo(401);
            assertThat(send(http, purge, VIEWER, body).statusCode()).isEqualTo(403);
            assertThat(send(http, purge, OPERATOR, "{\"url\": \"x\", \"tags\": [\"t\"]}").statusCode())
                    .isEqualTo(400);
            HttpResponse<String> bad = send(http, purge, OPERATOR, "{\"url\": \"not a url\"}");
            assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
            assertThat(bad.body()).contains("$.url: 'not a url' (expected: an absolute http:// or https:// URL)");
            assertThat(http.send(HttpRequest.newBuilder(URI.create(object)).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            assertThat(originHits).as("refused purges removed nothing").hasValue(1);

            HttpResponse<String> ok = send(http, purge, OPERATOR, body);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(JSON.readTree(ok.body()).path("workers").path("cache-a1").asInt()).as(ok.body()).isEqualTo(1);
            assertThat(JSON.readTree(ok.body()).path("purged").asInt()).isEqualTo(1);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(object)).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("cacheable object");
            assertThat(originHits).as("after the purge the object comes from the origin again").hasValue(2);
        } finally {
            origin.stop(0);
        }
    }

    private static HttpResponse<String> send(HttpClient http, String url, String token, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
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
