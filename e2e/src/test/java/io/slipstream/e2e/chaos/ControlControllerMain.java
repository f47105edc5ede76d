package io.slipstream.e2e.chaos;

import io.slipstream.controller.standalone.ControllerCommand;
import picocli.CommandLine;

/** What {@code bin/slipstream controller} runs ({@link ControllerCommand}), as a main on the test classpath. */
public final class ControlControllerMain {

    private ControlControllerMain() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new ControllerCommand()).execute(args));
    }
}
