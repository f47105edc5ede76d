package io.slipstream.tools.bench;

import io.slipstream.tools.workload.Workloads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Two versions of real and realistic data for {@code bench wanopt}: successive releases of npm packages
 * (fetched with {@code npm pack}, each unpacked to one uncompressed tar, cached outside the repository),
 * successive upstream releases of Debian source packages (the {@code .orig} tarballs of Debian 12 and
 * Debian 13, fetched from {@code deb.debian.org}, checked against their SHA-256 and decompressed to one
 * uncompressed tar each), and two generated workloads of shapes the npm corpus lacks: a database dump with rows updated, inserted
 * and deleted between versions, and a filesystem image in which a few files changed size (shifts). When
 * npm cannot fetch (offline), the real part is replaced by generated source-tree-like data and the report
 * says so.
 */
public final class WanoptCorpus {

    /** A pair of versions. */
    static final class Pair {
        final String name;
        final boolean real;
        final byte[] first;
        final byte[] second;

        Pair(String name, boolean real, byte[] first, byte[] second) {
            this.name = name;
            this.real = real;
            this.first = first;
            this.second = second;
        }
    }

    /** Successive releases; patch or minor releases, as an artifact mirror would pull them. */
    static final List<String[]> NPM = List.of(
            new String[] {"typescript", "5.4.4", "5.4.5"},
            new String[] {"react-dom", "18.2.0", "18.3.1"},
            new String[] {"eslint", "8.56.0", "8.57.0"},
            new String[] {"lodash", "4.17.20", "4.17.21"});
    /** Only the two smallest: for a quick run. */
    static final List<String[]> NPM_SMALL = NPM.subList(2, 4);

    /** The Debian archive the source tarballs come from. */
    static final String DEBIAN_MIRROR = "http://deb.debian.org/debian/";

    /**
     * Successive upstream releases as Debian 12 (bookworm) and Debian 13 (trixie) ship them: a point release
     * apart, as a software mirror or a build farm would pull them. Per version: pool path, SHA-256 (from the
     * archive's signed Sources index).
     */
    static final List<DebianPair> DEBIAN = List.of(
            new DebianPair("libevent", "2.1.12", "pool/main/libe/libevent/libevent_2.1.12-stable.orig.tar.gz",
                    "92e6de1be9ec176428fd2367677e61ceffc2ee1cb119035037a27d346b0403bb",
                    "2.1.13", "pool/main/libe/libevent/libevent_2.1.13-stable.orig.tar.gz",
                    "f7e9383b8c0baa81b687e5b5eecc01beefaf1b19b64151d95ed61647fe7a315c"),
            new DebianPair("apr", "1.7.2", "pool/main/a/apr/apr_1.7.2.orig.tar.bz2",
                    "75e77cc86776c030c0a5c408dfbd0bf2a0b75eed5351e52d5439fa1e5509a43e",
                    "1.7.5", "pool/main/a/apr/apr_1.7.5.orig.tar.bz2",
                    "cd0f5d52b9ab1704c72160c5ee3ed5d3d4ca2df4a7f8ab564e3cb352b67232f2"),
            new DebianPair("augeas", "1.14.0", "pool/main/a/augeas/augeas_1.14.0.orig.tar.gz",
                    "8c101759ca3d504bd1d805e70e2f615fa686af189dd7cf0529f71d855c087df1",
                    "1.14.1", "pool/main/a/augeas/augeas_1.14.1.orig.tar.gz",
                    "368bfdd782e4b9c7163baadd621359c82b162734864b667051ff6bcb57b9edff"),
            new DebianPair("corosync", "3.1.7", "pool/main/c/corosync/corosync_3.1.7.orig.tar.gz",
                    "e6556b3a385965f21330b9383dcd1790f28a4f79e093982b40ea2ec23e0a29fa",
                    "3.1.9", "pool/main/c/corosync/corosync_3.1.9.orig.tar.gz",
                    "203354bbddee1a97b3c50a076eae89c635f406dd674ccaefc94bb9092acd9535"),
            new DebianPair("ldns", "1.8.3", "pool/main/l/ldns/ldns_1.8.3.orig.tar.gz",
                    "c3f72dd1036b2907e3a56e6acf9dfb2e551256b3c1bbd9787942deeeb70e7860",
                    "1.8.4", "pool/main/l/ldns/ldns_1.8.4.orig.tar.gz",
                    "838b907594baaff1cd767e95466a7745998ae64bc74be038dccc62e2de2e4247"),
            new DebianPair("idzebra", "2.2.7", "pool/main/i/idzebra/idzebra_2.2.7.orig.tar.gz",
                    "b465ffeb060f507316e6cfc20ebd46022472076d0d4e96ef7dab63e798066420",
                    "2.2.8", "pool/main/i/idzebra/idzebra_2.2.8.orig.tar.gz",
                    "879e402b91912e9074275753f24408ed2ac06b3b7c30b2a2d5a70718c869a542"),
            new DebianPair("kyotocabinet", "1.2.79", "pool/main/k/kyotocabinet/kyotocabinet_1.2.79.orig.tar.gz",
                    "67fb1da4ae2a86f15bb9305f26caa1a7c0c27d525464c71fd732660a95ae3e1d",
                    "1.2.80", "pool/main/k/kyotocabinet/kyotocabinet_1.2.80.orig.tar.gz",
                    "4c85d736668d82920bfdbdb92ac3d66b7db1108f09581a769dd9160a02def349"));
    /** One of them: for a quick run. */
    static final List<DebianPair> DEBIAN_SMALL = DEBIAN.subList(0, 1);

