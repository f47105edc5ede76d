package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.tools.bench.CacheBenchCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A tiny run of {@code bench cache} when varnishd and wrk are installed (bin/test-packages); skipped otherwise. */
class CacheBenchIT {

    private static boolean installed(String tool, String flag) {
        try {
            Process p = new ProcessBuilder(tool, flag).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void benchCache_tinyRun_writesEveryRowWithHitsOnly_thenTheChainRows(@TempDir Path dir) throws Exception {
        assumeTrue(installed("varnishd", "-V") && installed("wrk", "-v"),
                "varnishd and wrk are needed (apt-get install -y varnish wrk)");
        Path json = dir.resolve("cache.json");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        int exit = cli.execute("bench", "cache", "--duration-s", "1", "--warmup-s", "0", "--repetitions", "1",
                "--connections", "4", "--range-objects", "2", "--range-object-mib", "2", "--range-clients", "4",
                "--cold-object-mib", "4", "--chain-objects", "8", "--json", json.toString());
        System.out.println(out);
        assertThat(exit).isZero();
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.path("bench").asText()).isEqualTo("cache");
        assertThat(report.path("rows")).hasSize(12);
        assertThat(report.path("rows").get(6).path("metric").asText()).isEqualTo("range 1 MiB: Gbit/s");
        assertThat(report.path("rows").get(7).path("metric").asText()).isEqualTo("range 1 MiB: p99 ms");
        assertThat(report.path("rows").get(8).path("metric").asText()).isEqualTo("cold range of 4 MiB: first byte ms");
        assertThat(report.path("rows").get(9).path("metric").asText())
                .isEqualTo("chained refetch of changed objects WAN bytes");
        assertThat(report.path("rows").get(10).path("metric").asText()).isEqualTo("chained cold fetch WAN bytes");
        assertThat(report.path("rows").get(11).path("metric").asText()).isEqualTo("chained miss latency p50 ms");
        for (int i = 0; i < 12; i++) {
            JsonNode row = report.path("rows").get(i);
            assertThat(row.path("ours").asDouble()).isPositive();
            assertThat(row.path("theirs").asDouble()).isPositive();
            if (i < 9) {
                assertThat(row.path("peer").asText()).startsWith("varnish ");
            } else {
                assertThat(row.path("peer").asText()).isEqualTo("Varnish, misses over a plain relay");
            }
        }
    }

    @Test
    void parseWrk_latencyOutput_readsRequestsPerSecondAndPercentiles() {
        String output = "Running 5s test @ http://127.0.0.1:1/obj/1024\n"
                + "  1 threads and 32 connections\n"
                + "  Latency Distribution\n"
                + "     50%  248.00us\n"
                + "     75%  400.00us\n"
                + "     90%    1.01ms\n"
                + "     99%    2.45ms\n"
                + "  367549 requests in 5.00s, 417.31MB read\n"
                + "  Socket errors: connect 0, read 1, write 0, timeout 2\n"
                + "Requests/sec:  73509.91\n";
        CacheBenchCommand.WrkResult r = CacheBenchCommand.parseWrk(output);
        assertThat(r.requestsPerSecond()).isEqualTo(73509.91);
        assertThat(r.p50Millis()).isEqualTo(0.248);
        assertThat(r.p99Millis()).isEqualTo(2.45);
        assertThat(r.errors()).isEqualTo(3);
    }
}
