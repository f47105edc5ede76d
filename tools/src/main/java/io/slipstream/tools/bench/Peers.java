package io.slipstream.tools.bench;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The command-line peers of {@code bench wanopt}: the zstd CLI and rsync, run on files, their bytes counted. */
public final class Peers {

    private static final Pattern RSYNC_TOTAL = Pattern.compile("Total bytes (sent|received): ([0-9,.]+)");

    private Peers() {
    }

    static boolean hasZstd() {
        return runs("zstd", "--version");
    }

    /**
     * Bytes of {@code zstd -3} of {@code file} ({@code --patch-from=base} when {@code base} is given); zstd-jni
     * level 3 when there is no zstd CLI and no base.
     */
    static long zstd(Path file, Path base) throws IOException, InterruptedException {
        if (!hasZstd()) {
            if (base != null) {
                throw new IOException("zstd --patch-from needs the zstd CLI (apt-get install zstd)");
            }
            return Zstd.compress(Files.readAllBytes(file), 3).length;
        }
        List<String> cmd = new ArrayList<>(List.of("zstd", "-3", "-q", "-c"));
        if (base != null) {
            cmd.add("--patch-from=" + base);
        }
        cmd.add(file.toString());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long n = count(p.getInputStream());
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": failed");
        }
        return n;
    }

    static boolean hasRsync() {
        return runs("rsync", "--version");
    }

    /**
     * Bytes both ways of {@code rsync -z --no-whole-file -I} of {@code second} to a far end that holds
     * {@code first} under the same name. The far end is a local rsync server reached through a pipe (a
     * remote shell that runs it here), so rsync works as over a network: delta transfer and compression on.
     */
    static long rsync(Path dir, Path first, Path second) throws IOException, InterruptedException {
        Path far = Files.createDirectories(dir.resolve("far"));
        Path near = Files.createDirectories(dir.resolve("near"));
        Files.copy(first, far.resolve("data"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second, near.resolve("data"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path rsh = dir.resolve("rsh");
        Files.writeString(rsh, "#!/bin/sh\n# ignore the host name, run the remote command here\nshift\nexec \"$@\"\n");
        Files.setPosixFilePermissions(rsh, PosixFilePermissions.fromString("rwx------"));
        List<String> cmd = List.of("rsync", "-z", "--no-whole-file", "-I", "--stats", "-e", rsh.toString(),
                near.resolve("data").toString(), "far-end:" + far.resolve("data"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + ": " + said);
        }
        Matcher m = RSYNC_TOTAL.matcher(said);
        long total = 0;
        int found = 0;
        while (m.find()) {
            total += Long.parseLong(m.group(2).replace(",", "").replace(".", ""));
            found++;
        }
        if (found != 2) {
            throw new IOException("rsync --stats: no 'Total bytes sent/received' in: " + said);
        }
        return total;
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    private static long count(InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        long n = 0;
        for (int r; (r = in.read(buf)) >= 0; ) {
            n += r;
        }
        return n;
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
