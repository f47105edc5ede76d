package io.slipstream.e2e.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.e2e.Metrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The standalone controller as a separate JVM ({@code slipstream controller}'s command, started with this JVM's
 * class path like {@link LocalWorkerProcess} starts workers), so that a test can kill it with SIGKILL. Output goes
 * to {@code <name>.log}.
 */
final class ControlControllerProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int httpPort;
    private final Path log;

    private ControlControllerProcess(Process process, int httpPort, Path log) {
        this.process = process;
        this.httpPort = httpPort;
        this.log = log;
    }

    /**
     * @param name log file name (without {@code .log})
     * @param policyFile fleet policy JSON, as {@code --policy} reads it
     * @param tlsDir the controller's certificate, key and the fleet CA ({@code --tls-dir})
     */
    static ControlControllerProcess start(String name, String zookeeper, int httpPort, Path policyFile,
                                          long membershipGraceMillis, Path tlsDir, Path logDir) throws IOException {
        return start(name, zookeeper, httpPort, policyFile, membershipGraceMillis, tlsDir, logDir, List.of());
    }

    /**
     * As above, with more arguments ({@code --name}, {@code --admin-tokens-file}, ...); {@code tlsDir} null runs the
     * controller with {@code --insecure-plaintext}.
     */
    static ControlControllerProcess start(String name, String zookeeper, int httpPort, Path policyFile,
                                          long membershipGraceMillis, Path tlsDir, Path logDir, List<String> extra)
            throws IOException {
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-XX:-UsePerfData"));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ControlControllerMain.class.getName());
        command.addAll(List.of("--zookeeper", zookeeper, "--http", "127.0.0.1:" + httpPort,
                "--policy", policyFile.toString(), "--membership-grace-ms", Long.toString(membershipGraceMillis)));
        command.addAll(tlsDir == null ? List.of("--insecure-plaintext") : List.of("--tls-dir", tlsDir.toString()));
        command.addAll(extra);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new ControlControllerProcess(process, httpPort, log);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** The JSON this controller answers at {@code path}, or an empty object when it does not answer (killed). */
    JsonNode json(String path) {
        try {
            return JSON.readTree(Metrics.get(baseUrl() + path));
        } catch (Exception e) {
            return JSON.createObjectNode();
        }
    }

    /** Whether this controller says it leads ({@code /api/status}). */
    boolean leads() {
        return json("/api/status").path("leader").path("self").asBoolean(false);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path log() {
        return log;
    }

    /** SIGKILL, and waits for the process to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL after five seconds. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
