package io.slipstream.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

class BenchJsonOptionTest {

    @Command(name = "demo-bench")
    static final class DemoBench implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        BenchJsonOption json;

        @Override
        public Integer call() throws Exception {
            BenchReport report = new BenchReport("demo").add("ops/s", 2, "peer", 1, BenchReport.Better.HIGHER);
            json.write(report, spec.commandLine().getOut());
            return 0;
        }
    }

    private final StringWriter out = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new DemoBench());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(new StringWriter(), true));
        return cmd.execute(args);
    }

    @Test
    void write_withJsonFile_writesReportAndSaysWhere(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("reports/demo.json");

        assertThat(run("--json", file.toString())).isZero();

        assertThat(Files.readString(file)).isEqualTo(
                new BenchReport("demo").add("ops/s", 2, "peer", 1, BenchReport.Better.HIGHER).toJson() + "\n");
        assertThat(out.toString()).isEqualTo("wrote " + file + System.lineSeparator());
    }

    @Test
    void write_withoutOption_writesAndPrintsNothing() {
        assertThat(run()).isZero();

        assertThat(out.toString()).isEmpty();
    }

    @Test
    void usage_listsJsonOptionWithLabelAndHelp() {
        String usage = new CommandLine(new DemoBench()).getUsageMessage();

        assertThat(usage).contains("--json=FILE").contains("Also write the report as JSON");
    }
}
