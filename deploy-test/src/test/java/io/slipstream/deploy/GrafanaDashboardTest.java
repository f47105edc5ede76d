package io.slipstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard shipped in the chart ({@code helm/slipstream/dashboards/slipstream.json}): it parses,
 * every panel queries metrics the code registers (Micrometer names from {@code src/main/java}, in their
 * Prometheus form), and the chart ships it as a sidecar ConfigMap only when asked.
 */
class GrafanaDashboardTest {

    /** What Micrometer's Prometheus naming adds to a meter name without a base unit: counter and timer suffixes. */
    private static final List<String> PROMETHEUS_SUFFIXES = List.of("", "_total", "_seconds_count", "_seconds_sum",
            "_seconds_max", "_seconds_bucket", "_count", "_sum", "_max", "_bucket");
    private static final Pattern CODE_METRIC = Pattern.compile("\"(slipstream(?:\\.[a-z0-9]+)+)\"");
    private static final Pattern CONSTANT = Pattern.compile("([A-Z][A-Z0-9_]*)\\s*=\\s*\"(slipstream(?:\\.[a-z0-9]+)+)\"");
    /** A meter builder with a bytes base unit, in one statement: its name (a literal or a constant). */
    private static final Pattern BYTES_METER = Pattern.compile(
            "builder\\(\\s*(?:\"(slipstream(?:\\.[a-z0-9]+)+)\"|(?:[A-Za-z]+\\.)?([A-Z][A-Z0-9_]*))\\s*[,)][^;]*?"
                    + "\\.baseUnit\\(\"bytes\"\\)", Pattern.DOTALL);
    private static final Pattern EXPR_METRIC = Pattern.compile("\\bslipstream_[a-z0-9_]+\\b");

    private static JsonNode dashboard() throws IOException {
        return Chart.JSON.readTree(Chart.chartDir().resolve("dashboards/slipstream.json").toFile());
    }

    @Test
    void dashboard_parses_withTitleUidAndPanels() throws IOException {
        JsonNode dashboard = dashboard();
        assertThat(dashboard.path("title").asText()).isEqualTo("Slipstream");
        assertThat(dashboard.path("uid").asText()).isEqualTo("slipstream-fleet");
        assertThat(exprs(dashboard)).hasSizeGreaterThan(20);
        Set<Integer> ids = new TreeSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt())).as("unique panel id %s", panel.path("id")).isTrue();
            assertThat(panel.path("title").asText()).isNotBlank();
        }
    }

    @Test
    void dashboard_everyExpr_referencesAMetricTheCodeRegisters() throws IOException {
        Set<String> bytes = new TreeSet<>();
        Set<String> code = codeMetrics(bytes);
        assertThat(code).contains("slipstream_controller_workers", "slipstream_wanopt_bytes_in",
                "slipstream_compression_fallbacks");
        assertThat(bytes).contains("slipstream_wanopt_bytes_in", "slipstream_gateway_bytes",
                "slipstream_compression_bytes_in").doesNotContain("slipstream_cache_hits");
        Set<String> unknown = new TreeSet<>();
        Set<String> used = new TreeSet<>();
        for (String expr : exprs(dashboard())) {
            Matcher m = EXPR_METRIC.matcher(expr);
            boolean any = false;
            while (m.find()) {
                any = true;
                String metric = m.group();
                String base = code.stream().filter(name -> prometheusNames(name, bytes).contains(metric))
                        .findFirst().orElse(null);
                if (base == null) {
                    unknown.add(metric);
                } else {
                    used.add(base);
                }
            }
            assertThat(any).as("expr queries a slipstream metric: %s", expr).isTrue();
        }
        assertThat(unknown).as("metrics in the dashboard that no code registers").isEmpty();
        // Each part of the system is on the dashboard.
        for (String part : List.of("controller", "autoscaler", "wanopt", "cache", "gateway", "compression")) {
            assertThat(used).as("a panel for slipstream_%s_*", part).anyMatch(n -> n.startsWith("slipstream_" + part + "_"));
        }
    }

    @Test
    void template_dashboardEnabled_rendersSidecarConfigMapWithTheDashboard() throws IOException {
        List<ObjectNode> objects = Chart.objects(HelmChartTest.ci("observability-values.yaml"));
        ObjectNode configMap = Chart.ofKind(objects, "ConfigMap").stream()
                .filter(o -> Chart.name(o).equals("rel-slipstream-dashboard")).findFirst().orElseThrow();
        assertThat(configMap.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        assertThat(configMap.path("metadata").path("annotations").path("grafana_folder").asText())
                .isEqualTo("Slipstream");
        JsonNode shipped = Chart.JSON.readTree(configMap.path("data").path("slipstream.json").asText());
        assertThat(shipped).isEqualTo(dashboard());
    }

    @Test
    void template_defaultValues_noDashboardConfigMap() {
        assertThat(Chart.ofKind(Chart.objects(null), "ConfigMap").stream().map(Chart::name))
                .doesNotContain("rel-slipstream-dashboard");
    }

    /**
     * The series names Micrometer's Prometheus registry gives a meter: a bytes base unit is appended unless
     * the name already ends with it, counters end in {@code _total}, timers give {@code _seconds_*}.
     */
    private static Set<String> prometheusNames(String name, Set<String> bytes) {
        if (bytes.contains(name)) {
            String withUnit = name.endsWith("_bytes") ? name : name + "_bytes";
            return Set.of(withUnit, withUnit + "_total");
        }
        return PROMETHEUS_SUFFIXES.stream().map(s -> name + s).collect(Collectors.toSet());
    }

    /**
     * Every slipstream.* meter name in main sources, in Prometheus form (dots to underscores); those built
     * with a bytes base unit also go into {@code bytes}.
     */
    private static Set<String> codeMetrics(Set<String> bytes) throws IOException {
        Set<String> names = new TreeSet<>();
        List<Path> sources;
        try (Stream<Path> files = Files.walk(Chart.repoRoot())) {
            sources = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> p.toString().contains("/src/main/java/"))
                    .filter(p -> !p.toString().contains("/target/"))
                    .collect(Collectors.toList());
        }
        for (Path source : sources) {
            try {
                String text = Files.readString(source, StandardCharsets.UTF_8);
                Matcher m = CODE_METRIC.matcher(text);
                while (m.find()) {
                    names.add(m.group(1).replace('.', '_'));
                }
                java.util.Map<String, String> constants = new java.util.HashMap<>();
                Matcher c = CONSTANT.matcher(text);
                while (c.find()) {
                    constants.put(c.group(1), c.group(2));
                }
                Matcher b = BYTES_METER.matcher(text);
                while (b.find()) {
                    String name = b.group(1) != null ? b.group(1) : constants.get(b.group(2));
                    if (name != null) {
                        bytes.add(name.replace('.', '_'));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(source.toString(), e);
            }
        }
        return names;
    }

    private static List<String> exprs(JsonNode dashboard) {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }
}
