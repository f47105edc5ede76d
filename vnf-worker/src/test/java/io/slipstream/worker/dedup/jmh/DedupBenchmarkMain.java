package io.slipstream.worker.dedup.jmh;

import java.util.Collection;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link DedupBenchmark} with JMH's command-line options (e.g. {@code -f 1 -wi 2 -i 3 -w 1s -r 1s}) and
 * prints each score as GB/s per thread.
 */
public final class DedupBenchmarkMain {

    private DedupBenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder options = new OptionsBuilder();
        options.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            options.include(DedupBenchmark.class.getName());
        }
        Collection<RunResult> results = new Runner(options.build()).run();
        System.out.println();
        System.out.println("Per thread, " + DedupBenchmark.BYTES + " bytes per operation:");
        for (RunResult r : results) {
            double opsPerSecond = r.getPrimaryResult().getScore();
            double error = r.getPrimaryResult().getScoreError();
            String name = r.getParams().getBenchmark();
            System.out.printf("%-24s %7.2f GB/s (± %.2f)%n", name.substring(name.lastIndexOf('.') + 1),
                    opsPerSecond * DedupBenchmark.BYTES / 1e9, error * DedupBenchmark.BYTES / 1e9);
        }
    }
}
