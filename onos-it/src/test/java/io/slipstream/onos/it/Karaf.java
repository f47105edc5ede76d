package io.slipstream.onos.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * An Apache Karaf 4.2.9 server started from an unpacked distribution, prepared for Java 17 as in
 * RECIPES.md (jre.properties and an eecap-17 block), with its SSH and RMI ports moved to free ones
 * and with no remote Maven repository (it never goes online). Commands go through
 * {@code bin/client -b}. {@link #close()} kills the server process and its children.
 */
final class Karaf implements AutoCloseable {

    /** One line of {@code bundle:list -t 0 --no-format}. */
    record BundleRow(long id, String state, String version, String name) {
        boolean fragment() {
            return name.contains("Hosts:");
        }
    }

    private static final Pattern BUNDLE_LINE =
            Pattern.compile("^\\s*(\\d+)\\s*\\|\\s*(\\w+)\\s*\\|\\s*\\d+\\s*\\|\\s*(\\S*)\\s*\\|\\s*(.*)$");

    private final Path home;
    private final Process process;
    private final int sshPort;

    private Karaf(Path home, Process process, int sshPort) {
        this.home = home;
        this.process = process;
        this.sshPort = sshPort;
    }

    /** Copies the distribution to {@code work} (fresh each time), prepares and starts it, waits for the shell. */
    static Karaf start(Path distribution, Path work, Duration timeout) throws IOException {
        if (!Files.isExecutable(distribution.resolve("bin/karaf"))) {
            throw new IllegalStateException("no Karaf distribution at " + distribution
                    + " (the onos-it build unpacks org.apache.karaf:apache-karaf:4.2.9:tar.gz there)");
        }
        deleteTree(work);
        copyTree(distribution, work);
        prepareForJava17(work);
        int ssh = freePort();
        replace(work.resolve("etc/org.apache.karaf.shell.cfg"), "(?m)^sshPort\\s*=.*$", "sshPort = " + ssh);
        replace(work.resolve("etc/org.apache.karaf.shell.cfg"), "(?m)^sshHost\\s*=.*$", "sshHost = 127.0.0.1");
        replace(work.resolve("etc/org.apache.karaf.management.cfg"), "(?m)^rmiRegistryPort\\s*=.*$",
                "rmiRegistryPort = " + freePort());
        replace(work.resolve("etc/org.apache.karaf.management.cfg"), "(?m)^rmiServerPort\\s*=.*$",
                "rmiServerPort = " + freePort());
        // Offline: bundles come from files and the system repository only.
        replace(work.resolve("etc/org.ops4j.pax.url.mvn.cfg"),
                "(?ms)^org\\.ops4j\\.pax\\.url\\.mvn\\.repositories\\s*=.*?"
                        + "(?=^org\\.ops4j\\.pax\\.url\\.mvn\\.timeout)",
                "org.ops4j.pax.url.mvn.repositories=\n");
        ProcessBuilder builder = new ProcessBuilder(work.resolve("bin/karaf").toString(), "server")
                .directory(work.toFile())
                .redirectErrorStream(true)
                .redirectOutput(work.resolve("karaf.out").toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Karaf karaf = new Karaf(work, builder.start(), ssh);
        try {
            Awaitility.await("Karaf shell on port " + ssh).atMost(timeout).pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions()
                    .until(() -> karaf.bundles().stream().anyMatch(b -> b.name().contains("Shell :: Core")
                            && b.state().equals("Active")));
        } catch (RuntimeException | Error e) {
            String out = karaf.tail(40);
            karaf.close();
            throw new AssertionError("Karaf did not start within " + timeout + ":\n" + out, e);
        }
        return karaf;
    }

    Path home() {
        return home;
    }

    /**
     * Runs shell commands (one per element) in one client session and returns the output. Fails if
     * the client fails or any command reports an error.
     */
    String exec(String... commands) {
        String out = execAllowingErrors(commands);
        if (out.contains("Error executing command") || out.contains("Command not found")) {
            throw new AssertionError("Karaf command failed: " + String.join("; ", commands) + "\n" + out);
        }
        return out;
    }

    String execAllowingErrors(String... commands) {
        try {
            ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/client").toString(), "-u", "karaf", "-p",
                    "karaf", "-h", "127.0.0.1", "-a", Integer.toString(sshPort), "-r", "1", "-b")
                    .directory(home.toFile()).redirectErrorStream(true);
            builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Process client = builder.start();
            client.getOutputStream().write((String.join("\n", commands) + "\n").getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().close();
            byte[] out = client.getInputStream().readAllBytes();
            if (!client.waitFor(120, TimeUnit.SECONDS)) {
                client.destroyForcibly();
                throw new AssertionError("Karaf client timed out: " + String.join("; ", commands));
            }
            String text = new String(out, StandardCharsets.UTF_8).replaceAll("\u001B\\[[0-9;]*m", "");
            if (client.exitValue() != 0) {
                throw new IllegalStateException("Karaf client exited " + client.exitValue() + ": " + text);
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Every bundle, system bundles included. */
    List<BundleRow> bundles() {
        List<BundleRow> rows = new ArrayList<>();
        for (String line : exec("bundle:list -t 0 --no-format").split("\\R")) {
            Matcher m = BUNDLE_LINE.matcher(line);
            if (m.matches()) {
                rows.add(new BundleRow(Long.parseLong(m.group(1)), m.group(2), m.group(3), m.group(4).trim()));
            }
        }
        return rows;
    }

    /** The last lines of the server's console output (which also holds what the test services print). */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(home.resolve("karaf.out"), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no console output: " + e + ")";
        }
    }

    String console() {
        try {
            return Files.readString(home.resolve("karaf.out"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    String log() {
        try {
            return Files.readString(home.resolve("data/log/karaf.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no karaf.log: " + e + ")";
        }
    }

    /** Kills the server and every process it started; waits until they are gone. */
    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.descendants().forEach(ProcessHandle::destroyForcibly);
    }

    /** RECIPES.md: Karaf 4.2.9 knows Java up to 11; declare 12-17 as 11 and add the JavaSE 17 capabilities. */
    private static void prepareForJava17(Path karaf) throws IOException {
        StringBuilder jre = new StringBuilder("\n");
        for (int v = 12; v <= 17; v++) {
            jre.append("jre-").append(v).append(" = ${jre-").append(v - 1).append("}\n");
        }
        Files.writeString(karaf.resolve("etc/jre.properties"), jre.toString(), StandardCharsets.ISO_8859_1,
                java.nio.file.StandardOpenOption.APPEND);
        String versions = "1.8,9.0,10.0,11.0,12.0,13.0,14.0,15.0,16.0,17.0";
        String eecap = "\neecap-17= osgi.ee; osgi.ee=\"OSGi/Minimum\"; version:List<Version>=\"1.0,1.1,1.2\", \\\n"
                + " osgi.ee; osgi.ee=\"JavaSE\"; version:List<Version>=\"1.0,1.1,1.2,1.3,1.4,1.5,1.6,1.7," + versions
                + "\", \\\n"
                + " osgi.ee; osgi.ee=\"JRE\"; version:List<Version>=\"1.0,1.1\", \\\n"
                + " osgi.ee; osgi.ee=\"JavaSE/compact1\"; version:List<Version>=\"" + versions + "\", \\\n"
                + " osgi.ee; osgi.ee=\"JavaSE/compact2\"; version:List<Version>=\"" + versions + "\", \\\n"
                + " osgi.ee; osgi.ee=\"JavaSE/compact3\"; version:List<Version>=\"" + versions + "\"\n";
        Files.writeString(karaf.resolve("etc/config.properties"), eecap, StandardCharsets.ISO_8859_1,
                java.nio.file.StandardOpenOption.APPEND);
    }

    private static void replace(Path file, String regex, String replacement) throws IOException {
        String text = Files.readString(file, StandardCharsets.ISO_8859_1);
        String changed = text.replaceAll(regex, Matcher.quoteReplacement(replacement));
        if (changed.equals(text) && !text.contains(replacement)) {
            throw new IllegalStateException("Karaf configuration " + file + " has no line matching " + regex);
        }
        Files.writeString(file, changed, StandardCharsets.ISO_8859_1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES,
                        StandardCopyOption.REPLACE_EXISTING);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
