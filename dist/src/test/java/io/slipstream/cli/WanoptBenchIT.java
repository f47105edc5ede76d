package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A tiny run of {@code bench wanopt} on generated data only (no download): every row present, ratios
 * computed, data verified by digest.
 */
class WanoptBenchIT {

    @Test
    void benchWanopt_tinyRun_writesEveryRow(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("wanopt.json");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        int exit = cli.execute("bench", "wanopt", "--throughput-mib", "4", "--file-mib", "1", "--rate-mbit", "200",
                "--delay-ms", "5", "--repetitions", "1", "--corpus", "generated", "--generated-mib", "1",
                "--echo-rounds", "50", "--chatty-pairs", "5", "--chatty-file-kib", "64", "--load-seconds", "1",
                "--json", json.toString());
        System.out.println(out);
        assertThat(exit).isZero();
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.path("bench").asText()).isEqualTo("wanopt");
        List<String> metrics = new ArrayList<>();
        report.path("rows").forEach(row -> metrics.add(row.path("metric").asText()));
        // The rsync and patch-from rows need the rsync and zstd CLIs; these rows are always there.
        assertThat(metrics).contains("incompressible MB/s (tunnel vs 2 plain relays)", "real second version WAN %",
                "first transfer vs zstd -3", "exact repeat WAN %", "encode MB/s, warm near-duplicate",
                "echo round trip 64 B p50 ms", "echo round trip 64 B p99 ms", "echo round trip 1500 B p99 ms",
                "echo round trip 20000 B p99 ms", "chatty workload seconds", "chatty file re-read seconds",
                "echo round trip under bulk load p99 ms");
        assertThat(out.toString()).contains("GENERATED source tree");
        // Both comparisons are timed only after untimed warm-up rounds of both paths (JitWarmUp).
        assertThat(out.toString()).contains("echo round trips: ").contains("incompressible, first run in a cold JVM")
                .containsPattern("\\d+ warm-up rounds? in");
        for (JsonNode row : report.path("rows")) {
            assertThat(row.path("ours").asDouble()).isPositive();
            assertThat(row.path("theirs").asDouble()).isPositive();
            assertThat(row.path("ratio").asDouble())
                    .isCloseTo(row.path("ours").asDouble() / row.path("theirs").asDouble(),
                            org.assertj.core.data.Offset.offset(1e-9));
            assertThat(row.path("better").asText()).isIn("higher", "lower");
        }
    }
}
