package io.slipstream.e2e.sdn;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs system tools (ip, ethtool, iptables, ovs-*) with /usr/sbin on the PATH, bounded in time. */
final class Commands {

    record Result(int code, String output) {
    }

    private Commands() {
    }

    static ProcessBuilder builder(List<String> command) {
        ProcessBuilder b = new ProcessBuilder(command);
        b.environment().merge("PATH", "/usr/sbin:/sbin", (path, sbin) -> path + File.pathSeparator + sbin);
        return b;
    }

    static Result exec(List<String> command, Map<String, String> env, Duration timeout) {
        try {
            ProcessBuilder b = builder(command).redirectErrorStream(true);
            b.environment().putAll(env);
            Process p = b.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(String.join(" ", command), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs the command; fails with its output unless it exits 0. */
    static String run(String... command) {
        return run(Map.of(), command);
    }

    static String run(Map<String, String> env, String... command) {
        Result r = exec(List.of(command), env, Duration.ofSeconds(20));
        if (r.code() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + r.code() + "): " + r.output());
        }
        return r.output();
    }

    /** Like {@link #run} but only reports a failure: for clean-up, which must go on. */
    static void quietly(String... command) {
        try {
            Result r = exec(List.of(command), Map.of(), Duration.ofSeconds(20));
            if (r.code() != 0) {
                System.err.println("clean-up: " + String.join(" ", command) + " (" + r.code() + "): "
                        + r.output().trim());
            }
        } catch (RuntimeException | AssertionError e) {
            System.err.println("clean-up: " + String.join(" ", command) + ": " + e);
        }
    }

    static String which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, tool);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    static boolean root() {
        try {
            return Long.parseLong(exec(List.of("id", "-u"), Map.of(), Duration.ofSeconds(5)).output().trim()) == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
