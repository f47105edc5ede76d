package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.contract.WorkerRecord;
import io.slipstream.controller.fleet.FleetDirectory;
import io.slipstream.controller.fleet.Health;
import io.slipstream.controller.fleet.MutableClock;
import io.slipstream.controller.scale.ScaleDecision;
import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.Site;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FleetJsonStatusTest {

    private final MutableClock clock = new MutableClock();
    private final FleetDirectory directory = new FleetDirectory(clock, Duration.ofSeconds(10));

    private static WorkerRecord record(String id, String role, String site) {
        return new WorkerRecord(id, role, site, "127.0.0.1:9" + Math.abs(id.hashCode() % 1000), "", "",
                125_000_000L, List.of(), "test");
    }

    private ObjectNode status(FleetPolicy policy, List<ScaleDecision> decisions) {
        return FleetJson.status(clock.instant(), directory.stale(), 3, policy, directory.workers(),
                directory.events(), decisions);
    }

    @Test
    void status_wanoptAndCacheReports_sumSavingsAndCountRolesAndSites() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(record("wan-a1", "wanopt", "a"), record("wan-a2", "wanopt", "a"),
                record("cache-a1", "cache", "a")));
        directory.onHealth("wan-a1", Health.SERVING);
        directory.onHealth("cache-a1", Health.SERVING);
        directory.onLinkDown("wan-a2", "UNAVAILABLE: <script>alert(1)</script>");
        directory.onLoad("wan-a1", LoadReport.newBuilder().setWorkerId("wan-a1").setWanoptAppBytes(1000)
                .setWanoptWanBytes(200).addCompression(CompressionProviderState.newBuilder().setName("emulator")
                        .setHardware(true).setFallbacks(4).setReason("card failed")).build());
        directory.onLoad("wan-a2", LoadReport.newBuilder().setWorkerId("wan-a2").setWanoptAppBytes(1000)
                .setWanoptWanBytes(300).build());
        directory.onLoad("cache-a1", LoadReport.newBuilder().setWorkerId("cache-a1").setCacheHits(3)
                .setCacheLookups(4).setCacheOriginRequests(1).setCacheOriginBytes(8192).build());

        JsonNode doc = status(FleetPolicy.newBuilder().addSites(Site.newBuilder().setName("b")).build(), List.of());

        JsonNode savings = doc.path("savings");
        assertThat(savings.path("wanopt_app_bytes").asLong()).isEqualTo(2000);
        assertThat(savings.path("wanopt_wan_bytes").asLong()).isEqualTo(500);
        assertThat(savings.path("wan_bytes_saved").asLong()).isEqualTo(1500);
        assertThat(savings.path("wan_reduction_ratio").asDouble()).isEqualTo(0.25);
        assertThat(savings.path("cache_hit_ratio").asDouble()).isEqualTo(0.75);
        assertThat(savings.path("cache_origin_requests").asLong()).isEqualTo(1);
        assertThat(savings.path("cache_origin_bytes").asLong()).isEqualTo(8192);
        assertThat(savings.path("origin_requests_saved_ratio").asDouble()).isEqualTo(0.75);
        assertThat(savings.path("origin_bytes_saved_estimate").asLong()).isEqualTo(3 * 8192);
        assertThat(worker(doc, "cache-a1").path("cache_origin_bytes").asLong()).isEqualTo(8192);
        assertThat(savings.path("compression_fallbacks").asLong()).isEqualTo(4);
        assertThat(doc.path("roles").toString())
                .isEqualTo("[{\"role\":\"cache\",\"workers\":1,\"serving\":1},"
                        + "{\"role\":\"wanopt\",\"workers\":2,\"serving\":1}]");
        // Site b has no worker yet but is in the policy: shown with zero workers.
        assertThat(doc.path("sites").toString())
                .isEqualTo("[{\"site\":\"a\",\"workers\":3,\"serving\":2},{\"site\":\"b\",\"workers\":0,\"serving\":0}]");
        JsonNode down = worker(doc, "wan-a2");
        assertThat(down.path("health").asText()).isEqualTo("down");
        // Text from workers is data in JSON; the page sets it with textContent.
        assertThat(down.path("reason").asText()).isEqualTo("UNAVAILABLE: <script>alert(1)</script>");
        assertThat(worker(doc, "wan-a1").path("compression").get(0).path("reason").asText()).isEqualTo("card failed");
    }

    @Test
    void status_noTraffic_ratiosAbsentRatherThanDividedByZero() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(record("cache-a1", "cache", "a")));
        JsonNode savings = status(FleetPolicy.getDefaultInstance(), List.of()).path("savings");
        assertThat(savings.has("cache_hit_ratio")).isFalse();
        assertThat(savings.has("wan_reduction_ratio")).isFalse();
        assertThat(savings.path("wan_bytes_saved").asLong()).isZero();
    }

    @Test
    void status_fleetEventsAndScalingDecisions_mergedNewestFirstAndBounded() {
        directory.onZooKeeper(true);
        List<WorkerRecord> records = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            records.add(record("cache-" + i, "cache", "a"));
        }
        directory.onMembership(records);
        clock.advance(Duration.ofSeconds(1));
        for (int i = 0; i < 30; i++) {
            directory.onHealth("cache-" + i, Health.SERVING);
        }
        clock.advance(Duration.ofSeconds(1));
        ScaleDecision decision = new ScaleDecision("cache", "a", clock.instant(), 30, 31, 31, 0.9,
                ScaleDecision.Reason.OVERLOAD);

        JsonNode events = status(FleetPolicy.getDefaultInstance(), List.of(decision)).path("events");

        assertThat(events.size()).isEqualTo(FleetJson.MAX_STATUS_EVENTS);
        assertThat(events.get(0).path("kind").asText()).isEqualTo("scaling");
        assertThat(events.get(0).path("detail").asText()).isEqualTo("cache at site a: 30 -> 31 (overload)");
        assertThat(events.get(1).path("kind").asText()).isEqualTo("serving");
    }

    @Test
    void status_cardFailsAndBlocksFallBack_eventsShownNewestFirst() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(record("wan-a1", "wanopt", "a")));
        directory.onHealth("wan-a1", Health.SERVING);
        LoadReport.Builder healthy = LoadReport.newBuilder().setWorkerId("wan-a1")
                .addCompression(CompressionProviderState.newBuilder().setName("emulator").setHardware(true)
                        .setAvailable(true));
        directory.onLoad("wan-a1", healthy.build());
        clock.advance(Duration.ofSeconds(1));
        directory.onLoad("wan-a1", LoadReport.newBuilder().setWorkerId("wan-a1")
                .addCompression(CompressionProviderState.newBuilder().setName("emulator").setHardware(true)
                        .setAvailable(false).setReason("emulated card: device lost").setFallbacks(3)).build());

        JsonNode doc = status(FleetPolicy.getDefaultInstance(), List.of());

        JsonNode events = doc.path("events");
        List<String> kinds = new ArrayList<>();
        events.forEach(e -> kinds.add(e.path("kind").asText()));
        assertThat(kinds).startsWith("compression_unavailable", "compression_fallback").contains("joined", "serving");
        assertThat(events.get(0).path("worker").asText()).isEqualTo("wan-a1");
        assertThat(events.get(0).path("detail").asText()).contains("emulated card: device lost");
        assertThat(events.get(1).path("detail").asText()).isEqualTo("3 blocks moved from emulator to software (3 since start)");
        assertThat(doc.path("savings").path("compression_fallbacks").asLong()).isEqualTo(3);
    }

    @Test
    void statusScript_neverWritesHtmlFromData() throws Exception {
        String script;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("status/status.js")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(script).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(");
        assertThat(script).contains("textContent");
    }

    private static JsonNode worker(JsonNode doc, String id) {
        for (JsonNode w : doc.path("workers")) {
            if (w.path("id").asText().equals(id)) {
                return w;
            }
        }
        throw new AssertionError("no worker " + id + " in " + doc);
    }

    @Test
    void worker_wanoptReport_showsEncodingsPerPeerAndPolicyAndStores() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(record("wan-a1", "wanopt", "a"), record("cache-a1", "cache", "a")));
        directory.onLoad("wan-a1", LoadReport.newBuilder().setWorkerId("wan-a1").setWanoptAppBytes(1000)
                .setWanoptWanBytes(40).setWanoptReferenceBytes(600).setWanoptDeltaBytes(300)
                .setWanoptLiteralBytes(100).setWanoptDeltaCandidates(5).setWanoptDeltaHits(4)
                .addWanoptTraffic(io.slipstream.proto.v1.WanoptTraffic.newBuilder().setPeerWorkerId("wan-b1")
                        .setPolicy("file-shares").setAppBytes(900).setWanBytes(30).setReferenceBytes(600)
                        .setDeltaBytes(300).setDeltaCandidates(4).setDeltaHits(4))
                .addWanoptTraffic(io.slipstream.proto.v1.WanoptTraffic.newBuilder().setPeerWorkerId("wan-b1")
                        .setAppBytes(100).setWanBytes(10).setLiteralBytes(100).setDeltaCandidates(1))
                .addChunkStores(io.slipstream.proto.v1.ChunkStoreState.newBuilder().setPeerWorkerId("wan-b1")
                        .setStore("sent").setAvailable(true).setBytesHeld(4096).setMaxBytes(1 << 30)
                        .setBytesOnDisk(8192).setChunks(1).setEvictions(2))
                .build());
        directory.onLoad("cache-a1", LoadReport.newBuilder().setWorkerId("cache-a1").setCacheHits(3).build());

        JsonNode wan = FleetJson.worker(directory.get("wan-a1"));
        assertThat(wan.path("wanopt_encoded_bytes").path("reference").asLong()).isEqualTo(600);
        assertThat(wan.path("wanopt_encoded_bytes").path("delta").asLong()).isEqualTo(300);
        assertThat(wan.path("wanopt_delta_hits").asLong()).isEqualTo(4);
        JsonNode traffic = wan.path("wanopt_traffic");
        assertThat(traffic).hasSize(2);
        assertThat(traffic.get(0).path("policy").asText()).isEqualTo("file-shares");
        assertThat(traffic.get(0).path("peer").asText()).isEqualTo("wan-b1");
        assertThat(traffic.get(0).path("wan_bytes").asLong()).isEqualTo(30);
        assertThat(traffic.get(1).path("policy").asText()).isEmpty();
        assertThat(traffic.get(1).path("literal_bytes").asLong()).isEqualTo(100);
        assertThat(wan.path("chunk_stores").get(0).path("bytes_on_disk").asLong()).isEqualTo(8192);
        assertThat(wan.path("chunk_stores").get(0).path("evictions").asLong()).isEqualTo(2);
        // Not a wanopt worker (nothing encoded): no wanopt detail.
        assertThat(FleetJson.worker(directory.get("cache-a1")).has("wanopt_traffic")).isFalse();
    }

    @Test
    void placement_cacheWanoptPolicy_showsTheCacheEntryAndTheWanoptHopOfItsSite() {
        directory.onZooKeeper(true);
        directory.onMembership(List.of(record("wan-a1", "wanopt", "a"), record("wan-b1", "wanopt", "b"),
                record("cache-a1", "cache", "a")));
        for (String id : List.of("wan-a1", "wan-b1", "cache-a1")) {
            directory.onHealth(id, Health.SERVING);
            directory.onConfigApplied(id, "digest-of-" + id); // steered to only once configured
        }
        FleetPolicy policy = FleetPolicy.newBuilder().setBucketCount(4)
                .addPolicies(io.slipstream.proto.v1.FlowPolicy.newBuilder().setName("web-b").setIngressSite("a")
                        .setChain(io.slipstream.proto.v1.ServiceChain.SERVICE_CHAIN_CACHE_WANOPT))
                .addSites(Site.newBuilder().setName("b").addPrefixes("198.18.2.0/24")).build();
        JsonNode doc = FleetJson.placement(policy, directory.workers(), 7);

        assertThat(doc.path("entries")).singleElement().satisfies(e -> {
            assertThat(e.path("chain").asText()).isEqualTo("SERVICE_CHAIN_CACHE_WANOPT");
            assertThat(e.path("members").get(0).path("id").asText()).isEqualTo("cache-a1");
        });
        assertThat(doc.path("chain_hops")).singleElement().satisfies(e -> {
            assertThat(e.path("site").asText()).isEqualTo("a");
            assertThat(e.path("members")).singleElement().satisfies(m -> {
                assertThat(m.path("id").asText()).isEqualTo("wan-a1");
                assertThat(m.path("buckets").asInt()).isEqualTo(4);
            });
        });
    }
}
