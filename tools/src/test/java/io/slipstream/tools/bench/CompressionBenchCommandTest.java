package io.slipstream.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CompressionBenchCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new CompressionBenchCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    private static boolean zstdInstalled() {
        try {
            return new ProcessBuilder("zstd", "--version").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void bench_tinyCorpus_writesReportWithPeerRows(@TempDir Path dir) throws Exception {
        assumeTrue(zstdInstalled(), "needs the zstd CLI (Debian package zstd; bin/test installs it)");
        Path json = dir.resolve("compression.json");

        int rc = run("--size-mib", "1", "--repetitions", "1", "--level", "3", "--json", json.toString());

        assertThat(rc).as(err.toString()).isZero();
        JsonNode root = new ObjectMapper().readTree(Files.readString(json));
        assertThat(root.get("bench").asText()).isEqualTo("compression");
        assertThat(root.get("rows")).hasSize(5);
        for (JsonNode row : root.get("rows")) {
            assertThat(row.fieldNames()).toIterable()
                    .containsExactly("metric", "ours", "peer", "theirs", "ratio", "better");
            assertThat(row.get("ours").asDouble()).isPositive();
            assertThat(row.get("theirs").asDouble()).isPositive();
            assertThat(row.get("better").asText()).isEqualTo("higher");
        }
        assertThat(root.get("rows").get(0).get("metric").asText()).isEqualTo("zstd-3 compress MB/s");
        assertThat(root.get("rows").get(0).get("peer").asText()).startsWith("zstd-cli ").endsWith(" -T1");
        assertThat(root.get("rows").get(3).get("peer").asText()).isEqualTo("direct engine");
        assertThat(out.toString()).contains("goal: zstd compression within 1.25x").contains("switch cost");
    }

    @Test
    void bench_zstdCliMissing_saysSoAndExitsNonZero() {
        int rc = run("--size-mib", "1", "--zstd", "/nonexistent/zstd");

        assertThat(rc).isEqualTo(CompressionBenchCommand.EXIT_NO_PEER);
        assertThat(err.toString()).contains("zstd command line tool").contains("apt-get install -y zstd");
    }
}
