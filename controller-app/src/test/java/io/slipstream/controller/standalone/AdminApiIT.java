package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.slipstream.common.ZooKeeperAuth;
import io.slipstream.common.ZooKeeperClients;
import io.slipstream.contract.FleetPaths;
import io.slipstream.controller.onos.FakeWorker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The standalone controller's admin API over real HTTP, with a real ZooKeeper whose fleet registrations
 * are protected by digest ACLs, and a worker control plane on real gRPC.
 */
class AdminApiIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String OPERATOR = "operator-token-0123456789";
    private static final String VIEWER = "viewer-token-0123456789";
    private static final String POLICY = "{\"policies\":[{\"name\":\"smb\",\"protocol\":\"PROTOCOL_TCP\","
            + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}]}";
    private static final ZooKeeperAuth FLEET = ZooKeeperAuth.parse("user=fleet\npassword=fleet-secret-0123\n");

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<String> audit = new CopyOnWriteArrayList<>();
    private TestingServer zk;
    private CuratorFramework workerZk;
    private FakeWorker worker;
    private StandaloneController controller;

    @BeforeEach
    void start() throws Exception {
        zk = new TestingServer(true);
        workerZk = ZooKeeperClients.newClient(zk.getConnectString(), 10_000, FLEET);
        workerZk.start();
        worker = FakeWorker.start(workerZk, "fw1", "wanopt", "a", "127.0.0.1", 125_000_000L);
    }

    private StandaloneController controller(AdminAccess access) throws Exception {
        controller = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .insecurePlaintext() // the workers here are in-process gRPC doubles
                .loadIntervalMillis(200)
                .zooKeeperAuth(FLEET)
                .adminAccess(access.auditingAlsoTo(audit::add))
                .build());
        return controller;
    }

    private static AdminAccess tokens() {
        return AdminAccess.of(AdminTokens.parse("ops:operator:" + OPERATOR + "\n"
                + "view viewer " + AdminTokens.hashHex(VIEWER) + "\n"), false, false);
    }

    @AfterEach
    void stop() throws Exception {
        if (controller != null) {
            controller.close();
        }
        worker.close();
        workerZk.close();
        zk.close();
    }

    private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        return send(method, path, token, body, null);
    }

    private HttpResponse<String> send(String method, String path, String token, String body, String ifMatch)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + controller.httpPort() + path))
                .timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void policy_needsOperatorToken_andTakesEffectWithIt() throws Exception {
        controller(tokens());
        HttpResponse<String> none = send("PUT", "/api/policy", null, POLICY);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(none.body()).contains("\"error\"").contains("Authorization: Bearer");
        assertThat(send("PUT", "/api/policy", "guessed-token-000000", POLICY).statusCode()).isEqualTo(401);
        HttpResponse<String> viewer = send("PUT", "/api/policy", VIEWER, POLICY);
        assertThat(viewer.statusCode()).isEqualTo(403);
        assertThat(viewer.body()).contains("role viewer");
        assertThat(send("GET", "/api/policy", null, null).body()).doesNotContain("smb");

        HttpResponse<String> ok = send("PUT", "/api/policy", OPERATOR, POLICY, "\"1\"");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(send("GET", "/api/policy", null, null).body()).contains("smb");
        assertThat(send("PUT", "/api/policy", OPERATOR, "{\"policies\":[{\"chain\":7}]}", "\"2\"").statusCode())
                .isEqualTo(400);

        assertThat(audit).hasSize(5);
        assertThat(audit.get(0)).contains("principal=anonymous", "method=PUT", "path=/api/policy",
                "outcome=unauthenticated", "status=401", "remote=127.0.0.1:");
        assertThat(audit.get(2)).contains("principal=view", "outcome=forbidden", "status=403");
        assertThat(audit.get(3)).contains("principal=ops", "outcome=ok", "status=200", "sha256:");
        assertThat(audit.get(4)).contains("principal=ops", "outcome=rejected", "status=400");
        assertThat(String.join("\n", audit)).doesNotContain(OPERATOR).doesNotContain(VIEWER)
                .doesNotContain("guessed-token");
        assertThat(send("GET", "/metrics", null, null).body())
                .contains("slipstream_admin_requests_total{outcome=\"unauthenticated\",route=\"policy\"} 2.0")
                .as("one PUT and two GETs").contains("slipstream_admin_requests_total{outcome=\"ok\",route=\"policy\"} 3.0");
    }

    @Test
    void drain_reachesTheWorker_onlyWithAnOperatorToken() throws Exception {
        controller(tokens());
        await("the controller sees the ACL-protected fleet").atMost(WAIT)
                .until(() -> send("GET", "/api/fleet", null, null).body().contains("fw1"));
        assertThat(send("POST", "/api/workers/fw1/drain", null, null).statusCode()).isEqualTo(401);
        assertThat(send("POST", "/api/workers/fw1/drain", VIEWER, null).statusCode()).isEqualTo(403);
        assertThat(worker.drains()).isEmpty();
        await("the controller linked the worker").atMost(WAIT).ignoreExceptions()
                .until(() -> send("POST", "/api/workers/fw1/drain?timeoutMillis=5000", OPERATOR, null).statusCode() == 200);
        assertThat(worker.drains()).isNotEmpty().allSatisfy(d -> assertThat(d.getTimeoutMillis()).isEqualTo(5000));
        HttpResponse<String> unknown = send("POST", "/api/workers/nobody/drain", OPERATOR, null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("nobody");
        assertThat(send("POST", "/api/workers/fw1/drain?timeoutMillis=x", OPERATOR, null).statusCode()).isEqualTo(400);
        assertThat(send("POST", "/api/workers/fw1/evict", OPERATOR, null).statusCode()).isEqualTo(404);
        assertThat(send("POST", "/api/cache/purge", VIEWER, "{\"prefix\":\"http://h/\"}").statusCode()).isEqualTo(403);
        HttpResponse<String> noCache = send("POST", "/api/cache/purge", OPERATOR, "{\"prefix\":\"http://h/\"}");
        assertThat(noCache.statusCode()).isEqualTo(404);
        assertThat(noCache.body()).contains("no cache worker");
        assertThat(send("POST", "/api/cache/purge", OPERATOR, "{\"prefix\":\"http://h/\",\"colour\":1}").body())
                .contains("$.colour: unknown field");
        assertThat(send("POST", "/api/cache/purge", OPERATOR, "not json").statusCode()).isEqualTo(400);
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("principal=ops", "path=/api/workers/fw1/drain",
                "outcome=ok"));

        // Nobody outside the fleet can remove the worker from the directory behind the controller's back.
        try (CuratorFramework outsider = ZooKeeperClients.newClient(zk.getConnectString(), 10_000)) {
            outsider.start();
            assertThatThrownBy(() -> outsider.delete().forPath(FleetPaths.instancePath("fw1")))
                    .isInstanceOf(KeeperException.NoAuthException.class);
        }
    }

    @Test
    void scalingOverride_pinsTheRange_theAutoscalerFollows_andDeleteRestoresIt() throws Exception {
        java.util.concurrent.atomic.AtomicInteger replicas = new java.util.concurrent.atomic.AtomicInteger(1);
        io.slipstream.controller.scale.ScaleTarget target = new io.slipstream.controller.scale.ScaleTarget() {
            @Override
            public String name() {
                return "in-memory";
            }

            @Override
            public int replicas(String role, String site) {
                return replicas.get();
            }

            @Override
            public void scale(String role, String site, int n, List<String> victims) {
                replicas.set(n);
            }
        };
        controller = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .insecurePlaintext() // the workers here are in-process gRPC doubles
                .zooKeeperAuth(FLEET)
                .scaling(new io.slipstream.controller.scale.ScalingConfig(true, Duration.ofMillis(100), "local",
                        List.of(io.slipstream.controller.scale.ScalingRule.builder("cache", "a").replicas(1, 5)
                                .maxStep(1).build())))
                .scaleTarget(target)
                .adminAccess(tokens().auditingAlsoTo(audit::add))
                .build());
        String pin = "{\"role\":\"cache\",\"site\":\"a\",\"minReplicas\":3,\"maxReplicas\":4}";
        assertThat(send("PUT", "/api/scaling/overrides", null, pin).statusCode()).isEqualTo(401);
        assertThat(send("PUT", "/api/scaling/overrides", VIEWER, pin).statusCode()).isEqualTo(403);
        assertThat(replicas).hasValue(1);
        HttpResponse<String> unversioned = send("PUT", "/api/scaling/overrides", OPERATOR, pin);
        assertThat(unversioned.statusCode()).isEqualTo(428);
        assertThat(unversioned.body()).contains("If-Match required");
        HttpResponse<String> list = send("GET", "/api/scaling/overrides", null, null);
        assertThat(list.headers().firstValue("ETag")).hasValue("\"1\"");
        assertThat(list.headers().firstValue("Slipstream-Overrides-Source")).hasValue("values");
        HttpResponse<String> ok = send("PUT", "/api/scaling/overrides", OPERATOR, pin, "\"1\"");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(ok.headers().firstValue("ETag")).hasValue("\"2\"");
        assertThat(send("PUT", "/api/scaling/overrides", OPERATOR, pin, "\"1\"").statusCode()).as("stale")
                .isEqualTo(412);
        await("the autoscaler honours the pinned minimum").atMost(WAIT).until(() -> replicas.get() == 3);
        assertThat(send("GET", "/api/scaling/overrides", null, null).body()).contains("\"minReplicas\" : 3");

        HttpResponse<String> badRange = send("PUT", "/api/scaling/overrides", OPERATOR,
                "{\"role\":\"cache\",\"site\":\"a\",\"minReplicas\":5,\"maxReplicas\":2}", "\"2\"");
        assertThat(badRange.statusCode()).isEqualTo(400);
        assertThat(badRange.body()).contains("5..2");
        HttpResponse<String> unknown = send("PUT", "/api/scaling/overrides", OPERATOR,
                "{\"role\":\"wanopt\",\"site\":\"z\",\"minReplicas\":1,\"maxReplicas\":2}", "\"2\"");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("cache@a");

        // The pin is durable: in ZooKeeper with who set it, and a controller started afresh applies it.
        controller.close();
        controller = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .insecurePlaintext()
                .zooKeeperAuth(FLEET)
                .scaling(new io.slipstream.controller.scale.ScalingConfig(true, Duration.ofMillis(100), "local",
                        List.of(io.slipstream.controller.scale.ScalingRule.builder("cache", "a").replicas(1, 5)
                                .maxStep(1).build())))
                .scaleTarget(target)
                .adminAccess(tokens().auditingAlsoTo(audit::add))
                .build());
        assertThat(controller.autoscaler().overrides()).containsKey("cache@a");
        HttpResponse<String> cleared = send("DELETE", "/api/scaling/overrides?role=cache&site=a", OPERATOR, null,
                "\"2\"");
        assertThat(cleared.statusCode()).as(cleared.body()).isEqualTo(200);
        assertThat(send("GET", "/api/scaling/overrides", null, null).body()).doesNotContain("cache");
        assertThat(audit).anySatisfy(l -> assertThat(l).contains("principal=ops", "method=DELETE",
                "path=/api/scaling/overrides", "outcome=ok"));
    }

    @Test
    void policy_ifMatch_versionedWithHistoryRollbackAndPrecedence() throws Exception {
        controller(tokens());
        HttpResponse<String> first = send("GET", "/api/policy", null, null);
        assertThat(first.headers().firstValue("ETag")).hasValue("\"1\"");
        assertThat(first.headers().firstValue("Slipstream-Policy-Source")).hasValue("values");
        assertThat(first.headers().firstValue("Slipstream-Policy-Version")).hasValue("1");

        HttpResponse<String> missing = send("PUT", "/api/policy", OPERATOR, POLICY);
        assertThat(missing.statusCode()).isEqualTo(428);
        assertThat(missing.body()).contains("If-Match required", "\\\"1\\\"");
        assertThat(send("PUT", "/api/policy", OPERATOR, POLICY, "*").statusCode()).isEqualTo(400);
        HttpResponse<String> ok = send("PUT", "/api/policy", OPERATOR, POLICY, first.headers().firstValue("ETag").get());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        assertThat(ok.headers().firstValue("ETag")).hasValue("\"2\"");
        HttpResponse<String> stale = send("PUT", "/api/policy", OPERATOR, "{}", "\"1\"");
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(stale.body()).contains("\"version\" : 2");
        assertThat(stale.headers().firstValue("ETag")).hasValue("\"2\"");
        HttpResponse<String> now = send("GET", "/api/policy", null, null);
        assertThat(now.body()).contains("smb");
        assertThat(now.headers().firstValue("Slipstream-Policy-Source")).hasValue("runtime");

        HttpResponse<String> history = send("GET", "/api/policy/history", null, null);
        assertThat(history.statusCode()).isEqualTo(200);
        assertThat(history.body()).contains("\"version\" : 2", "\"principal\" : \"ops\"", "\"source\" : \"runtime\"",
                "\"from\" : \"127.0.0.1:", "\"version\" : 1", "\"source\" : \"values\"");
        HttpResponse<String> v1 = send("GET", "/api/policy/history?version=1", null, null);
        assertThat(v1.body()).doesNotContain("smb");
        assertThat(send("GET", "/api/policy/history?version=99", null, null).statusCode()).isEqualTo(404);
        assertThat(send("GET", "/api/policy/history?version=x", null, null).statusCode()).isEqualTo(400);
        // Rollback: version 1's body put back is version 3.
        HttpResponse<String> rollback = send("PUT", "/api/policy", OPERATOR, v1.body(), "\"2\"");
        assertThat(rollback.statusCode()).as(rollback.body()).isEqualTo(200);
        assertThat(rollback.headers().firstValue("ETag")).hasValue("\"3\"");
        assertThat(send("GET", "/api/policy", null, null).body()).doesNotContain("smb");
        assertThat(send("PUT", "/api/policy", OPERATOR, POLICY, "\"3\"").statusCode()).isEqualTo(200);

        // Restart with the same values: the runtime change (version 4) stays in force.
        controller.close();
        controller(tokens());
        HttpResponse<String> after = send("GET", "/api/policy", null, null);
        assertThat(after.body()).contains("smb");
        assertThat(after.headers().firstValue("ETag")).hasValue("\"4\"");
        assertThat(controller.fleet().snapshot().policy().getPolicies(0).getName()).isEqualTo("smb");
        assertThat(send("GET", "/api/status", null, null).body()).contains("\"self\" : true", "\"source\" : \"runtime\"");
    }

    @Test
    void twoControllers_followerRedirectsWritesToTheLeader_andAppliesItsChanges() throws Exception {
        StandaloneController leader = controller(tokens());
        StandaloneController follower = StandaloneController.start(ControllerSettings.builder(zk.getConnectString())
                .http("127.0.0.1", 0)
                .name("second")
                .insecurePlaintext()
                .zooKeeperAuth(FLEET)
                .adminAccess(tokens())
                .build());
        try {
            assertThat(leader.leadership().leading()).isTrue();
            assertThat(follower.leadership().leading()).isFalse();
            String followerUrl = "http://127.0.0.1:" + follower.httpPort();
            HttpResponse<String> redirected = http.send(HttpRequest.newBuilder(URI.create(followerUrl + "/api/policy"))
                    .header("Authorization", "Bearer " + OPERATOR).header("If-Match", "\"1\"")
                    .PUT(HttpRequest.BodyPublishers.ofString(POLICY)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(redirected.statusCode()).isEqualTo(307);
            assertThat(redirected.headers().firstValue("Location"))
                    .hasValue("http://127.0.0.1:" + leader.httpPort() + "/api/policy");
            assertThat(redirected.body()).contains("does not lead", "\"leader\" : \"controller\"");
            HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(followerUrl + "/api/status"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(status.body()).contains("\"self\" : false", "\"url\" : \"http://127.0.0.1:" + leader.httpPort());

            // Followed as Location says, the PUT lands on the leader; the follower applies it from the watch.
            assertThat(send("PUT", "/api/policy", OPERATOR, POLICY, "\"1\"").statusCode()).isEqualTo(200);
            await("the follower applies the leader's change").atMost(WAIT).until(() ->
                    follower.fleet().snapshot().policy().getPoliciesCount() == 1);
            HttpResponse<String> read = http.send(HttpRequest.newBuilder(URI.create(followerUrl + "/api/policy"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(read.body()).contains("smb");
            assertThat(read.headers().firstValue("ETag")).hasValue("\"2\"");

            // The leader goes: the follower takes over, and writes are served there.
            controller.close();
            controller = follower;
            await("the follower leads").atMost(WAIT).until(() -> follower.leadership().leading());
            HttpResponse<String> direct = send("PUT", "/api/policy", OPERATOR, "{}", "\"2\"");
            assertThat(direct.statusCode()).as(direct.body()).isEqualTo(200);
        } finally {
            follower.close();
        }
    }

    @Test
    void noTokensConfigured_refusesMutations_butServesReadsAndProbes() throws Exception {
        controller(AdminAccess.disabled());
        HttpResponse<String> r = send("PUT", "/api/policy", OPERATOR, POLICY);
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("admin API disabled: no tokens configured");
        assertThat(send("GET", "/api/fleet", null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
        assertThat(send("POST", "/api/status", null, "{}").statusCode()).as("read-only route: 405, not 401")
                .isEqualTo(405);
        assertThat(audit).singleElement().asString().contains("outcome=disabled");
    }

    @Test
    void readsRequired_needAnyValidToken_butProbesStayOpen() throws Exception {
        controller(AdminAccess.of(AdminTokens.parse("view:viewer:" + VIEWER), false, true));
        assertThat(send("GET", "/api/fleet", null, null).statusCode()).isEqualTo(401);
        assertThat(send("GET", "/api/fleet", VIEWER, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/metrics", null, null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/readyz", null, null).statusCode()).isEqualTo(200);
        assertThat(audit).as("reads are counted, not audited").isEmpty();
    }
}
