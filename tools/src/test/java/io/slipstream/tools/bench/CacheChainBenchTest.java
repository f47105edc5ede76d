package io.slipstream.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CacheChainBenchTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = new CommandLine(new CacheBenchCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    private static boolean varnishInstalled() {
        try {
            return new ProcessBuilder("varnishd", "-V").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void chainRows_fewObjects_writeTheThreeRowsAgainstVarnishOverAPlainRelay(@TempDir Path dir) throws Exception {
        assumeTrue(varnishInstalled(), "needs varnishd (Debian package varnish; bin/test installs it)");
        Path json = dir.resolve("cache.json");

        int rc = run("--rows", "chain", "--chain-objects", "10", "--json", json.toString());

        assertThat(rc).as(err.toString()).isZero();
        JsonNode rows = new ObjectMapper().readTree(Files.readString(json)).get("rows");
        assertThat(rows).hasSize(3);
        assertThat(List.of(rows.get(0).get("metric").asText(), rows.get(1).get("metric").asText(),
                rows.get(2).get("metric").asText())).containsExactly("chained refetch of changed objects WAN bytes",
                "chained cold fetch WAN bytes", "chained miss latency p50 ms");
        for (JsonNode row : rows) {
            assertThat(row.get("peer").asText()).isEqualTo("Varnish, misses over a plain relay");
            assertThat(row.get("better").asText()).isEqualTo("lower");
            assertThat(row.get("ours").asDouble()).isPositive();
            assertThat(row.get("theirs").asDouble()).isPositive();
        }
        // Varnish's misses carry the whole uncompressed bodies; the tunnel compresses and deduplicates them
        assertThat(rows.get(0).get("ratio").asDouble()).isLessThan(0.8);
        assertThat(rows.get(1).get("ratio").asDouble()).isLessThan(0.8);
        assertThat(out.toString()).contains("conditional refetches (If-None-Match) seen by the origin: ours 10/10,"
                + " Varnish 10/10").contains("every body SHA-256 checked");
    }

    @Test
    void secondVersion_newBannerAndThreeEditedLines_restUnchanged() {
        String text = "line one\nline two\nline three\nline four\nline five\nline six\nline seven\nline eight\n";

        byte[][] v = CacheChainBench.versions(text);

        String v1 = new String(v[0], StandardCharsets.UTF_8);
        String v2 = new String(v[1], StandardCharsets.UTF_8);
        assertThat(v1).isEqualTo(CacheChainBench.BANNER_V1 + text);
        assertThat(v2).startsWith(CacheChainBench.BANNER_V2);
        assertThat(v2.split("\n", -1)).hasSameSizeAs(v1.split("\n", -1));
        assertThat(v2.split(java.util.regex.Pattern.quote(CacheChainBench.EDIT), -1)).hasSize(4);
        assertThat(v2.replace(CacheChainBench.EDIT, "").substring(CacheChainBench.BANNER_V2.length())).isEqualTo(text);
    }

    @Test
    void workload_jdkTexts_distinctTextObjectsWithDistinctEtagsPerVersion() throws Exception {
        CacheChainBench.Workload w = CacheChainBench.workload(Path.of(System.getProperty("java.home")), 0);

        assertThat(w.objects()).hasSizeGreaterThanOrEqualTo(8);
        assertThat(w.objects().stream().map(CacheChainBench.WebObject::path).distinct()).hasSize(w.objects().size());
        for (CacheChainBench.WebObject o : w.objects()) {
            assertThat(o.etag(1)).isNotEqualTo(o.etag(2));
            assertThat(o.v2().length - o.v1().length).isBetween(0, 200);
        }
        assertThat(CacheChainBench.workload(Path.of(System.getProperty("java.home")), 5).objects()).hasSize(5);
    }

    @Test
    void percentile_nearestRank() {
        List<Double> v = List.of(5.0, 1.0, 4.0, 2.0, 3.0);
        assertThat(CacheChainBench.percentile(v, 50)).isEqualTo(3.0);
        assertThat(CacheChainBench.percentile(v, 100)).isEqualTo(5.0);
        assertThat(CacheChainBench.percentile(v, 90)).isEqualTo(5.0);
    }
}
