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
 *
 * <p>A worker outlives the controller that started it (its output goes to a file, not a pipe): a new leader
 * {@linkplain #adopt adopts} it by its pid, checked against its command line ({@code WorkerMain --id <id>}) so
 * that a reused pid is never mistaken for it (issue 23).
 */
public final class LocalWorkerProcess implements Closeable {

    /** Main class of the worker JVM. */
    public static final String WORKER_MAIN = "io.slipstream.worker.WorkerMain";

    /** JVM flags that favour a fast start over peak throughput for a small control-plane worker. */
    public static final List<String> DEFAULT_JVM_FLAGS = List.of(
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx192m", "-XX:-UsePerfData",
            "-Xshare:auto");

    private final String id;
    /** The child this JVM started, or {@code null} for an adopted worker. */
    private final Process process;
    private final ProcessHandle handle;
    private final Path log;
    private final java.time.Instant launchedAt;

    private LocalWorkerProcess(String id, Process process, ProcessHandle handle, Path log,
                               java.time.Instant launchedAt) {
        this.id = id;
        this.process = process;
        this.handle = handle;
        this.log = log;
        this.launchedAt = launchedAt;
    }

    /**
     * The worker {@code id} another controller started, found by {@code pid} (or, when the pid is 0 or no longer
     * that worker's, among every process of this machine) and checked against its command line; empty when no
     * live process is that worker.
     */
    public static java.util.Optional<LocalWorkerProcess> adopt(String id, long pid, Path log,
                                                                java.time.Instant launchedAt) {
        Objects.requireNonNull(id, "id");
        java.util.Optional<ProcessHandle> found = pid > 0
                ? ProcessHandle.of(pid).filter(h -> running(h) && isWorker(h, id)) : java.util.Optional.empty();
        if (found.isEmpty()) {
            found = ProcessHandle.allProcesses().filter(h -> running(h) && isWorker(h, id)).findFirst();
        }
        return found.map(h -> new LocalWorkerProcess(id, null, h, log, launchedAt));
    }

    /** True when {@code h} runs {@value #WORKER_MAIN} with {@code --id id}. */
    static boolean isWorker(ProcessHandle h, String id) {
        String[] args = arguments(h);
        boolean main = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(WORKER_MAIN)) {
                main = true;
            } else if (main && args[i].equals("--id")) {
                return i + 1 < args.length && args[i + 1].equals(id);
            }
        }
        return false;
    }

    /**
     * The command line of {@code h}: from {@code /proc/<pid>/cmdline} (whole: the JDK's
     * {@link ProcessHandle.Info#arguments()} is empty for a command line as long as a worker's class path), else
     * what the JDK says.
     */
    static String[] arguments(ProcessHandle h) {
        try {
            byte[] raw = Files.readAllBytes(Paths.get("/proc", Long.toString(h.pid()), "cmdline"));
            String line = new String(raw, java.nio.charset.StandardCharsets.UTF_8);
            if (!line.isEmpty()) {
                return line.split("\0");
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or gone meanwhile
        }
        return h.info().arguments().orElse(new String[0]);
    }

    /**
     * Alive and not a zombie: a worker whose parent (a killed controller) is gone is reaped by whoever inherited
     * it, and until then {@link ProcessHandle#isAlive()} still says true.
     */
    static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Paths.get("/proc", Long.toString(h.pid()), "stat"));
            int close = stat.lastIndexOf(')');
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (IOException | RuntimeException e) {
            // No /proc (not Linux) or gone meanwhile: what the JDK says.
            return h.isAlive();
        }
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
        return new LocalWorkerProcess(id, process, process.toHandle(), log, launchedAt);
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
        return handle.pid();
    }

    public boolean isAlive() {
        return process != null ? process.isAlive() : running(handle);
    }

    /** True when this controller did not start it but adopted it from another. */
    public boolean adopted() {
        return process == null;
    }

    public Path log() {
        return log;
    }

    /** SIGKILL: the worker gets no chance to deregister or say goodbye. */
    public void kill() {
        handle.destroyForcibly();
    }

    /** Waits for the process to exit. */
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        if (process != null) {
            return process.waitFor(timeout, unit);
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (running(handle)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            // Not this JVM's child: nothing to wait on but the process table.
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return true;
    }

    /** SIGTERM, then SIGKILL after five seconds. */
    @Override
    public void close() {
        if (!isAlive()) {
            return;
        }
        handle.destroy();
        try {
            if (!waitFor(5, TimeUnit.SECONDS)) {
                handle.destroyForcibly();
                waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            handle.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
