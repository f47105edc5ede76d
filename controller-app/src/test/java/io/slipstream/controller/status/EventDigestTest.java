package io.slipstream.controller.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.slipstream.controller.fleet.FleetEvent;
import io.slipstream.controller.scale.ScaleDecision;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventDigestTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Map<String, String> ROLES = Map.of("wan-a1", "wanopt", "wan-a2", "wanopt", "wan-a3", "wanopt",
            "wan-b1", "wanopt", "wan-b2", "wanopt", "cache-a1", "cache");

    private static List<FleetEvent> qatMissingOnFive() {
        List<FleetEvent> events = new ArrayList<>();
        int i = 0;
        for (String id : List.of("wan-a1", "wan-a2", "wan-a3", "wan-b1", "wan-b2")) {
            events.add(new FleetEvent(T0.plusSeconds(i++), id, "compression_unavailable",
                    "hardware provider qat unavailable: QATzip not installed"));
        }
        events.add(new FleetEvent(T0.plusSeconds(10), "cache-a1", "down", "UNAVAILABLE: io exception"));
        return events;
    }

    @Test
    void digest_sameFactOnFiveWorkers_oneLineNamingTheCountAndTheReason() {
        List<EventDigest.Line> lines = EventDigest.digest(qatMissingOnFive(), List.of(), ROLES::get,
                EventDigest.Filter.NONE);

        assertThat(lines).extracting(EventDigest.Line::text).containsExactly(
                "down on cache-a1: UNAVAILABLE: io exception",
                "hardware compression (qat) unavailable on 5 workers: QATzip not installed");
        assertThat(lines).extracting(EventDigest.Line::severity).containsExactly("error", "error");
        assertThat(lines.get(1).raw()).hasSize(5);
        assertThat(lines.get(1).workers()).containsExactly("wan-a1", "wan-a2", "wan-a3", "wan-b1", "wan-b2");
    }

    @Test
    void digest_detailsDifferOnlyInTemporaryFileNames_oneLineWithTheNamesElided() {
        List<FleetEvent> events = List.of(
                new FleetEvent(T0, "wan-a1", "compression_unavailable", "hardware provider qat unavailable: "
                        + "UnsatisfiedLinkError: /tmp/libqat-java7888118385983871.so: libqatzip.so.3: cannot open"),
                new FleetEvent(T0.plusSeconds(1), "wan-a2", "compression_unavailable", "hardware provider qat unavailable: "
                        + "UnsatisfiedLinkError: /tmp/libqat-java4749970869923480.so: libqatzip.so.3: cannot open"));
        List<EventDigest.Line> lines = EventDigest.digest(events, List.of(), ROLES::get, EventDigest.Filter.NONE);
        assertThat(lines).extracting(EventDigest.Line::text).containsExactly("hardware compression (qat) unavailable on"
                + " 2 workers: UnsatisfiedLinkError: /tmp/libqat-java\u2026.so: libqatzip.so.3: cannot open");
        assertThat(lines.get(0).raw()).extracting(FleetEvent::detail).allMatch(d -> d.contains("/tmp/libqat-java"))
                .doesNotHaveDuplicates();
    }

    @Test
    void digest_sameFactMoreThanABurstApart_twoLines() {
        List<FleetEvent> events = List.of(
                new FleetEvent(T0, "wan-a1", "not_serving", ""),
                new FleetEvent(T0.plus(EventDigest.BURST).plusSeconds(1), "wan-a2", "not_serving", ""));
        assertThat(EventDigest.digest(events, List.of(), ROLES::get, EventDigest.Filter.NONE))
                .extracting(EventDigest.Line::text).containsExactly("not serving on wan-a2", "not serving on wan-a1");
    }

    @Test
    void digest_oneWorkerTwice_saysHowOften() {
        List<FleetEvent> events = List.of(new FleetEvent(T0, "wan-a1", "down", "x"),
                new FleetEvent(T0.plusSeconds(5), "wan-a1", "down", "x"));
        assertThat(EventDigest.digest(events, List.of(), ROLES::get, EventDigest.Filter.NONE))
                .extracting(EventDigest.Line::text).containsExactly("down on wan-a1 (2 times): x");
    }

    @Test
    void digest_filterByWorkerRoleAndKind_keepsOnlyMatchingLines() {
        List<FleetEvent> events = qatMissingOnFive();
        ScaleDecision decision = new ScaleDecision("cache", "a", T0.plusSeconds(20), 1, 2, 2, 0.9,
                ScaleDecision.Reason.OVERLOAD);
        assertThat(EventDigest.digest(events, List.of(decision), ROLES::get, new EventDigest.Filter("wan-b1", null, null)))
                .extracting(EventDigest.Line::kind).containsExactly("compression_unavailable");
        assertThat(EventDigest.digest(events, List.of(decision), ROLES::get, new EventDigest.Filter(null, "cache", null)))
                .extracting(EventDigest.Line::text).containsExactly("scaling: cache at site a: 1 -> 2 (overload)",
                        "down on cache-a1: UNAVAILABLE: io exception");
        assertThat(EventDigest.digest(events, List.of(decision), ROLES::get, new EventDigest.Filter(null, null, "down")))
                .extracting(EventDigest.Line::kind).containsExactly("down");
        assertThat(EventDigest.digest(events, List.of(decision), ROLES::get, new EventDigest.Filter("cache-a1", "wanopt",
                null))).isEmpty();
    }

    @Test
    void toJson_filtered_linesWithRawDetailAndTheChoicesOfAllLines() {
        JsonNode json = EventDigest.toJson(qatMissingOnFive(), List.of(), id -> null,
                EventDigest.Filter.parse("kind=down"));
        assertThat(json.path("lines")).hasSize(1);
        JsonNode line = json.path("lines").get(0);
        assertThat(line.path("severity").asText()).isEqualTo("error");
        assertThat(line.path("raw").get(0).path("detail").asText()).isEqualTo("UNAVAILABLE: io exception");
        assertThat(line.path("roles")).isEmpty();
        assertThat(json.path("kinds")).extracting(JsonNode::asText).containsExactly("compression_unavailable", "down");
        assertThat(json.path("workers")).hasSize(6);
    }

    @Test
    void severity_zookeeper_warningOnlyWhenDisconnected() {
        assertThat(EventDigest.severity("zookeeper", "disconnected; keeping last known membership")).isEqualTo("warning");
        assertThat(EventDigest.severity("zookeeper", "connected")).isEqualTo("info");
        assertThat(EventDigest.severity("joined", "")).isEqualTo("info");
    }

    @Test
    void filterParse_goodAndBadQueries() {
        assertThat(EventDigest.Filter.parse("worker=wan-a1&role=&kind=down"))
                .isEqualTo(new EventDigest.Filter("wan-a1", null, "down"));
        assertThat(EventDigest.Filter.parse(null)).isEqualTo(EventDigest.Filter.NONE);
        assertThatThrownBy(() -> EventDigest.Filter.parse("site=a"))
                .hasMessage("query parameter 'site' (expected: worker, role or kind)");
        assertThatThrownBy(() -> EventDigest.Filter.parse("worker=%3Cscript%3E"))
                .hasMessage("query parameter worker: '%3Cscript%3E' (expected: 1 to 64 of A-Z a-z 0-9 . _ -)");
        assertThatThrownBy(() -> EventDigest.Filter.parse("kind=" + "k".repeat(65)))
                .hasMessageStartingWith("query parameter kind: 'kkkk");
    }
}
