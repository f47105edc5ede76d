package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.GetStatusRequest;
import io.slipstream.proto.v1.GetStatusResponse;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.WorkerControlGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller programs real worker JVMs over gRPC, on join and on policy change. */
class ConfigPushIT {

    static final String POLICY = "{\"policies\":[{\"name\":\"smb\",\"protocol\":\"PROTOCOL_TCP\","
            + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"}],"
            + "\"compression\":{\"codec\":\"CODEC_ZSTD\",\"level\":3}}";
    static final String POLICY_V2 = "{\"policies\":[{\"name\":\"smb\",\"protocol\":\"PROTOCOL_TCP\","
            + "\"dstPorts\":[{\"first\":445,\"last\":445}],\"chain\":\"SERVICE_CHAIN_WANOPT\"},"
            + "{\"name\":\"web\",\"dstPorts\":[{\"first\":80,\"last\":80}],\"chain\":\"SERVICE_CHAIN_CACHE\"}],"
            + "\"compression\":{\"codec\":\"CODEC_LZ4\",\"level\":1}}";

    private static GetStatusResponse status(Fleet fleet, FleetSnapshot s, String id) {
        // Over mutual TLS as the controller: the worker serves control calls to nobody else.
        ManagedChannel ch = fleet.controller.fleet().controlChannels().builder(s.worker(id).record()).build();
        try {
            return WorkerControlGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .getStatus(GetStatusRequest.getDefaultInstance());
        } finally {
            ch.shutdownNow();
        }
    }

    /** GET for the version in force (ETag), then PUT over it with If-Match (issue 23). */
    private static HttpResponse<String> put(int port, String body) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/policy");
        HttpClient client = HttpClient.newHttpClient();
        String etag = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                .headers().firstValue("ETag").orElseThrow();
        return client.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + Fleet.OPERATOR_TOKEN)
                .header("If-Match", etag)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pushedConfiguration_reachesWorkers_andFollowsPolicyChanges(@TempDir Path logs) throws Exception {
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(FleetPolicies.parse(POLICY));
            fleet.startWorker("wanopt-a1", "wanopt", "a");
            fleet.startWorker("wanopt-b1", "wanopt", "b");
            fleet.startWorker("cache-a1", "cache", "a");
            FleetSnapshot s = fleet.awaitServingAndConfigured("wanopt-a1", "wanopt-b1", "cache-a1");

            // Each worker runs what the controller planned for it, as the worker itself reports.
            await().atMost(Fleet.WAIT).until(() -> status(fleet, fleet.controller.fleet().snapshot(), "wanopt-a1")
                    .getConfig().getPeersCount() == 1);
            GetStatusResponse a1 = status(fleet, s, "wanopt-a1");
            assertThat(a1.getConfig().getPoliciesList()).isEqualTo(FleetPolicies.parse(POLICY).getPoliciesList());
            assertThat(a1.getConfig().getPeersList()).extracting(Peer::getWorkerId).containsExactly("wanopt-b1");
            assertThat(a1.getConfig().getCompression().getLevel()).isEqualTo(3);
            GetStatusResponse c1 = status(fleet, s, "cache-a1");
            assertThat(c1.getConfig().getCache().getShardMembersList()).extracting(Peer::getWorkerId)
                    .containsExactly("cache-a1");

            // An invalid policy is refused with the field named; nothing is pushed.
            HttpResponse<String> bad = put(fleet.controller.httpPort(), POLICY_V2.replace("\"first\":80", "\"first\":0"));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("$.policies[1].dstPorts[0].first: 0 (expected: 1..65535)").contains("\"problems\"");
            HttpResponse<String> malformed = put(fleet.controller.httpPort(), "{\"policies\": [");
            assertThat(malformed.statusCode()).isEqualTo(400);
            assertThat(status(fleet, s, "wanopt-a1").getConfig().getPoliciesCount()).isEqualTo(1);

            // A valid change reaches every worker.
            HttpResponse<String> ok = put(fleet.controller.httpPort(), POLICY_V2);
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            for (String id : new String[] {"wanopt-a1", "wanopt-b1", "cache-a1"}) {
                await().atMost(Fleet.WAIT).until(() -> status(fleet, fleet.controller.fleet().snapshot(), id)
                        .getConfig().getPoliciesCount() == 2);
            }
            assertThat(status(fleet, s, "wanopt-b1").getConfig().getCompression().getLevel()).isEqualTo(1);

            // The placement the controller computes: every bucket of a policy goes to a healthy worker of
            // the chain's first role at each site.
            HttpResponse<String> placement = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + fleet.controller.httpPort() + "/api/placement")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(placement.statusCode()).isEqualTo(200);
            var table = new com.fasterxml.jackson.databind.ObjectMapper().readTree(placement.body());
            assertThat(table.get("bucket_count").asInt()).isEqualTo(256);
            java.util.Map<String, String> owners = new java.util.TreeMap<>();
            for (var entry : table.get("entries")) {
                owners.put(entry.get("policy").asText() + "@" + entry.get("site").asText(),
                        entry.get("members").size() == 0 ? "-" : entry.get("members").get(0).get("id").asText()
                                + "/" + entry.get("members").get(0).get("buckets").asInt());
            }
            assertThat(owners).containsExactly(java.util.Map.entry("smb@a", "wanopt-a1/256"),
                    java.util.Map.entry("smb@b", "wanopt-b1/256"), java.util.Map.entry("web@a", "cache-a1/256"),
                    java.util.Map.entry("web@b", "-"));

            // A restarted controller learns what the workers run and reprograms nobody.
            fleet.controller.close();
            fleet.startController(FleetPolicies.parse(POLICY_V2));
            fleet.awaitServingAndConfigured("wanopt-a1", "wanopt-b1", "cache-a1");
            assertThat(fleet.controller.meters().get("slipstream.controller.config.pushes")
                    .tag("result", "applied").counter().count()).isZero();
        }
    }
}
