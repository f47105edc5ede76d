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
     * The worker {@code id} another controller started, or empty when no live process is that worker. With a
     * recorded {@code pid} and {@code start} ({@link #startToken()}) only that process qualifies: a pid since reused
     * by another process, even another worker of the same id, has another start. Without them (a worker recorded
     * before its process started, or a record that lacks them) it is looked for among every process of this
     * machine. Either way its command line must say {@code WorkerMain --id <id>} followed by every pair of
     * {@code fleetArgs} (e.g. {@code --zookeeper <connect string>}), so that a worker of another fleet with the same
     * id is never taken.
     */
    public static java.util.Optional<LocalWorkerProcess> adopt(String id, long pid, String start,
                                                                List<String> fleetArgs, Path log,
                                                                java.time.Instant launchedAt) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(fleetArgs, "fleetArgs");
        java.util.Optional<ProcessHandle> found;
        if (pid > 0 && start != null && !start.isEmpty()) {
            found = ProcessHandle.of(pid)
                    .filter(h -> running(h) && isWorker(h, id, fleetArgs) && start.equals(startToken(h)));
        } else {
            found = pid > 0 ? ProcessHandle.of(pid).filter(h -> running(h) && isWorker(h, id, fleetArgs))
                    : java.util.Optional.empty();
            if (found.isEmpty()) {
                found = ProcessHandle.allProcesses().filter(h -> running(h) && isWorker(h, id, fleetArgs))
                        .findFirst();
            }
        }
        return found.map(h -> new LocalWorkerProcess(id, null, h, log, launchedAt));
    }

    /** True when {@code h} runs {@value #WORKER_MAIN} with {@code --id id} and each pair of {@code fleetArgs}. */
    static boolean isWorker(ProcessHandle h, String id, List<String> fleetArgs) {
        List<String> args = List.of(arguments(h));
        int main = args.indexOf(WORKER_MAIN);
        if (main < 0) {
            return false;
        }
        List<String> after = args.subList(main + 1, args.size());
        if (!hasPair(after, "--id", id)) {
            return false;
        }
        for (int i = 0; i + 1 < fleetArgs.size(); i += 2) {
            if (!hasPair(after, fleetArgs.get(i), fleetArgs.get(i + 1))) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasPair(List<String> args, String flag, String value) {
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals(flag)) {
                return args.get(i + 1).equals(value);
            }
        }
        return false;
    }

    /**
     * What tells this process apart from a later one that reuses its pid: its start in clock ticks since boot
     * ({@code /proc/<pid>/stat}, field 22; never changes, unlike a start time derived from the wall clock), else the
     * JDK's start instant; empty when neither is known.
     */
    public String startToken() {
        return startToken(handle);
    }

    static String startToken(ProcessHandle h) {
        try {
            String stat = Files.readString(Paths.get("/proc", Long.toString(h.pid()), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields[0] is field 3 (state): field 22 (starttime) is fields[19]
            return "ticks:" + Long.parseLong(fields[19]);
        } catch (IOException | RuntimeException e) {
            return h.info().startInstant().map(i -> "instant:" + i.toEpochMilli()).orElse("");
        }
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
