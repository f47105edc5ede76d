package io.slipstream.cli;

import io.slipstream.controller.standalone.ControllerCommand;
import io.slipstream.worker.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bin/slipstream}: every Slipstream command in one jar. Wiring only. */
@Command(name = "slipstream", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Slipstream: an SDN-controlled fleet of WAN-optimizer and HTTP-cache workers.",
        subcommands = {
            DemoCommand.class,
            WorkerCommand.class,
            ControllerCommand.class,
            ZooKeeperCommand.class,
            BenchCommand.class,
            PolicyCommand.class,
            CdsTrainingCommand.class,
        })
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests execute it in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof IllegalArgumentException) {
                commandLine.getErr().println("slipstream " + commandLine.getCommandName() + ": " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }

    /** Version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"slipstream " + (v == null ? "dev" : v)};
        }
    }
}
