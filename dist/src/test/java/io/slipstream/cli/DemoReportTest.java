package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.controller.standalone.FleetJson;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoReportTest {

    /**
     * The report's shape as {@code bin/slipstream demo --duration 20s --json} wrote it before the report was typed
     * (2026-12-07, one line per key path and JSON type; see {@link #shape}), and the {@code chain} object added
     * since (the chained web traffic, cache+wanopt). docs/demo.md, README.md and DemoIT read these keys.
     */
    private static final String RECORDED_SHAPE = """
            /wan_speedup float
            /seconds_without_slipstream float
            /gateway_connections float
            /http_requests int
            /http_failures int
            /http_failures_in_kill_window int
            /http_failures_unexpected int
            /kill_window_seconds float
            /failover_data_plane_seconds float
            /cache_hit_ratio float
            /origin_requests int
            /origin_bytes int
            /origin_bytes_saved_ratio float
            /latency_ms_p50 float
            /latency_ms_p99 float
            /chain/requests int
            /chain/hits int
            /chain/misses_via_tunnel int
            /chain/bypassed int
            /chain/hop_failures int
            /chain/not_modified int
            /chain/object_changes int
            /chain/origin_bytes int
            /chain/wan_bytes int
            /chain/wan_ratio float
            /chain/failures_in_kill_window int
            /chain/failures_unexpected int
            /transfers list
            /transfers[]/bytes int
            /transfers[]/intact bool
            /transfers[]/name str
            /transfers[]/seconds float
            /transfers[]/wan_bytes int
            /app_bytes int
            /wan_bytes int
            /wan_reduction_ratio float
            /bulk_transfers int
            /bulk_bytes_sent int
            /bulk_bytes_received int
            /transfer_retries int
            /corrupted_bytes int
            /lost_bytes int
            /repeat_wan_ratio_first float
            /repeat_wan_ratio_last float
            /compression_fallbacks int
            /duration_seconds float
            /steady_seconds int
            /zookeeper str
            /serving_seconds float
            /failover_seconds float
            /generation int
            /workers list
            /events list
            /events[]/at_seconds float
            /events[]/detail str
            /events[]/detected bool
            /events[]/detection_seconds float
            /events[]/event str
            /events[]/worker str
            /workers_stopped_cleanly int
            /scale_out_seconds float
            /scale_in_seconds float
            /scale/cold_start_seconds float
            /scale/step_to_decision_seconds float
            /scale/decision_to_serving_seconds float
            /scale/decision_to_traffic_seconds float
            /scale/drop_to_decision_seconds float
            /scale/peak_replicas int
            /scale/final_replicas int
            /scale/flows int
            /scale/flows_intact int
            /scale/timeline list
            /scale/timeline[] str
            /failures list
            """;

    private static final DemoReport.ScaleStep SCALE = new DemoReport.ScaleStep(5.0, 7.0, new DemoReport.Scale(3.0,
            1.0, 2.0, 2.5, 5.0, 3, 1, 16, 16, List.of("[  0.00 s] load step: 12 flows")));

    /** Chained web traffic: 7 MiB from the origin through the tunnel, 1 MiB on the WAN (ratio a whole number). */
    private static DemoReport.Chain chain(long missesViaTunnel, long failuresUnexpected) {
        return new DemoReport.Chain(1200, 1050, missesViaTunnel, 0, 0, 40, 30, 7340032, 1048576, 1.0, 3,
                failuresUnexpected);
    }

    /** A run's report with whole-number doubles (they must stay floats in JSON) and the given losses. */
    private static DemoReport report(long lostBytes, long corruptedBytes, long httpFailuresUnexpected,
                                     double killWindowSeconds, double failoverDataPlaneSeconds,
                                     DemoReport.ScaleStep scaleStep) {
        return report(lostBytes, corruptedBytes, httpFailuresUnexpected, killWindowSeconds, failoverDataPlaneSeconds,
                scaleStep, chain(110, 0));
    }

    private static DemoReport report(long lostBytes, long corruptedBytes, long httpFailuresUnexpected,
                                     double killWindowSeconds, double failoverDataPlaneSeconds,
                                     DemoReport.ScaleStep scaleStep, DemoReport.Chain chain) {
        DemoReport.WarmUp warmUp = new DemoReport.WarmUp(13.0, 7.0);
        DemoReport.Traffic traffic = new DemoReport.Traffic(298.0, 12600, 12 + httpFailuresUnexpected, 12,
                httpFailuresUnexpected, killWindowSeconds, failoverDataPlaneSeconds, 0.94, 721, 5906432, 0.94, 1.0,
                60.0);
        DemoReport.Bulk bulk = new DemoReport.Bulk(List.of(new DemoReport.Transfer("file v1", 16 << 20, 7549747,
                4.0, true)), 738197504, 16473670, 0.022, 45, 754974720, 754974720 - lostBytes, 0, corruptedBytes,
                lostBytes, 0.0005, 0.0005);
        List<DemoReport.Event> events = List.of(
                new DemoReport.Event("serving", 11.0, "fleet serving and configured 11.0 s after start", null),
                new DemoReport.Event("kill", 35.0, "killed cache-a2 (SIGKILL, pid 7151): out of the steering set",
                        new DemoReport.Kill("cache-a2", true, 0.089)));
        DemoReport.Fleet fleet = new DemoReport.Fleet(47.0, 20, "127.0.0.1:61440", 11.0, 0.089, 10,
                List.of(FleetJson.mapper().createObjectNode().put("id", "cache-a1").put("role", "cache")), events);
        return new DemoReport(new DemoReport.FleetRun(warmUp, traffic, chain, bulk, 39, fleet, 4), scaleStep);
    }

    private static DemoReport clean() {
        return report(0, 0, 0, 0.2, 0.1, SCALE);
    }

    private static JsonNode json(DemoReport report) throws Exception {
        return new ObjectMapper().readTree(report.toJson());
    }

    @Test
    void toJson_wholeRun_hasTheRecordedKeysNestingAndTypesInOrder() throws Exception {
        assertThat(shape(json(clean()))).containsExactlyElementsOf(RECORDED_SHAPE.lines().toList());
    }

    @Test
    void toJson_values_landUnderTheirKeys() throws Exception {
        JsonNode json = json(clean());
        assertThat(json.path("gateway_connections").asText()).isEqualTo("298.0");
        assertThat(json.path("http_failures").asLong()).isEqualTo(12);
        assertThat(json.path("http_failures_in_kill_window").asLong()).isEqualTo(12);
        assertThat(json.path("kill_window_seconds").asDouble()).isEqualTo(0.2);
        assertThat(json.path("failover_data_plane_seconds").asDouble()).isEqualTo(0.1);
        assertThat(json.path("bulk_bytes_received").asLong()).isEqualTo(754974720L);
        assertThat(json.path("steady_seconds").asLong()).isEqualTo(20);
        assertThat(json.path("failover_seconds").asDouble()).isEqualTo(0.089);
        assertThat(json.path("workers").get(0).path("id").asText()).isEqualTo("cache-a1");
        assertThat(json.path("transfers").get(0).path("wan_bytes").asLong()).isEqualTo(7549747);
        assertThat(json.path("scale").path("timeline").get(0).asText()).isEqualTo("[  0.00 s] load step: 12 flows");
        assertThat(json.path("failures")).isEmpty();
        JsonNode chain = json.path("chain");
        assertThat(fieldNames(chain)).containsExactly("requests", "hits", "misses_via_tunnel", "bypassed",
                "hop_failures", "not_modified", "object_changes", "origin_bytes", "wan_bytes", "wan_ratio",
                "failures_in_kill_window", "failures_unexpected");
        assertThat(chain.path("requests").asLong()).isEqualTo(1200);
        assertThat(chain.path("hits").asLong()).isEqualTo(1050);
        assertThat(chain.path("misses_via_tunnel").asLong()).isEqualTo(110);
        assertThat(chain.path("not_modified").asLong()).isEqualTo(40);
        assertThat(chain.path("object_changes").asLong()).isEqualTo(30);
        assertThat(chain.path("origin_bytes").asLong()).isEqualTo(7340032);
        assertThat(chain.path("wan_bytes").asLong()).isEqualTo(1048576);
        assertThat(chain.path("wan_ratio").asText()).isEqualTo("1.0");
        assertThat(chain.path("failures_in_kill_window").asLong()).isEqualTo(3);
        assertThat(chain.path("failures_unexpected").asLong()).isZero();
    }

    @Test
    void toJson_eventOtherThanTheKill_hasOnlyEventTimeAndDetail() throws Exception {
        JsonNode events = json(clean()).path("events");
        assertThat(fieldNames(events.get(0))).containsExactly("event", "at_seconds", "detail");
        assertThat(fieldNames(events.get(1)))
                .containsExactly("event", "at_seconds", "detail", "worker", "detected", "detection_seconds");
        assertThat(events.get(1).path("detection_seconds").asDouble()).isEqualTo(0.089);
    }

    @Test
    void toJson_skippedScaleStep_leavesTheScaleKeysOut() throws Exception {
        JsonNode json = json(report(0, 0, 0, 0.2, 0.1, null));
        assertThat(json.has("scale_out_seconds") || json.has("scale_in_seconds") || json.has("scale")).isFalse();
        assertThat(shape(json)).containsExactlyElementsOf(RECORDED_SHAPE.lines()
                .filter(line -> !line.startsWith("/scale")).toList());
    }

    @Test
    void toJson_failedRun_listsTheReasons() throws Exception {
        JsonNode failures = json(report(3, 0, 0, -1, 0.1, SCALE)).path("failures");
        assertThat(failures).hasSize(2);
        assertThat(failures.get(0).asText()).contains("3 bulk bytes lost");
        assertThat(failures.get(1).asText()).contains("never got a steering table");
        assertThat(json(report(3, 0, 0, -1, 0.1, SCALE)).path("kill_window_seconds").asText()).isEqualTo("-1.0");
    }

    @Test
    void write_newDirectory_createsItAndEndsWithANewline(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("reports/demo.json");
        clean().write(file);
        String text = Files.readString(file);
        assertThat(text).endsWith("}\n");
        assertThat(new ObjectMapper().readTree(text)).isEqualTo(json(clean()));
    }

    @Test
    void scaleStepOf_scenarioResult_keepsEveryFigureInItsPlace() {
        ScaleScenario.Result r = new ScaleScenario.Result();
        r.scaleOutSeconds = 1;
        r.scaleInSeconds = 2;
        r.coldStartSeconds = 3;
        r.stepToDecisionSeconds = 4;
        r.decisionToServingSeconds = 5;
        r.decisionToTrafficSeconds = 6;
        r.dropToDecisionSeconds = 7;
        r.peakReplicas = 8;
        r.finalReplicas = 9;
        r.flows = 10;
        r.flowsIntact = 11;
        r.timeline.add("t");
        assertThat(DemoReport.ScaleStep.of(r)).isEqualTo(new DemoReport.ScaleStep(1, 2,
                new DemoReport.Scale(3, 4, 5, 6, 7, 8, 9, 10, 11, List.of("t"))));
    }

    @Test
    void print_wholeRun_showsTheFiguresAndTheScalePartOnlyWhenRun() {
        StringWriter text = new StringWriter();
        clean().print(new PrintWriter(text));
        assertThat(text.toString()).startsWith("report:").contains(
                "  corrupted bytes / lost bytes         0 / 0",
                "  HTTP failed in the kill window (200 ms) 12; unexpected 0; of 12600",
                "  chained web (cache+wanopt, site B)   1200 requests, 1050 hits, 110 misses via the tunnel;"
                        + " origin 7340032 bytes, WAN 1048576 bytes (1.000); failed 3 in the kill window, unexpected 0",
                "  autoscaling back to 1 after drop     7.00 s, 16 of 16 flows intact");
        StringWriter withoutScale = new StringWriter();
        report(0, 0, 0, 0.2, 0.1, null).print(new PrintWriter(withoutScale));
        assertThat(withoutScale.toString()).contains("configuration generation").doesNotContain("autoscaling");
    }

    // Moved from DemoFailuresTest (the report was a JSON tree then).

    @Test
    void failures_cleanRun_withFailuresOnlyInTheKillWindow_isEmpty() {
        assertThat(clean().failures()).isEmpty();
    }

    @Test
    void failures_eachKindOfLoss_isNamed() {
        assertThat(report(16777216, 0, 0, 0.2, 0.1, SCALE).failures()).singleElement().asString()
                .contains("16777216 bulk bytes lost");
        assertThat(report(0, 3, 0, 0.2, 0.1, SCALE).failures()).singleElement().asString()
                .contains("wrong digest");
        assertThat(report(0, 0, 1, 0.2, 0.1, SCALE).failures()).singleElement().asString()
                .contains("1 HTTP requests failed outside the kill window");
        assertThat(report(0, 0, 0, -1, 0.1, SCALE).failures()).singleElement().asString()
                .contains("never got a steering table without the killed worker");
        assertThat(report(0, 0, 0, 0.2, -1, SCALE).failures()).singleElement().asString()
                .contains("no key the killed worker owned");
        assertThat(report(0, 0, 0, 0.2, 0.1, SCALE, chain(110, 2)).failures()).singleElement().asString()
                .contains("2 chained HTTP requests (cache+wanopt, origin behind site B) failed outside the kill window");
        assertThat(report(0, 0, 0, 0.2, 0.1, SCALE, chain(0, 0)).failures()).singleElement().asString()
                .contains("no chained miss went through the wanopt pair");
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /**
     * One line per key path and JSON type, in document order; an array's line is followed by the union of its
     * elements (object keys sorted). {@code workers} is the controller's rendering ({@link FleetJson#worker}),
     * tested with it, so only its presence counts here.
     */
    static List<String> shape(JsonNode root) {
        List<String> lines = new ArrayList<>();
        shape(root, "", lines);
        return lines;
    }

    private static void shape(JsonNode node, String path, List<String> lines) {
        if (node.isObject()) {
            node.fields().forEachRemaining(f -> shape(f.getValue(), path + "/" + f.getKey(), lines));
        } else if (node.isArray()) {
            lines.add(path + " list");
            if (path.equals("/workers")) {
                return;
            }
            Map<String, JsonNode> fields = new TreeMap<>();
            Set<String> scalars = new LinkedHashSet<>();
            for (JsonNode element : node) {
                if (element.isObject()) {
                    element.fields().forEachRemaining(f -> fields.putIfAbsent(f.getKey(), f.getValue()));
                } else {
                    scalars.add(path + "[] " + type(element));
                }
            }
            fields.forEach((name, value) -> shape(value, path + "[]/" + name, lines));
            lines.addAll(scalars);
        } else {
            lines.add(path + " " + type(node));
        }
    }

    private static String type(JsonNode node) {
        if (node.isBoolean()) {
            return "bool";
        } else if (node.isIntegralNumber()) {
            return "int";
        } else if (node.isFloatingPointNumber()) {
            return "float";
        } else if (node.isTextual()) {
            return "str";
        }
        return node.getNodeType().name();
    }
}
