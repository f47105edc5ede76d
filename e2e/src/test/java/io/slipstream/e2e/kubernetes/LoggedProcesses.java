package io.slipstream.e2e.kubernetes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The processes a test cluster part starts, each logging to {@code <dir>/<name>.log}: started in order,
 * checked for an early exit, and their log ends shown when something fails.
 */
final class LoggedProcesses {

    private final Path dir;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();

    LoggedProcesses(Path dir) {
        this.dir = dir;
    }

    /** Starts {@code command} in the directory, standard input from /dev/null, output to its log. */
    Process launch(String name, String... command) throws IOException {
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        processes.add(p);
        logs.add(log);
        return p;
    }

    /** Fails at once, with the end of its log, when one of the processes has exited. */
    void checkAlive() throws IOException {
        for (int i = 0; i < processes.size(); i++) {
            Process p = processes.get(i);
            if (!p.isAlive()) {
                List<String> lines = Files.readAllLines(logs.get(i), StandardCharsets.UTF_8);
                throw new IllegalStateException(logs.get(i).getFileName() + " exited with " + p.exitValue() + ":\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())));
            }
        }
    }

    /** The last lines of each process's log (for failures). */
    String logTails() {
        StringBuilder out = new StringBuilder();
        for (Path log : logs) {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
                out.append("\n--- ").append(log.getFileName()).append(" (last lines) ---\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            } catch (IOException e) {
                out.append("\n--- ").append(log.getFileName()).append(": ").append(e);
            }
        }
        return out.toString();
    }

    /** The processes, newest first (the order to stop them in); the list is a copy. */
    List<Process> newestFirst() {
        List<Process> copy = new ArrayList<>(processes);
        java.util.Collections.reverse(copy);
        return copy;
    }

    /** Forgets every process (after they were stopped). */
    void clear() {
        processes.clear();
    }
}
