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
    private final java.time.Instant launchedAt;

    private LocalWorkerProcess(String id, Process process, Path log, java.time.Instant launchedAt) {
        this.id = id;
        this.process = process;
        this.log = log;
        this.launchedAt = launchedAt;
    }

    /**
     * Starts a worker JVM.
     *
     * @param id worker id
     * @param workerArgs arguments after the main class (besides --id), e.g. {@code --role wanopt --site a --zookeeper ...}
     * @param logDir where {@code <id>.log} is written, and {@code <id>-chunk-store/} unless the arguments name
     *     another {@code --chunk-store-dir}
     */
    public static LocalWorkerProcess start(String id, List<String> workerArgs, Path logDir) throws IOException {
        return start(id, workerArgs, logDir, DEFAULT_JVM_FLAGS, true);
    }

    /**
     * Starts a worker JVM with the given JVM flags, and the launcher's class-data-sharing archive when
     * {@code sharedArchive} and there is one (benchmarks start one without both to compare).
     */
    public static LocalWorkerProcess start(String id, List<String> workerArgs, Path logDir, List<String> jvmFlags,
                                           boolean sharedArchive) throws IOException {
        Objects.requireNonNull(id, "id");
        Files.createDirectories(logDir);
        Path log = logDir.resolve(id + ".log");
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        String classPath = System.getProperty("java.class.path");
        Path archive = sharedArchive ? sharedArchive(classPath) : null;
        if (archive != null) {
            command.add("-XX:SharedArchiveFile=" + archive);
            command.add("-Xlog:cds=off");
            command.add("-Xlog:cds+dynamic=off");
        }
        command.add("-cp");
        command.add(classPath);
        command.add(WORKER_MAIN);
        command.add("--id");
        command.add(id);
        if (!workerArgs.contains("--chunk-store-dir")) {
            // wanopt: the chunk stores on disk beside the log, found again when a worker of this id restarts
            command.add("--chunk-store-dir");
            command.add(logDir.resolve(id + "-chunk-store").toAbsolutePath().toString());
        }
        command.addAll(workerArgs);
        java.time.Instant launchedAt = java.time.Instant.now();
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new LocalWorkerProcess(id, process, log, launchedAt);
    }

    /**
     * The class-data-sharing archive the build made for this launcher jar ({@code slipstream.jsa} beside
     * {@code slipstream.jar}), or {@code null} when the class path is not a single jar or has none. A
     * stale archive is harmless: with {@code -Xshare:auto} the JVM checks it and starts without it.
     */
    /** The archive workers started from this JVM map, or {@code null}. */
    public static Path sharedArchiveOfThisLauncher() {
        return sharedArchive(System.getProperty("java.class.path"));
    }

    static Path sharedArchive(String classPath) {
        if (classPath == null || classPath.isEmpty() || classPath.contains(java.io.File.pathSeparator)
                || !classPath.endsWith(".jar")) {
            return null;
        }
        Path archive = Paths.get(classPath.substring(0, classPath.length() - ".jar".length()) + ".jsa");
        return Files.isRegularFile(archive) ? archive.toAbsolutePath() : null;
    }

    public String id() {
        return id;
    }

    /**
     * When this JVM asked the OS to start the process. (The OS's own start time, from
     * {@code ProcessHandle.Info}, is derived from a boot time in whole seconds: off by up to a second.)
     */
    public java.time.Instant launchedAt() {
        return launchedAt;
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