    /** One Debian source package in two upstream releases. */
    static final class DebianPair {
        final String name;
        final String[] versions;
        final String[] paths;
        final String[] sha256;

        DebianPair(String name, String firstVersion, String firstPath, String firstSha256, String secondVersion,
                   String secondPath, String secondSha256) {
            this.name = name;
            this.versions = new String[] {firstVersion, secondVersion};
            this.paths = new String[] {firstPath, secondPath};
            this.sha256 = new String[] {firstSha256, secondSha256};
        }
    }

    private WanoptCorpus() {
    }

    /** The default cache: {@code $XDG_CACHE_HOME/slipstream-bench} or {@code ~/.cache/slipstream-bench}. */
    static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("slipstream-bench");
    }

    /**
     * The npm pairs, fetched into {@code cache} if not there yet; an empty list (with the reason printed)
     * when they cannot be fetched.
     */
    static List<Pair> npm(Path cache, List<String[]> packages, PrintWriter out) {
        List<Pair> pairs = new ArrayList<>();
        try {
            Path dir = Files.createDirectories(cache.resolve("npm"));
            for (String[] p : packages) {
                pairs.add(new Pair("npm " + p[0] + " " + p[1] + " -> " + p[2], true, tar(dir, p[0], p[1], out),
                        tar(dir, p[0], p[2], out)));
            }
            return pairs;
        } catch (IOException e) {
            out.println("real corpus: npm packages could not be fetched (" + e.getMessage()
                    + "); using GENERATED source-tree-like data instead");
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /**
     * The Debian pairs, fetched into {@code cache} if not there yet; an empty list (with the reason printed)
     * when they cannot be fetched or a file does not match its SHA-256.
     */
    static List<Pair> debian(Path cache, List<DebianPair> packages, PrintWriter out) {
        List<Pair> pairs = new ArrayList<>();
        try {
            Path dir = Files.createDirectories(cache.resolve("debian"));
            java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                    .connectTimeout(java.time.Duration.ofSeconds(20))
                    .followRedirects(java.net.http.HttpClient.Redirect.NORMAL).build();
            for (DebianPair p : packages) {
                pairs.add(new Pair("debian " + p.name + " " + p.versions[0] + " -> " + p.versions[1], true,
                        debianTar(http, dir, p, 0, out), debianTar(http, dir, p, 1, out)));
            }
            return pairs;
        } catch (IOException e) {
            out.println("real corpus: Debian source packages could not be fetched (" + e.getMessage()
                    + "); left out");
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    /** Version {@code i} of {@code p} as one uncompressed tar, from the cache or the Debian archive. */
    private static byte[] debianTar(java.net.http.HttpClient http, Path dir, DebianPair p, int i, PrintWriter out)
            throws IOException, InterruptedException {
        Path tar = dir.resolve(p.name + "-" + p.versions[i] + ".tar");
        if (Files.isRegularFile(tar)) {
            return Files.readAllBytes(tar);
        }
        String file = p.paths[i].substring(p.paths[i].lastIndexOf('/') + 1);
        Path packed = dir.resolve(file);
        if (!Files.isRegularFile(packed) || !sha256(Files.readAllBytes(packed)).equals(p.sha256[i])) {
            String url = DEBIAN_MIRROR + p.paths[i];
            out.println("fetching " + url + " into " + dir);
            out.flush();
            java.net.http.HttpResponse<byte[]> response = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(url)).timeout(java.time.Duration.ofSeconds(120)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            if (response.statusCode() != 200) {
                throw new IOException(url + ": HTTP " + response.statusCode());
            }
            String got = sha256(response.body());
            if (!got.equals(p.sha256[i])) {
                throw new IOException(url + ": SHA-256 " + got + " (expected: " + p.sha256[i] + ")");
            }
            Files.write(packed, response.body());
        }
        String tool = file.endsWith(".xz") ? "xz" : file.endsWith(".bz2") ? "bzip2" : "gzip";
        Path partial = dir.resolve(tar.getFileName() + ".partial");
        Process unpack = new ProcessBuilder(tool, "-dc", packed.toString()).redirectOutput(partial.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        if (!unpack.waitFor(120, TimeUnit.SECONDS) || unpack.exitValue() != 0) {
            unpack.destroyForcibly();
            throw new IOException(tool + " -dc " + packed + " failed");
        }
        Files.move(partial, tar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return Files.readAllBytes(tar);
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code name@version} as one uncompressed tar, from the cache or {@code npm pack}. */
    private static byte[] tar(Path dir, String name, String version, PrintWriter out)
            throws IOException, InterruptedException {
        Path tar = dir.resolve(name + "-" + version + ".tar");
        if (!Files.isRegularFile(tar)) {
            Path tgz = dir.resolve(name + "-" + version + ".tgz");
            if (!Files.isRegularFile(tgz)) {
                out.println("fetching " + name + "@" + version + " with npm pack into " + dir);
                out.flush();
                Process npm = new ProcessBuilder("npm", "pack", name + "@" + version, "--silent")
                        .directory(dir.toFile()).redirectErrorStream(true).start();
                String said = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (!npm.waitFor(120, TimeUnit.SECONDS) || npm.exitValue() != 0 || !Files.isRegularFile(tgz)) {
                    npm.destroyForcibly();
                    throw new IOException("npm pack " + name + "@" + version + ": " + said);
                }
            }
            Path partial = dir.resolve(tar.getFileName() + ".partial");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz))) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(partial, tar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return Files.readAllBytes(tar);
    }

    /** Generated stand-in for the real corpus: a source tree whose files all carry a version header. */
    static Pair generatedSourceTree(int size, long seed) {
        Random r = new Random(seed);
        List<byte[]> files = new ArrayList<>();
        int total = 0;
        while (total < size) {
            byte[] f = StreamText.text(r.nextLong(), 2_000 + r.nextInt(30_000));
            files.add(f);
            total += f.length;
        }
        ByteArrayOutputStream a = new ByteArrayOutputStream(size + 4096);
        ByteArrayOutputStream b = new ByteArrayOutputStream(size + 4096);
        for (byte[] f : files) {
            a.writeBytes(("/*! package v1.2.3 */\n").getBytes(StandardCharsets.US_ASCII));
            a.writeBytes(f);
            b.writeBytes(("/*! package v1.2.4 */\n").getBytes(StandardCharsets.US_ASCII));
            byte[] g = f.clone();
            if (r.nextInt(10) == 0) { // a tenth of the files edited
                int at = r.nextInt(g.length - 100);
                System.arraycopy(StreamText.text(r.nextLong(), 80), 0, g, at, 80);
            }
            b.writeBytes(g);
        }
        return new Pair("GENERATED source tree (npm unreachable)", false, a.toByteArray(), b.toByteArray());
    }

    /**
     * A database dump ({@code INSERT} rows, id order): in the second version 2% of the rows are updated,
     * 1% deleted and 1% inserted (new ids at the end, and in gaps).
     */
    static Pair databaseDump(int rows, long seed) {
        Random r = new Random(seed);
        String[] cities = {"Lyon", "Porto", "Gdansk", "Tartu", "Bergen", "Cork", "Brno", "Turku", "Graz", "Ghent"};
        StringBuilder a = new StringBuilder(rows * 120);
        StringBuilder b = new StringBuilder(rows * 120);
        a.append("-- dump of table customer, version 1\nCOPY customer (id, name, city, balance, updated) FROM stdin;\n");
        b.append("-- dump of table customer, version 2\nCOPY customer (id, name, city, balance, updated) FROM stdin;\n");
        long day = 19_000;
        for (int id = 1; id <= rows; id++) {
            String row = row(id, r, cities, day);
            a.append(row);
            int fate = r.nextInt(100);
            if (fate < 2) {
                b.append(row(id, r, cities, day + 30)); // updated
            } else if (fate < 3) {
                continue; // deleted
            } else {
                b.append(row);
            }
            if (r.nextInt(200) == 0) {
                b.append(row(rows + id, r, cities, day + 30)); // inserted
            }
        }
        a.append("\\.\n");
        b.append("\\.\n");
        return new Pair("GENERATED database dump, 2% rows updated, 1% deleted, 0.5% inserted", false,
                a.toString().getBytes(StandardCharsets.US_ASCII), b.toString().getBytes(StandardCharsets.US_ASCII));
    }

    private static String row(int id, Random r, String[] cities, long day) {
        return String.format(Locale.ROOT, "%d\tcustomer-%08x\t%s\t%d.%02d\t%d\n", id, r.nextInt(), cities[r.nextInt(
                cities.length)], r.nextInt(1_000_000), r.nextInt(100), day + r.nextInt(30));
    }

    /**
     * A filesystem image: files laid end to end in 4 KiB blocks (text, compressed-looking binary, zeros
     * between); in the second version a few files grew or shrank (everything after them shifts) and a few
     * were rewritten in place.
     */
    static Pair filesystemImage(int files, long seed) {
        Random r = new Random(seed);
        List<byte[]> content = new ArrayList<>();
        for (int i = 0; i < files; i++) {
            int kind = r.nextInt(4);
            int n = 1_000 + r.nextInt(120_000);
            byte[] f = kind == 0 ? new byte[n] : kind == 1 ? Workloads.random(n / 4, r.nextLong())
                    : StreamText.text(r.nextLong(), n);
            content.add(f);
        }
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] f : content) {
            block(a, f);
            byte[] g = f;
            int change = r.nextInt(40);
            if (change == 0 && f.length > 2000) { // grew: an insertion in the middle
                int at = r.nextInt(f.length - 1000);
                byte[] ins = StreamText.text(r.nextLong(), 100 + r.nextInt(3000));
                g = new byte[f.length + ins.length];
                System.arraycopy(f, 0, g, 0, at);
                System.arraycopy(ins, 0, g, at, ins.length);
                System.arraycopy(f, at, g, at + ins.length, f.length - at);
            } else if (change == 1 && f.length > 2000) { // shrank
                int at = r.nextInt(f.length - 1000);
                int cut = 1 + r.nextInt(900);
                g = new byte[f.length - cut];
                System.arraycopy(f, 0, g, 0, at);
                System.arraycopy(f, at + cut, g, at, f.length - at - cut);
            } else if (change == 2) { // rewritten in place
                g = f.clone();
                int at = r.nextInt(Math.max(1, g.length - 64));
                for (int i = at; i < Math.min(g.length, at + 64); i++) {
                    g[i] = (byte) r.nextInt();
                }
            }
            block(b, g);
        }
        return new Pair("GENERATED filesystem image, 7% of files changed (grown, shrunk, rewritten)", false,
                a.toByteArray(), b.toByteArray());
    }

    private static void block(ByteArrayOutputStream out, byte[] file) {
        out.writeBytes(String.format(Locale.ROOT, "INODE %08d SIZE %d\n", out.size() / 4096, file.length)
                .getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(file);
        int pad = (4096 - out.size() % 4096) % 4096;
        out.writeBytes(new byte[pad]);
    }

    /** Source-like text. */
    static final class StreamText {
        private static final String[] WORDS = {"return", "const", "function", "value", "if", "else", "this",
            "export", "import", "=", "{", "}", "(", ")", ";", "node", "type", "string", "number", "options",
            "result", "error", "length", "undefined", "=>", "await", "async", "module", "require", "default"};

        private StreamText() {
        }

        static byte[] text(long seed, int n) {
            Random r = new Random(seed);
            StringBuilder sb = new StringBuilder(n + 64);
            while (sb.length() < n) {
                sb.append(WORDS[r.nextInt(WORDS.length)]).append(r.nextInt(7) == 0 ? "\n  " : " ");
                if (r.nextInt(30) == 0) {
                    sb.append(Integer.toHexString(r.nextInt()));
                }
            }
            return sb.substring(0, n).getBytes(StandardCharsets.US_ASCII);
        }
    }
}
