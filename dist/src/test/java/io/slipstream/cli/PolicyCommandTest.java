package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class PolicyCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void validate_demoPolicy_isValid(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("p.json"), DemoCommand.DEMO_POLICY);
        assertThat(run("policy", "validate", file.toString())).isZero();
        assertThat(out.toString()).contains("valid (4 policies)");
    }

    @Test
    void validate_badPolicy_exitsOneNamingTheField(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("p.json"),
                DemoCommand.DEMO_POLICY.replace("\"198.18.1.0/24\"", "\"198.18.1.0/99\""));
        assertThat(run("policy", "validate", file.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("1 problem(s)")
                .contains("  $.policies[3].srcPrefixes[0]: '198.18.1.0/99' (expected: a prefix length 0..32)");
    }

    @Test
    void validate_missingFile_saysSo(@TempDir Path dir) {
        assertThat(run("policy", "validate", dir.resolve("nope.json").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no such file");
    }
}
