package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code slipstream demo} as a user runs it: real ZooKeeper, controller and worker JVMs; exits 0, leaves nothing. */
class DemoIT {

    @Test
    void demo_shortRun_reportsFleetAndLeavesNoProcess(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("report.json");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        long t0 = System.nanoTime();
        int exit = cli.execute("demo", "--duration", "8s", "--json", json.toString(),
                "--work-dir", dir.resolve("work").toString());
        System.out.println(out);
        System.out.printf("demo took %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(exit).isZero();
        assertThat(out.toString()).contains("fleet serving and configured", "killed cache-a2", "report:",
                "card_failure: compression card 'emulator' on wanopt-a1 unavailable");
        // Not a terminal: the progress display prints plain lines, one a second, with phase and rates.
        assertThat(out.toString()).doesNotContain("\r").containsPattern("steady +\\d+ s \\(steady \\d+/8 s\\) \\| WAN");

        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        // The killed worker is listed as down until its ZooKeeper session expires, then it is gone.
        assertThat(report.path("workers").size()).isBetween(DemoCommand.FLEET.size() - 1, DemoCommand.FLEET.size());
        for (JsonNode w : report.path("workers")) {
            assertThat(w.path("health").asText()).isEqualTo(w.path("id").asText().equals(DemoCommand.VICTIM)
                    ? "down" : "serving");
        }
        for (JsonNode w : report.path("workers")) {
            assertThat(w.path("id").asText()).isNotEmpty();
            assertThat(w.path("role").asText()).isIn("wanopt", "cache", "gateway");
            assertThat(w.path("site").asText()).isIn("a", "b");
            assertThat(w.path("health").asText()).isIn("serving", "down");
            assertThat(w.has("cpu") && w.has("bytes_in_per_second") && w.has("active_flows")).isTrue();
        }
        for (String key : new String[] {"wan_reduction_ratio", "wan_speedup", "cache_hit_ratio",
            "origin_bytes_saved_ratio", "latency_ms_p50", "latency_ms_p99", "failover_seconds", "scale_out_seconds",
            "scale_in_seconds", "compression_fallbacks", "corrupted_bytes", "lost_bytes", "workers", "events",
            "http_failures_in_kill_window", "http_failures_unexpected", "failover_data_plane_seconds", "failures",
            "chain"}) {
            assertThat(report.has(key)).as("report key %s", key).isTrue();
        }
        assertThat(report.path("failover_seconds").asDouble()).isBetween(0.0, 1.0);
        assertThat(report.path("corrupted_bytes").asLong()).isZero();
        assertThat(report.path("lost_bytes").asLong()).isZero();
        assertThat(report.path("bulk_bytes_received").asLong()).isEqualTo(report.path("bulk_bytes_sent").asLong())
                .isGreaterThanOrEqualTo(4L * DemoCommand.FILE_BYTES);
        assertThat(report.path("transfers")).allSatisfy(t -> assertThat(t.path("intact").asBoolean()).isTrue());
        // warm-up (3) and at least one transfer of the steady phase
        assertThat(report.path("transfers").size()).isGreaterThanOrEqualTo(4);
        assertThat(report.path("wan_speedup").asDouble()).isGreaterThan(1.0);
        assertThat(report.path("wan_reduction_ratio").asDouble()).isBetween(0.001, 0.9);
        // The card failed in the third transfer: every block after that went to software, each one counted.
        assertThat(report.path("compression_fallbacks").asLong()).isPositive();
        assertThat(report.path("events")).anySatisfy(e -> assertThat(e.path("event").asText()).isEqualTo("card_failure"));
        assertThat(report.path("events")).anySatisfy(e -> assertThat(e.path("event").asText()).isEqualTo("kill"));
        // Requests to the killed cache may fail only from the SIGKILL until the gateway re-steers; none other.
        assertThat(report.path("http_requests").asLong()).isGreaterThan(400);
        assertThat(report.path("http_failures_unexpected").asLong()).as("HTTP failures outside the kill window").isZero();
        assertThat(report.path("kill_window_seconds").asDouble()).isBetween(0.0, 1.0);
        assertThat(report.path("failover_data_plane_seconds").asDouble()).isBetween(0.0, 1.0);
        assertThat(report.path("failures")).isEmpty();
        // Chained web traffic (cache+wanopt): misses for the origin behind site B crossed the wanopt pair, every
        // body checked against the version its ETag names; near-duplicate versions cost less on the WAN.
        JsonNode chain = report.path("chain");
        assertThat(chain.path("requests").asLong()).as("chained requests").isPositive();
        assertThat(chain.path("misses_via_tunnel").asLong()).as("chained misses through the tunnel").isPositive();
        assertThat(chain.path("bypassed").asLong()).as("chained misses that bypassed the tunnel").isZero();
        assertThat(chain.path("failures_unexpected").asLong()).as("chained HTTP failures outside the kill window")
                .isZero();
        assertThat(chain.path("hits").asLong()).isBetween(0L, chain.path("requests").asLong());
        assertThat(chain.path("origin_bytes").asLong()).isGreaterThanOrEqualTo(DemoChainOrigin.OBJECT_BYTES);
        assertThat(chain.path("wan_bytes").asLong()).isPositive().isLessThan(chain.path("origin_bytes").asLong());
        assertThat(out.toString()).contains("chained web (cache+wanopt, site B)");
        // The steady phase's exact repeat of v1 goes as references (the chunk store on disk keeps it).
        assertThat(report.path("repeat_wan_ratio_first").asDouble()).isBetween(0.0, 0.02);
        assertThat(report.path("repeat_wan_ratio_last").asDouble()).isBetween(0.0, 0.02);
        // Every transfer and request went through the gateway (the only listener the clients use).
        assertThat(report.path("gateway_connections").asDouble()).isGreaterThanOrEqualTo(4 + 4);
        assertThat(report.path("cache_hit_ratio").asDouble()).isBetween(0.5, 1.0);
        assertThat(report.path("origin_bytes_saved_ratio").asDouble()).isBetween(0.5, 1.0);
        assertThat(report.path("latency_ms_p50").asDouble()).isPositive();
        assertThat(report.path("latency_ms_p99").asDouble()).isGreaterThanOrEqualTo(report.path("latency_ms_p50").asDouble());
        // The edited second version mostly travels as references to the first.
        assertThat(report.path("transfers").get(1).path("wan_bytes").asDouble())
                .isLessThan(report.path("transfers").get(1).path("bytes").asDouble() * 0.10);
        assertThat(report.path("workers_stopped_cleanly").asInt()).isEqualTo(DemoCommand.FLEET.size() - 1);
        // The autoscaled fleet grew 1 -> 3 under the load step and shrank back, every flow intact.
        assertThat(out.toString()).contains("fleet grew 1 -> 3", "fleet shrank 3 -> 1");
        assertThat(report.path("scale_out_seconds").asDouble()).isPositive();
        assertThat(report.path("scale_in_seconds").asDouble()).isPositive();
        assertThat(report.path("scale").path("peak_replicas").asInt()).isEqualTo(3);
        assertThat(report.path("scale").path("final_replicas").asInt()).isEqualTo(1);
        assertThat(report.path("scale").path("flows_intact").asInt())
                .isEqualTo(report.path("scale").path("flows").asInt()).isPositive();
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).count())
                .as("worker processes left behind").isZero();
    }

    @Test
    void demo_badDuration_isRejectedWithWhatWasExpected() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute("demo", "--duration", "soon")).isEqualTo(2);
        assertThat(err.toString()).contains("--duration: 'soon' (expected: e.g. 30s, 2m or 500ms)");
    }
}
