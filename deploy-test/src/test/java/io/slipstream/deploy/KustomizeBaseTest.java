package io.slipstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code k8s/base} is the chart rendered with {@code helm/slipstream/ci/kustomize-values.yaml} (release and
 * namespace "slipstream"), without Helm's own labels and test hook: one file per object plus a
 * kustomization.yaml. This test renders the chart again and compares object by object; with
 * {@code -Dslipstream.k8s.regenerate=true} it rewrites k8s/base instead.
 */
class KustomizeBaseTest {

    static final String REGENERATE = "slipstream.k8s.regenerate";
    private static final String HEADER = "# Generated from helm/slipstream with ci/kustomize-values.yaml; do not edit.\n"
            + "# Regenerate: mvn -o -q test -pl deploy-test -Dtest=KustomizeBaseTest -D" + REGENERATE + "=true\n";
    private static final ObjectMapper OUT = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .disable(YAMLGenerator.Feature.SPLIT_LINES));

    @Test
    void base_matchesTheChartRenderedWithKustomizeValues() throws IOException {
        Map<String, ObjectNode> expected = generate();
        Path base = Chart.repoRoot().resolve("k8s/base");
        if (Boolean.getBoolean(REGENERATE)) {
            write(base, expected);
        }
        Map<String, JsonNode> actual = new TreeMap<>();
        try (Stream<Path> files = Files.list(base)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".yaml")).collect(Collectors.toList())) {
                String name = f.getFileName().toString();
                if (!name.equals("kustomization.yaml")) {
                    actual.put(name, Chart.YAML.readTree(f.toFile()));
                }
            }
        }
        String hint = "k8s/base is out of step with helm/slipstream; regenerate it: "
                + "mvn -o -q test -pl deploy-test -Dtest=KustomizeBaseTest -D" + REGENERATE + "=true";
        assertThat(actual.keySet()).as(hint).containsExactlyElementsOf(expected.keySet());
        for (Map.Entry<String, ObjectNode> e : expected.entrySet()) {
            assertThat(actual.get(e.getKey())).as("%s: %s", e.getKey(), hint).isEqualTo(e.getValue());
        }
        JsonNode kustomization = Chart.YAML.readTree(base.resolve("kustomization.yaml").toFile());
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).as("k8s/base/kustomization.yaml resources: %s", hint)
                .containsExactlyElementsOf(expected.keySet());
    }

    @Test
    void exampleOverlay_patchesOnlyObjectsOfTheBase() throws IOException {
        Map<String, ObjectNode> base = generate();
        Path overlay = Chart.repoRoot().resolve("k8s/overlays/example");
        JsonNode kustomization = Chart.YAML.readTree(overlay.resolve("kustomization.yaml").toFile());
        assertThat(kustomization.path("resources").toString()).contains("../../base");
        List<String> targets = new ArrayList<>();
        for (JsonNode patch : kustomization.path("patches")) {
            JsonNode doc = Chart.YAML.readTree(overlay.resolve(patch.path("path").asText()).toFile());
            targets.add(doc.path("kind").asText() + "/" + Chart.name(doc));
        }
        for (JsonNode r : kustomization.path("replicas")) {
            targets.add("Deployment/" + r.path("name").asText());
        }
        assertThat(targets).isNotEmpty();
        List<String> known = base.values().stream().map(o -> o.path("kind").asText() + "/" + Chart.name(o))
                .collect(Collectors.toList());
        assertThat(known).containsAll(targets);
        JsonNode policyPatch = base.values().stream().filter(o -> "ConfigMap/slipstream-controller"
                .equals(o.path("kind").asText() + "/" + Chart.name(o))).findFirst().orElseThrow();
        assertThat(policyPatch.path("data").has("policy.json")).isTrue();
    }

    /** The base, file name to object, from the chart. */
    static Map<String, ObjectNode> generate() {
        String rendered = new com.marcnuri.helm.Helm(Chart.chartDir()).template().withName("slipstream")
                .withNamespace("slipstream").withValuesFile(Chart.chartDir().resolve("ci/kustomize-values.yaml")).call();
        Map<String, ObjectNode> out = new TreeMap<>();
        for (ObjectNode o : Chart.parse(rendered)) {
            if (o.path("metadata").path("annotations").has("helm.sh/hook")) {
                continue;
            }
            relabel(o);
            if ("RoleBinding".equals(o.path("kind").asText())) {
                // kustomize's namespace transformer fills in (and, in overlays, rewrites) the subjects'
                // namespace only when the base leaves it unset.
                o.path("subjects").forEach(s -> ((ObjectNode) s).remove("namespace"));
            }
            String file = o.path("kind").asText().toLowerCase(Locale.ROOT) + "-" + Chart.name(o) + ".yaml";
            out.put(file, o);
        }
        return out;
    }

    /** Helm's chart label goes; managed-by says kustomize; everything else stays as rendered. */
    private static void relabel(JsonNode node) {
        if (node.isObject()) {
            ObjectNode obj = (ObjectNode) node;
            JsonNode labels = obj.get("labels");
            if (labels != null && labels.isObject()) {
                ((ObjectNode) labels).remove("helm.sh/chart");
                if (labels.has("app.kubernetes.io/managed-by")) {
                    ((ObjectNode) labels).put("app.kubernetes.io/managed-by", "kustomize");
                }
            }
            obj.forEach(KustomizeBaseTest::relabel);
        } else if (node.isArray()) {
            ((ArrayNode) node).forEach(KustomizeBaseTest::relabel);
        }
    }

    private static void write(Path base, Map<String, ObjectNode> objects) throws IOException {
        Files.createDirectories(base);
        try (Stream<Path> old = Files.list(base)) {
            for (Path f : old.filter(f -> f.toString().endsWith(".yaml")).collect(Collectors.toList())) {
                Files.delete(f);
            }
        }
        for (Map.Entry<String, ObjectNode> e : objects.entrySet()) {
            Files.writeString(base.resolve(e.getKey()), HEADER + OUT.writeValueAsString(e.getValue()));
        }
        ObjectNode k = Chart.JSON.createObjectNode();
        k.put("apiVersion", "kustomize.config.k8s.io/v1beta1");
        k.put("kind", "Kustomization");
        k.put("namespace", "slipstream");
        ArrayNode resources = k.putArray("resources");
        objects.keySet().forEach(resources::add);
        Files.writeString(base.resolve("kustomization.yaml"), HEADER + OUT.writeValueAsString(k));
    }
}
