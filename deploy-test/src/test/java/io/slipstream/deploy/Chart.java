package io.slipstream.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The chart {@code helm/slipstream} rendered and linted by real Helm (helm-java), parsed with Jackson YAML. */
final class Chart {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            // Strings that look like numbers (label values such as grafana_dashboard: "1") stay strings.
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .disable(YAMLGenerator.Feature.SPLIT_LINES));
    static final ObjectMapper JSON = new ObjectMapper();

    private Chart() {
    }

    /** The repository root: the first parent of the working directory holding helm/slipstream/Chart.yaml. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("helm/slipstream/Chart.yaml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no helm/slipstream/Chart.yaml above " + dir);
    }

    static Path chartDir() {
        return repoRoot().resolve("helm/slipstream");
    }

    /** The values files under helm/slipstream/ci, sorted. */
    static List<Path> ciValuesFiles() {
        try (Stream<Path> files = Files.list(chartDir().resolve("ci"))) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Renders the chart; {@code valuesFile} may be null; {@code sets} are --set pairs. */
    static String template(Path valuesFile, String kubeVersion, Map<String, Object> sets) {
        TemplateCommand cmd = new Helm(chartDir()).template().withName("rel").withNamespace("ns");
        if (valuesFile != null) {
            cmd = cmd.withValuesFile(valuesFile);
        }
        if (kubeVersion != null) {
            cmd = cmd.withKubeVersion(kubeVersion);
        }
        for (Map.Entry<String, Object> e : sets.entrySet()) {
            cmd = cmd.set(e.getKey(), e.getValue());
        }
        return cmd.call();
    }

    /**
     * Renders the chart with its {@code helm test} hooks as ordinary objects. helm-java's template returns the
     * release manifest, which holds no hooks, so this renders a copy of the chart whose test templates lack
     * the {@code helm.sh/hook} annotations (the only difference).
     */
    static String templateWithTests(Path valuesFile, Map<String, Object> sets) {
        try {
            Path scratch = Files.createTempDirectory("slipstream-chart");
            try {
                Path copy = scratch.resolve("slipstream");
                copyTree(chartDir(), copy);
                try (Stream<Path> tests = Files.list(copy.resolve("templates/tests"))) {
                    for (Path t : (Iterable<Path>) tests::iterator) {
                        List<String> lines = Files.readAllLines(t);
                        lines.removeIf(l -> l.contains("helm.sh/hook"));
                        Files.write(t, lines);
                    }
                }
                TemplateCommand cmd = new Helm(copy).template().withName("rel").withNamespace("ns");
                if (valuesFile != null) {
                    cmd = cmd.withValuesFile(valuesFile);
                }
                for (Map.Entry<String, Object> e : sets.entrySet()) {
                    cmd = cmd.set(e.getKey(), e.getValue());
                }
                return cmd.call();
            } finally {
                try (Stream<Path> all = Files.walk(scratch)) {
                    all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<ObjectNode> objects(Path valuesFile) {
        return parse(template(valuesFile, null, Map.of()));
    }

    /** Parses a multi-document YAML stream into its objects (empty documents dropped). */
    static List<ObjectNode> parse(String yaml) {
        List<ObjectNode> out = new ArrayList<>();
        try {
            Iterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml);
            while (it.hasNext()) {
                JsonNode n = it.next();
                if (n != null && n.isObject() && n.size() > 0) {
                    out.add((ObjectNode) n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("rendered chart is not YAML", e);
        }
        return out;
    }

    /**
     * Lints the chart with {@code valuesFile} merged over values.yaml (helm-java lints only a chart's own
     * values, so the merged values go into a copy of the chart).
     */
    static LintResult lint(Path valuesFile, Path scratch) throws IOException {
        Path copy = scratch.resolve("slipstream");
        copyTree(chartDir(), copy);
        if (valuesFile != null) {
            JsonNode defaults = YAML.readTree(chartDir().resolve("values.yaml").toFile());
            JsonNode overrides = YAML.readTree(valuesFile.toFile());
            Files.writeString(copy.resolve("values.yaml"), YAML.writeValueAsString(merge(defaults, overrides)));
        }
        return new Helm(copy).lint().strict().call();
    }

    /** Helm's value merge: maps merge key by key, everything else (lists too) is replaced. */
    static JsonNode merge(JsonNode base, JsonNode over) {
        if (base == null || !base.isObject() || over == null || !over.isObject()) {
            return over == null ? base : over.deepCopy();
        }
        ObjectNode out = base.deepCopy();
        over.fields().forEachRemaining(e -> out.set(e.getKey(), merge(out.get(e.getKey()), e.getValue())));
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    static List<ObjectNode> ofKind(List<ObjectNode> objects, String kind) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).collect(Collectors.toList());
    }

    static String name(JsonNode o) {
        return o.path("metadata").path("name").asText();
    }
}
