package io.slipstream.cli;

import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.proto.v1.FleetPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code slipstream policy validate FILE}. */
@Command(name = "policy", mixinStandardHelpOptions = true, description = "Fleet policy tools.",
        subcommands = PolicyCommand.Validate.class)
final class PolicyCommand {

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check a fleet policy JSON file; prints every problem with its JSON path, exits 1 if any.")
    static final class Validate implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "Fleet policy JSON")
        Path file;

        @Override
        public Integer call() throws IOException {
            String json;
            try {
                json = Files.readString(file);
            } catch (NoSuchFileException e) {
                spec.commandLine().getErr().println(file + ": no such file");
                return 1;
            }
            try {
                FleetPolicy policy = FleetPolicies.parse(json);
                spec.commandLine().getOut().println(file + ": valid (" + policy.getPoliciesCount() + " policies)");
                return 0;
            } catch (PolicyException e) {
                spec.commandLine().getErr().println(file + ": " + e.problems().size() + " problem(s)");
                for (String problem : e.problems()) {
                    spec.commandLine().getErr().println("  " + problem);
                }
                return 1;
            }
        }
    }
}
