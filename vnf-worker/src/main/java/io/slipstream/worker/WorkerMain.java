package io.slipstream.worker;

import picocli.CommandLine;

/** Entry point of a worker JVM ({@code java -cp ... io.slipstream.worker.WorkerMain --role ...}). */
public final class WorkerMain {

    private WorkerMain() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new WorkerCommand()).execute(args));
    }
}
