package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A tiny run of {@code bench gateway} when haproxy and wrk are installed (bin/test-packages); skipped otherwise. */
class GatewayBenchIT {

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
    void benchGateway_tinyRun_writesEveryRowAgainstHaproxy(@TempDir Path dir) throws Exception {
        assumeTrue(installed("haproxy", "-v") && installed("wrk", "-v"),
                "haproxy and wrk are needed (apt-get install -y haproxy wrk)");
        Path json = dir.resolve("gateway.json");
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        int exit = cli.execute("bench", "gateway", "--duration-s", "1", "--repetitions", "1", "--connections", "4",
                "--throughput-mib", "8", "--json", json.toString());
        System.out.println(out);
        assertThat(exit).isZero();
        assertThat(out.toString()).contains("ours/theirs: connections/s");
        JsonNode report = new ObjectMapper().readTree(json.toFile());
        assertThat(report.path("bench").asText()).isEqualTo("gateway");
        assertThat(report.path("rows")).hasSize(4);
        for (JsonNode row : report.path("rows")) {
            assertThat(row.path("ours").asDouble()).isPositive();
            assertThat(row.path("theirs").asDouble()).isPositive();
            assertThat(row.path("peer").asText()).startsWith("haproxy ");
        }
    }

    @Test
    void benchGateway_badArguments_failSayingWhatIsExpected() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("bench", "gateway", "--threads", "0");
        assertThat(exit).isNotZero();
        assertThat(err.toString()).contains("--threads 1..64 expected");
    }
}
