package io.slipstream.controller.local;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A worker running as a separate JVM on this machine, started with the classpath of the current
 * JVM (which must hold the worker classes: the launcher jar, or a test classpath). Its output goes
 * to a log file. {@link #close()} asks it to stop (SIGTERM: it drains and deregisters) and kills it
 * if it has not stopped within the grace.
 */
public final class LocalWorkerProcess implements Closeable {

    /** Main class of the worker JVM. */
    public static final String WORKER_MAIN = "io.slipstream.worker.WorkerMain";

    /** JVM flags that favour a fast start over peak throughput for a small control-plane worker. */
    public static final List<String> DEFAULT_JVM_FLAGS = List.of(
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx192m", "-XX:-UsePerfData",
            "-Xshare:auto");

    private final String id;
    private final Process process;
    private final Path log;

    private LocalWorkerProcess(String id, Process process, Path log) {
        this.id = id;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts a worker JVM.
     *
     * @param id worker id
     * @param workerArgs arguments after the main class (besides --id), e.g. {@code --role wanopt --site a --zookeeper ...}
     * @param logDir where {@code <id>.log} is written
     */
    public static LocalWorkerProcess start(String id, List<String> workerArgs, Path logDir) throws IOException {
        Objects.requireNonNull(id, "id");
        Files.createDirectories(logDir);
        Path log = logDir.resolve(id + ".log");
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(DEFAULT_JVM_FLAGS);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(WORKER_MAIN);
        command.add("--id");
        command.add(id);
        command.addAll(workerArgs);
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new LocalWorkerProcess(id, process, log);
    }

    public String id() {
        return id;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** SIGKILL: the worker gets no chance to deregister or say goodbye. */
    public void kill() {
        process.destroyForcibly();
    }

    /** Waits for the process to exit. */
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        return process.waitFor(timeout, unit);
    }

    /** SIGTERM, then SIGKILL after five seconds. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
