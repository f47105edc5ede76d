package io.slipstream.cli;

import io.slipstream.tools.bench.CacheBenchCommand;
import io.slipstream.tools.bench.CompressionBenchCommand;
import io.slipstream.tools.bench.GatewayBenchCommand;
import io.slipstream.tools.bench.WanoptBenchCommand;
import picocli.CommandLine.Command;

/** {@code slipstream bench X}: benchmarks that measure a peer side by side and print ratios. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks against a peer in the same run; --json FILE writes the rows.",
        subcommands = {CompressionBenchCommand.class, WanoptBenchCommand.class, CacheBenchCommand.class,
            ScaleBenchCommand.class, GatewayBenchCommand.class})
final class BenchCommand {
}
