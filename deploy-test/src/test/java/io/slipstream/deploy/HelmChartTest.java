package io.slipstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.LintResult;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.ServiceChain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The chart, rendered by real Helm over every values file in helm/slipstream/ci. */
class HelmChartTest {

    static Stream<Path> ciValues() {
        return Chart.ciValuesFiles().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ciValues")
    void lint_ciValuesFile_passesStrictLint(Path values, @TempDir Path scratch) throws IOException {
        LintResult result = Chart.lint(values, scratch);
        assertThat(result.isFailed()).as("helm lint --strict with %s: %s", values, result.getMessages()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ciValues")
    void template_ciValuesFile_selectorsMatchPodLabelsAndServicesFindPods(Path values) {
        List<ObjectNode> objects = Chart.objects(values);
        List<ObjectNode> workloads = new ArrayList<>(Chart.ofKind(objects, "Deployment"));
        workloads.addAll(Chart.ofKind(objects, "StatefulSet"));
        assertThat(workloads).isNotEmpty();
        List<Map<String, String>> podLabelSets = new ArrayList<>();
        for (ObjectNode w : workloads) {
            Map<String, String> selector = strings(w.path("spec").path("selector").path("matchLabels"));
            Map<String, String> podLabels = strings(w.path("spec").path("template").path("metadata").path("labels"));
            assertThat(selector).as("%s selector", Chart.name(w)).isNotEmpty();
            assertThat(podLabels).as("%s: pod labels must carry its selector", Chart.name(w)).containsAllEntriesOf(selector);
            assertThat(strings(w.path("metadata").path("labels")))
                    .as("%s: object labels", Chart.name(w))
                    .containsKeys("app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart");
            podLabelSets.add(podLabels);
        }
        // Each workload's selector picks only its own pods (no two workloads overlap).
        for (ObjectNode w : workloads) {
            Map<String, String> selector = strings(w.path("spec").path("selector").path("matchLabels"));
            long matching = podLabelSets.stream().filter(l -> l.entrySet().containsAll(selector.entrySet())).count();
            assertThat(matching).as("%s: workloads whose pods its selector matches", Chart.name(w)).isEqualTo(1);
        }
        for (ObjectNode s : Chart.ofKind(objects, "Service")) {
            Map<String, String> selector = strings(s.path("spec").path("selector"));
            assertThat(podLabelSets.stream().anyMatch(l -> l.entrySet().containsAll(selector.entrySet())))
                    .as("Service %s selects some workload's pods", Chart.name(s)).isTrue();
        }
        for (ObjectNode pdb : Chart.ofKind(objects, "PodDisruptionBudget")) {
            Map<String, String> selector = strings(pdb.path("spec").path("selector").path("matchLabels"));
            assertThat(podLabelSets.stream().filter(l -> l.entrySet().containsAll(selector.entrySet())).count())
                    .as("PDB %s selects exactly one workload's pods", Chart.name(pdb)).isEqualTo(1);
        }
        for (ObjectNode hpa : Chart.ofKind(objects, "HorizontalPodAutoscaler")) {
            String target = hpa.path("spec").path("scaleTargetRef").path("name").asText();
            assertThat(Chart.ofKind(objects, "Deployment").stream().map(Chart::name)).as("HPA %s target", Chart.name(hpa))
                    .contains(target);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ciValues")
    void template_ciValuesFile_everyContainerHasProbesResourcesAndLockedDownSecurityContext(Path values) {
        List<ObjectNode> objects = Chart.parse(Chart.templateWithTests(values, Map.of()));
        assertThat(Chart.ofKind(objects, "Pod")).as("the helm test pod").hasSize(1);
        int containers = 0;
        for (ObjectNode o : objects) {
            String kind = o.path("kind").asText();
            JsonNode podSpec = "Pod".equals(kind) ? o.path("spec") : o.path("spec").path("template").path("spec");
            if (!podSpec.has("containers")) {
                continue;
            }
            boolean hook = "Pod".equals(kind); // the helm test pod: it runs once, no probes
            JsonNode podSec = podSpec.path("securityContext");
            assertThat(podSec.path("runAsNonRoot").asBoolean()).as("%s pod runAsNonRoot", Chart.name(o)).isTrue();
            assertThat(podSec.path("seccompProfile").path("type").asText()).isEqualTo("RuntimeDefault");
            for (JsonNode c : podSpec.path("containers")) {
                containers++;
                String what = kind + " " + Chart.name(o) + " container " + c.path("name").asText();
                if (!hook) {
                    assertThat(c.has("livenessProbe")).as("%s livenessProbe", what).isTrue();
                    assertThat(c.has("readinessProbe")).as("%s readinessProbe", what).isTrue();
                }
                assertThat(c.path("resources").path("requests").has("cpu")).as("%s cpu request", what).isTrue();
                assertThat(c.path("resources").path("requests").has("memory")).as("%s memory request", what).isTrue();
                assertThat(c.path("resources").path("limits").has("memory")).as("%s memory limit", what).isTrue();
                JsonNode sec = c.path("securityContext");
                assertThat(sec.path("runAsNonRoot").asBoolean()).as("%s runAsNonRoot", what).isTrue();
                assertThat(sec.path("runAsUser").asInt()).as("%s runAsUser", what).isEqualTo(10001);
                assertThat(sec.path("readOnlyRootFilesystem").asBoolean()).as("%s readOnlyRootFilesystem", what).isTrue();
                assertThat(sec.path("allowPrivilegeEscalation").asBoolean(true)).as("%s allowPrivilegeEscalation", what).isFalse();
                assertThat(texts(sec.path("capabilities").path("drop"))).as("%s drops", what).containsExactly("ALL");
                assertThat(sec.path("seccompProfile").path("type").asText()).as("%s seccomp", what).isEqualTo("RuntimeDefault");
                assertThat(texts(c.path("volumeMounts").findValues("mountPath").stream()))
                        .as("%s: writable /tmp for a read-only root", what).contains("/tmp");
            }
        }
        assertThat(containers).isGreaterThan(0);
    }

    @Test
    void template_workers_probeHealthzAndReadyzOnMetricsPortAndTakeIdFromPodName() {
        List<ObjectNode> objects = Chart.objects(ci("multisite-values.yaml"));
        List<ObjectNode> workers = Chart.ofKind(objects, "Deployment").stream()
                .filter(d -> !Chart.name(d).endsWith("-controller")).collect(Collectors.toList());
        assertThat(workers.stream().map(Chart::name)).containsExactlyInAnyOrder(
                "rel-slipstream-wanopt-a", "rel-slipstream-cache-a", "rel-slipstream-gateway-a",
                "rel-slipstream-wanopt-b", "rel-slipstream-cache-b", "rel-slipstream-gateway-b");
        for (ObjectNode d : workers) {
            JsonNode c = d.path("spec").path("template").path("spec").path("containers").get(0);
            assertThat(c.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/healthz");
            assertThat(c.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readyz");
            assertThat(c.path("readinessProbe").path("httpGet").path("port").asText()).isEqualTo("metrics");
            assertThat(texts(c.path("args"))).contains("worker", "--id=$(POD_NAME)", "--advertise=$(POD_IP)");
            JsonNode podName = c.path("env").findParents("name").stream()
                    .filter(e -> "POD_NAME".equals(e.path("name").asText())).findFirst().orElseThrow();
            assertThat(podName.path("valueFrom").path("fieldRef").path("fieldPath").asText()).isEqualTo("metadata.name");
            String role = d.path("metadata").path("labels").path("app.kubernetes.io/component").asText();
            assertThat(d.path("spec").path("template").path("metadata").path("annotations")
                    .path("k8s.v1.cni.cncf.io/networks").isMissingNode())
                    .as("%s Multus annotation only for roles given networks", Chart.name(d))
                    .isEqualTo("cache".equals(role));
        }
        ObjectNode headless = Chart.ofKind(objects, "Service").stream()
                .filter(s -> Chart.name(s).equals("rel-slipstream-wanopt-b")).findFirst().orElseThrow();
        assertThat(headless.path("spec").path("clusterIP").asText()).isEqualTo("None");
    }

    @Test
    void template_wanoptWorkers_keepTheirChunkStoresOnAVolumeSizedInGib(@TempDir Path dir) throws IOException {
        for (ObjectNode d : Chart.ofKind(Chart.objects(ci("multisite-values.yaml")), "Deployment")) {
            String role = d.path("metadata").path("labels").path("app.kubernetes.io/component").asText();
            JsonNode spec = d.path("spec").path("template").path("spec");
            JsonNode c = spec.path("containers").get(0);
            JsonNode volume = spec.path("volumes").findParents("name").stream()
                    .filter(v -> "chunk-store".equals(v.path("name").asText())).findFirst().orElse(null);
            if (!"wanopt".equals(role)) {
                assertThat(volume).as("%s has no chunk store", Chart.name(d)).isNull();
                continue;
            }
            assertThat(texts(c.path("args"))).contains("--chunk-store-gib=2",
                    "--chunk-store-dir=/var/lib/slipstream/chunk-store");
            assertThat(volume.path("emptyDir").path("sizeLimit").asText()).isEqualTo("9Gi");
            assertThat(c.path("volumeMounts").findParents("name").stream()
                    .filter(m -> "chunk-store".equals(m.path("name").asText())).findFirst().orElseThrow()
                    .path("mountPath").asText()).isEqualTo("/var/lib/slipstream/chunk-store");
        }
        Path values = dir.resolve("claim.yaml");
        Files.writeString(values, "workers: {wanopt: {chunkStore: {gib: 0.5, existingClaim: wan-stores}}}\n");
        ObjectNode wanopt = Chart.ofKind(Chart.objects(values), "Deployment").stream()
                .filter(d -> Chart.name(d).endsWith("-wanopt-a")).findFirst().orElseThrow();
        JsonNode spec = wanopt.path("spec").path("template").path("spec");
        assertThat(texts(spec.path("containers").get(0).path("args"))).contains("--chunk-store-gib=0.5");
        assertThat(spec.path("volumes").findParents("name").stream()
                .filter(v -> "chunk-store".equals(v.path("name").asText())).findFirst().orElseThrow()
                .path("persistentVolumeClaim").path("claimName").asText()).isEqualTo("wan-stores");
        assertThat(spec.path("containers").get(0).path("volumeMounts").toString()).contains("\"subPathExpr\":\"$(POD_NAME)\"");
    }

    /** The cache Deployment of site a rendered with {@code values} for Kubernetes {@code kubeVersion}. */
    private static JsonNode cachePodSpec(Path dir, String values, String kubeVersion) throws IOException {
        Path file = Files.createTempFile(dir, "disk", ".yaml");
        Files.writeString(file, values);
        return Chart.ofKind(Chart.parse(Chart.template(file, kubeVersion, Map.of())), "Deployment").stream()
                .filter(d -> Chart.name(d).endsWith("-cache-a")).findFirst().orElseThrow()
                .path("spec").path("template").path("spec");
    }

    private static JsonNode cacheDiskVolume(JsonNode podSpec) {
        return podSpec.path("volumes").findParents("name").stream()
                .filter(v -> "cache-disk".equals(v.path("name").asText())).findFirst().orElse(null);
    }

    @Test
    void template_cacheDiskTier_offByDefault() {
        for (ObjectNode d : Chart.ofKind(Chart.objects(ci("default-values.yaml")), "Deployment")) {
            JsonNode spec = d.path("spec").path("template").path("spec");
            assertThat(cacheDiskVolume(spec)).as("%s has no disk tier volume", Chart.name(d)).isNull();
            assertThat(texts(spec.path("containers").get(0).path("args")))
                    .noneMatch(a -> a.startsWith("--cache-disk"));
        }
    }

    @Test
    void template_cacheDiskTierEnabled_emptyDirSizedAndFlagsWired(@TempDir Path dir) throws IOException {
        JsonNode spec = cachePodSpec(dir, "workers: {cache: {disk: {enabled: true, gib: 1048576, sizeLimit: 1025Ti}}}\n",
                null);
        JsonNode c = spec.path("containers").get(0);
        assertThat(texts(c.path("args"))).contains("--cache-disk-dir=/var/lib/slipstream/cache-disk",
                "--cache-disk-gib=1048576");
        assertThat(cacheDiskVolume(spec).path("emptyDir").path("sizeLimit").asText()).isEqualTo("1025Ti");
        assertThat(c.path("volumeMounts").findParents("name").stream()
                .filter(m -> "cache-disk".equals(m.path("name").asText())).findFirst().orElseThrow()
                .path("mountPath").asText()).isEqualTo("/var/lib/slipstream/cache-disk");

        JsonNode defaults = cachePodSpec(dir, "workers: {cache: {disk: {enabled: true}}}\n", null);
        assertThat(texts(defaults.path("containers").get(0).path("args"))).contains("--cache-disk-gib=10");
        assertThat(cacheDiskVolume(defaults).path("emptyDir").path("sizeLimit").asText()).isEqualTo("11Gi");
        for (ObjectNode d : Chart.ofKind(Chart.parse(Chart.template(writeValues(dir,
                "workers: {cache: {disk: {enabled: true}}}\n"), null, Map.of())), "Deployment")) {
            if (!"cache".equals(d.path("metadata").path("labels").path("app.kubernetes.io/component").asText())) {
                assertThat(cacheDiskVolume(d.path("spec").path("template").path("spec")))
                        .as("%s has no disk tier", Chart.name(d)).isNull();
            }
        }
    }

    @Test
    void template_cacheDiskTierWithStorageClass_perPodEphemeralClaim(@TempDir Path dir) throws IOException {
        JsonNode spec = cachePodSpec(dir,
                "workers: {cache: {disk: {enabled: true, gib: 20, sizeLimit: 22Gi, storageClass: fast-ssd}}}\n",
                "1.30.0");
        JsonNode volume = cacheDiskVolume(spec);
        assertThat(volume.has("emptyDir")).isFalse();
        JsonNode claim = volume.path("ephemeral").path("volumeClaimTemplate").path("spec");
        assertThat(claim.path("storageClassName").asText()).isEqualTo("fast-ssd");
        assertThat(claim.path("resources").path("requests").path("storage").asText()).isEqualTo("22Gi");
        assertThat(texts(claim.path("accessModes"))).containsExactly("ReadWriteOnce");
        assertThat(texts(spec.path("containers").get(0).path("args"))).contains("--cache-disk-gib=20");

        Path old = writeValues(dir, "workers: {cache: {disk: {enabled: true, storageClass: fast-ssd}}}\n");
        assertThatThrownBy(() -> Chart.template(old, "1.20.2", Map.of()))
                .hasMessageContaining("workers.cache.disk.storageClass needs Kubernetes 1.21+");
    }

    private static Path writeValues(Path dir, String values) throws IOException {
        Path file = Files.createTempFile(dir, "values", ".yaml");
        Files.writeString(file, values);
        return file;
    }

    @Test
    void template_rbac_grantsExactlyTheScaleTargetsVerbsInItsNamespace() {
        List<ObjectNode> objects = Chart.objects(ci("default-values.yaml"));
        assertThat(Chart.ofKind(objects, "ClusterRole")).isEmpty();
        assertThat(Chart.ofKind(objects, "ClusterRoleBinding")).isEmpty();
        List<ObjectNode> roles = Chart.ofKind(objects, "Role");
        assertThat(roles).hasSize(1);
        assertThat(rules(roles.get(0))).isEqualTo(expectedRules());
        ObjectNode binding = Chart.ofKind(objects, "RoleBinding").get(0);
        assertThat(binding.path("roleRef").path("name").asText()).isEqualTo(Chart.name(roles.get(0)));
        JsonNode subject = binding.path("subjects").get(0);
        assertThat(subject.path("kind").asText()).isEqualTo("ServiceAccount");
        assertThat(subject.path("name").asText()).isEqualTo("rel-slipstream-controller");
        assertThat(subject.path("namespace").asText()).isEqualTo("ns");
        for (ObjectNode d : Chart.ofKind(objects, "Deployment")) {
            JsonNode spec = d.path("spec").path("template").path("spec");
            boolean controller = Chart.name(d).endsWith("-controller");
            assertThat(spec.path("serviceAccountName").asText())
                    .isEqualTo(controller ? "rel-slipstream-controller" : "rel-slipstream-worker");
            assertThat(spec.path("automountServiceAccountToken").asBoolean()).as("%s token", Chart.name(d)).isEqualTo(controller);
        }
    }

    /** The Role must match k8s/rbac/controller-role.yaml (owned by the Kubernetes scale target) when it exists. */
    private static Map<String, Set<String>> expectedRules() {
        Path shared = Chart.repoRoot().resolve("k8s/rbac/controller-role.yaml");
        if (Files.isRegularFile(shared)) {
            try {
                return Chart.parse(Files.readString(shared)).stream().filter(o -> "Role".equals(o.path("kind").asText()))
                        .findFirst().map(HelmChartTest::rules).orElseThrow();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        Map<String, Set<String>> rules = new LinkedHashMap<>();
        rules.put("apps/deployments", new TreeSet<>(List.of("list")));
        rules.put("apps/deployments/scale", new TreeSet<>(List.of("get", "update")));
        rules.put("/pods", new TreeSet<>(List.of("list", "patch")));
        return rules;
    }

    private static Map<String, Set<String>> rules(JsonNode role) {
        Map<String, Set<String>> out = new HashMap<>();
        for (JsonNode rule : role.path("rules")) {
            assertThat(rule.has("resourceNames") || rule.has("nonResourceURLs")).isFalse();
            for (String group : texts(rule.path("apiGroups"))) {
                for (String resource : texts(rule.path("resources"))) {
                    out.computeIfAbsent(group + "/" + resource, k -> new TreeSet<>()).addAll(texts(rule.path("verbs")));
                }
            }
        }
        assertThat(out.values().stream().flatMap(Set::stream)).doesNotContain("*");
        return new HashMap<>(out);
    }

    @Test
    void template_tls_everyPodGetsAPerPodCertificateNamingItsFleetIdentity() {
        List<ObjectNode> objects = Chart.objects(ci("multisite-values.yaml"));
        List<ObjectNode> deployments = Chart.ofKind(objects, "Deployment");
        assertThat(deployments).hasSize(7);
        for (ObjectNode d : deployments) {
            JsonNode spec = d.path("spec").path("template").path("spec");
            JsonNode c = spec.path("containers").get(0);
            assertThat(texts(c.path("args"))).as(Chart.name(d))
                    .contains("--tls-dir=/var/run/slipstream/tls", "--tls-reload-ms=10000")
                    .doesNotContain("--insecure-plaintext");
            JsonNode mount = c.path("volumeMounts").findParents("name").stream()
                    .filter(m -> "tls".equals(m.path("name").asText())).findFirst().orElseThrow();
            assertThat(mount.path("readOnly").asBoolean()).isTrue();
            JsonNode volume = spec.path("volumes").findParents("name").stream()
                    .filter(v -> "tls".equals(v.path("name").asText())).findFirst().orElseThrow();
            assertThat(volume.path("csi").path("driver").asText()).isEqualTo("csi.cert-manager.io");
            JsonNode attributes = volume.path("csi").path("volumeAttributes");
            assertThat(attributes.path("csi.cert-manager.io/key-encoding").asText()).isEqualTo("PKCS8");
            assertThat(attributes.path("csi.cert-manager.io/issuer-name").asText()).isEqualTo("slipstream-ca");
            String name = Chart.name(d);
            String expected = name.equals("rel-slipstream-controller") ? "urn:slipstream:controller:rel-slipstream"
                    : "urn:slipstream:worker:" + name.substring(name.lastIndexOf('-') + 1) + ":${POD_NAME}";
            assertThat(attributes.path("csi.cert-manager.io/uri-sans").asText()).as(name).isEqualTo(expected);
        }
    }

    @Test
    void template_tlsDisabled_everyProcessRunsExplicitlyPlaintextWithoutCertificates() {
        List<ObjectNode> objects = Chart.parse(Chart.template(ci("multisite-values.yaml"), null,
                Map.of("tls.enabled", false)));
        for (ObjectNode d : Chart.ofKind(objects, "Deployment")) {
            JsonNode spec = d.path("spec").path("template").path("spec");
            assertThat(texts(spec.path("containers").get(0).path("args"))).as(Chart.name(d))
                    .contains("--insecure-plaintext").noneMatch(a -> a.startsWith("--tls-"));
            assertThat(spec.path("volumes").findParents("name").stream().map(v -> v.path("name").asText()))
                    .doesNotContain("tls");
        }
    }

    @Test
    void template_onosMode_deploysNoControllerNorItsRbac() {
        List<ObjectNode> objects = Chart.objects(ci("onos-values.yaml"));
        assertThat(Chart.ofKind(objects, "Deployment").stream().map(Chart::name)).doesNotContain("rel-slipstream-controller");
        assertThat(Chart.ofKind(objects, "Role")).isEmpty();
        assertThat(Chart.ofKind(objects, "RoleBinding")).isEmpty();
        assertThat(Chart.ofKind(objects, "StatefulSet")).hasSize(1);
    }

    @Test
    void template_externalZooKeeper_noStatefulSetAndWorkersGetTheConnectString() {
        List<ObjectNode> objects = Chart.objects(ci("external-zookeeper-values.yaml"));
        assertThat(Chart.ofKind(objects, "StatefulSet")).isEmpty();
        ObjectNode cm = Chart.ofKind(objects, "ConfigMap").stream().filter(c -> Chart.name(c).endsWith("-worker"))
                .findFirst().orElseThrow();
        assertThat(cm.path("data").path("SLIPSTREAM_ZOOKEEPER").asText()).startsWith("zk-0.zk.infra.svc:2181,");
    }

    /** Issue 10: the ZooKeeper credentials Secret is mounted into every worker and the controller. */
    @Test
    void template_zooKeeperAuth_generatedSecretMountedIntoControllerAndWorkers() throws Exception {
        List<ObjectNode> objects = Chart.objects(ci("default-values.yaml"));
        ObjectNode secret = Chart.ofKind(objects, "Secret").stream()
                .filter(o -> Chart.name(o).equals("rel-slipstream-zookeeper-auth")).findFirst().orElseThrow();
        String properties = new String(java.util.Base64.getDecoder().decode(
                secret.path("data").path("zk-auth.properties").asText()), java.nio.charset.StandardCharsets.UTF_8);
        io.slipstream.common.ZooKeeperAuth auth = io.slipstream.common.ZooKeeperAuth.parse(properties);
        assertThat(auth.user()).isEqualTo("slipstream");
        assertThat(properties).containsPattern("password=[A-Za-z0-9]{32}\\n");
        List<ObjectNode> deployments = Chart.ofKind(objects, "Deployment");
        assertThat(deployments).extracting(Chart::name).contains("rel-slipstream-controller", "rel-slipstream-wanopt-a");
        for (ObjectNode d : deployments) {
            assertThat(zkAuthSecretOf(d)).as(Chart.name(d)).isEqualTo("rel-slipstream-zookeeper-auth");
        }

        List<ObjectNode> existing = Chart.parse(Chart.template(ci("default-values.yaml"), null,
                Map.of("zookeeper.auth.existingSecret", "fleet-zk")));
        assertThat(Chart.ofKind(existing, "Secret")).extracting(Chart::name).doesNotContain("rel-slipstream-zookeeper-auth");
        Chart.ofKind(existing, "Deployment").forEach(d -> assertThat(zkAuthSecretOf(d)).isEqualTo("fleet-zk"));

        List<ObjectNode> open = Chart.parse(Chart.template(ci("default-values.yaml"), null,
                Map.of("zookeeper.auth.enabled", false)));
        assertThat(Chart.ofKind(open, "Secret")).extracting(Chart::name).doesNotContain("rel-slipstream-zookeeper-auth");
        Chart.ofKind(open, "Deployment").forEach(d -> assertThat(zkAuthSecretOf(d)).isNull());
    }

    /** The Secret a Deployment's SLIPSTREAM_ZK_AUTH file comes from, or null when it has none. */
    private static String zkAuthSecretOf(ObjectNode deployment) {
        JsonNode spec = deployment.path("spec").path("template").path("spec");
        JsonNode container = spec.path("containers").get(0);
        String env = null;
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals("SLIPSTREAM_ZK_AUTH")) {
                env = e.path("value").asText();
            }
        }
        if (env == null) {
            return null;
        }
        for (JsonNode m : container.path("volumeMounts")) {
            if (env.startsWith(m.path("mountPath").asText() + "/")) {
                for (JsonNode v : spec.path("volumes")) {
                    if (v.path("name").asText().equals(m.path("name").asText())) {
                        return v.path("secret").path("secretName").asText();
                    }
                }
            }
        }
        throw new AssertionError(Chart.name(deployment) + ": SLIPSTREAM_ZK_AUTH=" + env + " is on no mounted volume");
    }

    /** Issue 23: two controllers (one leads), rolled one at a time, kept by a PodDisruptionBudget. */
    @Test
    void template_controller_twoReplicasRollingWithPdbAndAdvertisedUrl() {
        List<ObjectNode> objects = Chart.objects(ci("default-values.yaml"));
        ObjectNode controller = Chart.ofKind(objects, "Deployment").stream()
                .filter(d -> Chart.name(d).equals("rel-slipstream-controller")).findFirst().orElseThrow();
        assertThat(controller.path("spec").path("replicas").asInt()).isEqualTo(2);
        assertThat(controller.path("spec").path("strategy").path("type").asText()).isEqualTo("RollingUpdate");
        assertThat(controller.path("spec").path("strategy").path("rollingUpdate").path("maxUnavailable").asInt()).isZero();
        JsonNode container = controller.path("spec").path("template").path("spec").path("containers").get(0);
        assertThat(texts(container.path("args"))).contains("--name=$(POD_NAME)");
        assertThat(container.path("env").toString()).contains("\"fieldPath\":\"status.podIP\"",
                "{\"name\":\"SLIPSTREAM_ADVERTISE_URL\",\"value\":\"http://$(POD_IP):8080\"}");
        ObjectNode pdb = Chart.ofKind(objects, "PodDisruptionBudget").stream()
                .filter(d -> Chart.name(d).equals("rel-slipstream-controller")).findFirst().orElseThrow();
        assertThat(pdb.path("spec").path("minAvailable").asInt()).isEqualTo(1);
        assertThat(pdb.path("spec").path("selector").path("matchLabels").path("app.kubernetes.io/component").asText())
                .isEqualTo("controller");

        List<ObjectNode> single = Chart.parse(Chart.template(ci("default-values.yaml"), null,
                Map.of("controller.replicas", 1)));
        assertThat(Chart.ofKind(single, "PodDisruptionBudget").stream().map(Chart::name))
                .as("no PDB a single controller could never satisfy").doesNotContain("rel-slipstream-controller");
        assertThatThrownBy(() -> Chart.template(ci("default-values.yaml"), null, Map.of("controller.replicas", 0)))
                .hasMessageContaining("replicas");
    }

    @Test
    void template_adminTokens_fromExistingSecret_mountedIntoTheController() {
        ObjectNode none = Chart.ofKind(Chart.objects(ci("default-values.yaml")), "Deployment").stream()
                .filter(d -> Chart.name(d).equals("rel-slipstream-controller")).findFirst().orElseThrow();
        assertThat(none.toString()).doesNotContain("SLIPSTREAM_ADMIN_TOKENS").doesNotContain("--admin-require-auth-for-reads");
        ObjectNode controller = Chart.ofKind(Chart.parse(Chart.template(ci("default-values.yaml"), null,
                        Map.of("controller.admin.existingSecret", "ops-tokens", "controller.admin.requireAuthForReads", true))),
                "Deployment").stream().filter(d -> Chart.name(d).equals("rel-slipstream-controller")).findFirst().orElseThrow();
        JsonNode spec = controller.path("spec").path("template").path("spec");
        assertThat(spec.path("containers").get(0).path("env").toString())
                .contains("\"SLIPSTREAM_ADMIN_TOKENS\"", "/var/run/slipstream/admin/admin-tokens");
        assertThat(spec.path("containers").get(0).path("args").toString()).contains("--admin-require-auth-for-reads");
        assertThat(spec.path("volumes").toString()).contains("\"secretName\":\"ops-tokens\"");
    }

    @Test
    void template_everyPod_carriesChecksumOfItsConfigMapAndOnlyItsOwnChanges() {
        Map<String, String> before = checksums(Chart.parse(Chart.template(ci("default-values.yaml"), null, Map.of())));
        assertThat(before).containsKeys("rel-slipstream-controller", "rel-slipstream-wanopt-a", "rel-slipstream-cache-a",
                "rel-slipstream-zookeeper");
        assertThat(before.values()).allMatch(v -> v.matches("[0-9a-f]{64}"));
        Map<String, String> policyChanged = checksums(Chart.parse(
                Chart.template(ci("default-values.yaml"), null, Map.of("compression.level", 9))));
        assertThat(policyChanged.get("rel-slipstream-controller")).isNotEqualTo(before.get("rel-slipstream-controller"));
        assertThat(policyChanged.get("rel-slipstream-wanopt-a")).isEqualTo(before.get("rel-slipstream-wanopt-a"));
        Map<String, String> workerChanged = checksums(Chart.parse(
                Chart.template(ci("default-values.yaml"), null, Map.of("workers.javaOpts", "-Xmx300m"))));
        assertThat(workerChanged.get("rel-slipstream-wanopt-a")).isNotEqualTo(before.get("rel-slipstream-wanopt-a"));
        assertThat(workerChanged.get("rel-slipstream-controller")).isEqualTo(before.get("rel-slipstream-controller"));
    }

    private static Map<String, String> checksums(List<ObjectNode> objects) {
        Map<String, String> out = new HashMap<>();
        for (ObjectNode o : objects) {
            JsonNode a = o.path("spec").path("template").path("metadata").path("annotations").path("checksum/config");
            if (!a.isMissingNode()) {
                out.put(Chart.name(o), a.asText());
            }
        }
        return out;
    }

    @Test
    void template_policyValues_renderAFleetPolicyTheControllerAccepts() throws Exception {
        List<ObjectNode> objects = Chart.objects(ci("multisite-values.yaml"));
        ObjectNode cm = Chart.ofKind(objects, "ConfigMap").stream().filter(c -> Chart.name(c).endsWith("-controller"))
                .findFirst().orElseThrow();
        FleetPolicy policy = FleetPolicies.parse(cm.path("data").path("policy.json").asText());
        assertThat(policy.getPoliciesCount()).isEqualTo(3);
        assertThat(policy.getPolicies(0).getChain()).isEqualTo(ServiceChain.SERVICE_CHAIN_WANOPT);
        assertThat(policy.getCompression().getLevel()).isEqualTo(6);
        assertThat(policy.getBucketCount()).isEqualTo(512);
        JsonNode scaling = Chart.JSON.readTree(cm.path("data").path("controller.json").asText()).path("scaling");
        assertThat(scaling.path("target").asText()).isEqualTo("kubernetes");
        assertThat(scaling.path("rules")).hasSize(2);
        ObjectNode controller = Chart.ofKind(objects, "Deployment").stream()
                .filter(d -> Chart.name(d).endsWith("-controller")).findFirst().orElseThrow();
        assertThat(texts(controller.path("spec").path("template").path("spec").path("containers").get(0).path("args")))
                .contains("--policy=/etc/slipstream/policy.json", "--config=/etc/slipstream/controller.json");
    }

    @Test
    void template_hpa_followsTheApiVersionsOfTheCluster() {
        String old = Chart.template(ci("hpa-values.yaml"), "1.20.2", Map.of());
        String current = Chart.template(ci("hpa-values.yaml"), "1.30.0", Map.of());
        assertThat(apiVersions(Chart.parse(old), "HorizontalPodAutoscaler")).containsOnly("autoscaling/v2beta2");
        assertThat(apiVersions(Chart.parse(old), "PodDisruptionBudget")).containsOnly("policy/v1beta1");
        assertThat(apiVersions(Chart.parse(current), "HorizontalPodAutoscaler")).containsOnly("autoscaling/v2");
        assertThat(apiVersions(Chart.parse(current), "PodDisruptionBudget")).containsOnly("policy/v1");
        for (ObjectNode d : Chart.ofKind(Chart.parse(current), "Deployment")) {
            if (!Chart.name(d).endsWith("-controller")) {
                assertThat(d.path("spec").has("replicas")).as("%s leaves replicas to the HPA", Chart.name(d)).isFalse();
            }
        }
    }

    private static Set<String> apiVersions(List<ObjectNode> objects, String kind) {
        return Chart.ofKind(objects, kind).stream().map(o -> o.path("apiVersion").asText()).collect(Collectors.toSet());
    }

    @Test
    void template_observabilityValues_rendersServiceMonitorAndNetworkPolicies() {
        List<ObjectNode> objects = Chart.objects(ci("observability-values.yaml"));
        assertThat(Chart.ofKind(objects, "ServiceMonitor")).hasSize(1);
        // The dashboard's per-site panels group by the workers' site, relabelled from their Service's label.
        JsonNode relabel = Chart.ofKind(objects, "ServiceMonitor").get(0).path("spec").path("endpoints").get(0)
                .path("relabelings").get(0);
        assertThat(relabel.path("sourceLabels").get(0).asText()).isEqualTo("__meta_kubernetes_service_label_slipstream_io_site");
        assertThat(relabel.path("targetLabel").asText()).isEqualTo("site");
        assertThat(Chart.ofKind(objects, "NetworkPolicy").stream().map(Chart::name))
                .containsExactlyInAnyOrder("rel-slipstream-worker", "rel-slipstream-controller", "rel-slipstream-zookeeper");
        JsonNode workerIngress = networkPolicy(objects, "rel-slipstream-worker").path("spec").path("ingress");
        // Control: only the controller's pods.
        assertThat(ingressFrom(workerIngress, "control").toString()).contains("\"app.kubernetes.io/component\":\"controller\"");
        // Metrics: the scrapers' namespace and the release's own pods (the helm test pod).
        String metricsFrom = ingressFrom(workerIngress, "metrics").toString();
        assertThat(metricsFrom).contains("monitoring", "\"app.kubernetes.io/instance\":\"rel\"");
        // ZooKeeper: clients only from the release.
        JsonNode zkIngress = networkPolicy(objects, "rel-slipstream-zookeeper").path("spec").path("ingress");
        assertThat(ingressFrom(zkIngress, "client").toString()).contains("\"app.kubernetes.io/instance\":\"rel\"");
    }

    @Test
    void template_onosWithNetworkPolicy_letsOnosReachControlPortsAndZooKeeper() {
        List<ObjectNode> objects = Chart.objects(ci("onos-values.yaml"));
        JsonNode workerIngress = networkPolicy(objects, "rel-slipstream-worker").path("spec").path("ingress");
        assertThat(ingressFrom(workerIngress, "control").isMissingNode()).as("control from anywhere (controlFrom empty)").isTrue();
        JsonNode zkIngress = networkPolicy(objects, "rel-slipstream-zookeeper").path("spec").path("ingress");
        assertThat(ingressFrom(zkIngress, "client").isMissingNode()).as("ZooKeeper clients from anywhere").isTrue();
        assertThat(Chart.ofKind(objects, "NetworkPolicy").stream().map(Chart::name)).doesNotContain("rel-slipstream-controller");
    }

    private static JsonNode networkPolicy(List<ObjectNode> objects, String name) {
        return Chart.ofKind(objects, "NetworkPolicy").stream().filter(n -> name.equals(Chart.name(n))).findFirst().orElseThrow();
    }

    /** The "from" of the ingress rule for the named port (missing: from anywhere). */
    private static JsonNode ingressFrom(JsonNode ingress, String port) {
        for (JsonNode rule : ingress) {
            for (JsonNode p : rule.path("ports")) {
                if (port.equals(p.path("port").asText())) {
                    return rule.path("from");
                }
            }
        }
        throw new AssertionError("no ingress rule for port " + port + " in " + ingress);
    }

    @Test
    void template_badValues_rejectedWithMessageNamingTheValue(@TempDir Path dir) throws IOException {
        assertRejected(dir, "sites: [{name: a, replicas: {wanopt: -1}}]", "'/sites/0/replicas/wanopt'");
        assertRejected(dir, "policy: {policies: [{name: p, chain: teleport}]}", "'/policy/policies/0/chain'");
        assertRejected(dir, "policy: {policies: [{name: p, chain: cache, srcPrefixes: [10.1.0.0/33]}]}",
                "'/policy/policies/0/srcPrefixes/0'");
        assertRejected(dir, "policy: {policies: [{name: p, chain: cache, dstPorts: [70000]}]}", "'/policy/policies/0/dstPorts/0'");
        assertRejected(dir, "compression: {codec: brotli}", "'/compression/codec'");
        assertRejected(dir, "compression: {level: 23}", "'/compression/level'");
        assertRejected(dir, "policy: {bucketCount: 100}", "'/policy/bucketCount'");
        assertRejected(dir, "zookeeper: {enabled: false}", "'/zookeeper'");
        assertRejected(dir, "zookeeper: {replicas: 2}", "'/zookeeper/replicas'");
        assertRejected(dir, "workers: {wanopt: {forwards: [\"9445=nowhere\"]}}", "'/workers/wanopt/forwards/0'");
        assertRejected(dir, "workers: {wanopt: {chunkStore: {gib: 0}}}", "'/workers/wanopt/chunkStore/gib'");
        assertRejected(dir, "workers: {wanopt: {chunkStore: {sizeLimit: lots}}}", "'/workers/wanopt/chunkStore/sizeLimit'");
        assertRejected(dir, "workers: {wanopt: {chunkStoreMib: 256}}", "chunkStoreMib");
        assertRejected(dir, "sites: [{name: A_1, replicas: {cache: 1}}]", "'/sites/0/name'");
        assertRejected(dir, "replicaCount: 3", "replicaCount");
        assertRejected(dir, "hpa: {enabled: true}\nscaling: {enabled: true}", "choose the HorizontalPodAutoscaler");
        assertRejected(dir, "sites: [{name: a, replicas: {cache: 1}}, {name: a, replicas: {wanopt: 1}}]", "listed twice");
        assertRejected(dir, "zookeeper: {auth: {existingSecret: Fleet_Secret}}", "'/zookeeper/auth/existingSecret'");
        assertRejected(dir, "zookeeper: {auth: {password: hunter2}}", "'/zookeeper/auth'");
        assertRejected(dir, "controller: {admin: {existingSecret: \"a b\"}}", "'/controller/admin/existingSecret'");
    }

    private static void assertRejected(Path dir, String values, String expected) throws IOException {
        Path file = Files.createTempFile(dir, "bad", ".yaml");
        Files.writeString(file, values);
        assertThatThrownBy(() -> Chart.template(file, null, Map.of()))
                .as("values %s", values)
                .hasMessageContaining(expected);
    }

    @Test
    void schema_everyValue_hasADescription() throws IOException {
        JsonNode schema = Chart.JSON.readTree(Chart.chartDir().resolve("values.schema.json").toFile());
        List<String> missing = new ArrayList<>();
        describe(schema, "$", missing);
        assertThat(missing).as("schema nodes without a description").isEmpty();
        // And every value in values.yaml is in the schema.
        JsonNode values = Chart.YAML.readTree(Chart.chartDir().resolve("values.yaml").toFile());
        List<String> unknown = new ArrayList<>();
        covered(values, schema, "", unknown);
        assertThat(unknown).as("values.yaml keys the schema does not describe").isEmpty();
    }

    private static void describe(JsonNode node, String path, List<String> missing) {
        if (!node.isObject()) {
            return;
        }
        if (node.has("type") || node.has("oneOf") || node.has("enum")) {
            if (!node.hasNonNull("description") || node.get("description").asText().isBlank()) {
                missing.add(path);
            }
        }
        node.path("properties").fields().forEachRemaining(e -> describe(e.getValue(), path + "." + e.getKey(), missing));
        describe(node.path("items"), path + "[]", missing);
        if (node.path("additionalProperties").isObject()) {
            describe(node.get("additionalProperties"), path + ".*", missing);
        }
        int i = 0;
        for (JsonNode alt : node.path("oneOf")) {
            describe(alt, path + "|" + i++, missing);
        }
    }

    private static void covered(JsonNode value, JsonNode schema, String path, List<String> unknown) {
        if (!value.isObject() || !schema.has("properties")) {
            return;
        }
        value.fields().forEachRemaining(e -> {
            JsonNode sub = schema.path("properties").get(e.getKey());
            if (sub == null) {
                if (!schema.path("additionalProperties").isObject() && !schema.path("additionalProperties").asBoolean(false)) {
                    unknown.add(path + "." + e.getKey());
                }
            } else if (e.getValue().isArray() && e.getValue().size() > 0) {
                covered(e.getValue().get(0), sub.path("items"), path + "." + e.getKey() + "[0]", unknown);
            } else {
                covered(e.getValue(), sub, path + "." + e.getKey(), unknown);
            }
        });
    }

    static Path ci(String name) {
        return Chart.chartDir().resolve("ci").resolve(name);
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> texts(Stream<JsonNode> nodes) {
        return nodes.map(JsonNode::asText).collect(Collectors.toList());
    }
}
