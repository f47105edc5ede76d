package io.slipstream.tools.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The bench commands' {@code --json FILE} option, applied with picocli's {@code @Mixin}. */
public final class BenchJsonOption {

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON")
    Path file;

    /** Writes {@code report} to the {@code --json} file and says so on {@code out}; nothing without the option. */
    public void write(BenchReport report, PrintWriter out) throws IOException {
        if (file != null) {
            report.writeJson(file);
            out.println("wrote " + file);
        }
    }
}
