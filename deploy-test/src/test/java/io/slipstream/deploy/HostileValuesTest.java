package io.slipstream.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Operator values that are wrong or hostile: wrong types, out-of-range or absurd sizes, unknown keys, and
 * strings that would inject YAML or configuration lines into the rendered objects (newlines, template
 * braces). Real Helm (helm-java) must refuse each, naming the value, before anything is rendered.
 */
class HostileValuesTest {

    static Stream<Arguments> hostileValues() {
        return Stream.of(
                // wrong types and ranges
                Arguments.of("sites: [{name: a, replicas: {cache: \"three\"}}]", "'/sites/0/replicas/cache'"),
                Arguments.of("sites: [{name: a, replicas: {cache: 100000}}]", "'/sites/0/replicas/cache'"),
                Arguments.of("sites: [{name: a, replicas: {cache: 1}, evil: true}]", "'/sites/0'"),
                Arguments.of("workers: {capacityMbps: -5}", "'/workers/capacityMbps'"),
                Arguments.of("workers: {capacityMbps: 1.5}", "'/workers/capacityMbps'"),
                Arguments.of("workers: {ports: {control: 70000}}", "'/workers/ports/control'"),
                Arguments.of("workers: {ports: {control: \"7000\"}}", "'/workers/ports/control'"),
                Arguments.of("workers: {terminationGracePeriodSeconds: -1}", "'/workers/terminationGracePeriodSeconds'"),
                Arguments.of("workers: {bogus: 1}", "'/workers'"),
                // The heap store's chunkStoreMib is gone: chunk stores are on disk, sized in GiB (issue 15).
                Arguments.of("workers: {wanopt: {chunkStoreMib: 256}}", "'chunkStoreMib' not allowed"),
                Arguments.of("workers: {wanopt: {chunkStore: {gib: 0}}}", "'/workers/wanopt/chunkStore/gib'"),
                Arguments.of("workers: {wanopt: {chunkStore: {sizeLimit: lots}}}",
                        "'/workers/wanopt/chunkStore/sizeLimit'"),
                Arguments.of("workers: {cache: {disk: {gib: 0}}}", "'/workers/cache/disk/gib'"),
                Arguments.of("workers: {cache: {disk: {gib: 1.5}}}", "'/workers/cache/disk/gib'"),
                Arguments.of("workers: {cache: {disk: {gib: \"10\"}}}", "'/workers/cache/disk/gib'"),
                Arguments.of("workers: {cache: {disk: {gib: 2000000}}}", "'/workers/cache/disk/gib'"),
                Arguments.of("workers: {cache: {disk: {enabled: \"yes\"}}}", "'/workers/cache/disk/enabled'"),
                Arguments.of("workers: {cache: {disk: {sizeLimit: lots}}}", "'/workers/cache/disk/sizeLimit'"),
                Arguments.of("workers: {cache: {disk: {size: 10Gi}}}", "'size' not allowed"),
                Arguments.of("workers: {cache: {disk: {storageClass: \"fast\\nx: y\"}}}",
                        "'/workers/cache/disk/storageClass'"),
                Arguments.of("controller: {port: 0}", "'/controller/port'"),
                Arguments.of("hpa: {enabled: true, targetCPUUtilizationPercentage: 500}",
                        "'/hpa/targetCPUUtilizationPercentage'"),
                Arguments.of("zookeeper: {persistence: {enabled: true, size: lots}}", "'/zookeeper/persistence/size'"),
                Arguments.of("workers: {resources: {limits: {memory: lots}}}", "'/workers/resources/limits/memory'"),
                Arguments.of("image: {pullPolicy: Sometimes}", "'/image/pullPolicy'"),
                Arguments.of("image: {digest: \"sha256:xyz\"}", "'/image/digest'"),
                Arguments.of("workers: {cache: {origin: \"ftp://origin\"}}", "'/workers/cache/origin'"),
                Arguments.of("policy: {bucketCount: \"256\"}", "'/policy/bucketCount'"),
                Arguments.of("compression: {minHardwareBlockBytes: -1}", "'/compression/minHardwareBlockBytes'"),
                // injection: newlines and template braces in strings rendered into manifests or config files
                Arguments.of("workers: {priorityClassName: \"x\\n      hostNetwork: true\"}", "'/workers/priorityClassName'"),
                Arguments.of("controller: {priorityClassName: \"x\\n      hostPID: true\"}",
                        "'/controller/priorityClassName'"),
                Arguments.of("workers: {cache: {adminToken: {secretName: \"s\\n                  optional: true\"}}}",
                        "'/workers/cache/adminToken/secretName'"),
                Arguments.of("workers: {cache: {adminToken: {secretName: s, key: \"k\\nx: y\"}}}",
                        "'/workers/cache/adminToken/key'"),
                Arguments.of("tls: {certManager: {issuerName: \"{{ .Release.Name }}\"}}",
                        "'/tls/certManager/issuerName'"),
                Arguments.of("tls: {certManager: {issuerGroup: \"cert-manager.io\\nevil: x\"}}",
                        "'/tls/certManager/issuerGroup'"),
                Arguments.of("clusterDomain: \"cluster.local:2888:3888\\nserver.9=evil:2888:3888\"", "'/clusterDomain'"),
                Arguments.of("image: {repository: \"evil\\nimage\"}", "'/image/repository'"),
                Arguments.of("image: {tag: \"1.0 --privileged\"}", "'/image/tag'"),
                Arguments.of("image: {pullSecrets: [{name: \"Bad Name\"}]}", "'/image/pullSecrets/0/name'"),
                Arguments.of("workers: {javaOpts: \"-Xmx1g\\n  SLIPSTREAM_EVIL: 1\"}", "'/workers/javaOpts'"),
                Arguments.of("workers: {extraArgs: [\"--id\\nevil\"]}", "'/workers/extraArgs/0'"),
                Arguments.of("workers: {cache: {networks: \"net\\u0000\"}}", "'/workers/cache/networks'"),
                Arguments.of("zookeeper: {persistence: {storageClass: \"fast\\nx: y\"}}",
                        "'/zookeeper/persistence/storageClass'"),
                Arguments.of("nameOverride: \"Evil\\nName\"", "'/nameOverride'"),
                Arguments.of("fullnameOverride: \"{{ .Values }}\"", "'/fullnameOverride'"),
                Arguments.of("commonLabels: {\"bad key\": v}", "invalid propertyName 'bad key'"),
                Arguments.of("commonLabels: {team: \"a\\nb\"}", "'/commonLabels/team'"),
                Arguments.of("onos: {enabled: true, url: \"http://onos:8181\\nevil\"}", "'/onos/url'"),
                Arguments.of("sites: [{name: \"a\\nb\", replicas: {cache: 1}}]", "'/sites/0/name'"),
                Arguments.of("sites: [{name: \"" + "a".repeat(100) + "\", replicas: {cache: 1}}]", "'/sites/0/name'"));
    }

    @ParameterizedTest
    @MethodSource("hostileValues")
    void template_hostileValue_isRejectedNamingTheValue(String values, String expected, @TempDir Path dir)
            throws IOException {
        Path file = Files.createTempFile(dir, "hostile", ".yaml");
        Files.writeString(file, values);
        assertThatThrownBy(() -> Chart.template(file, null, Map.of()))
                .as("values %s", values)
                .hasMessageContaining(expected);
    }

    @Test
    void lintStrict_hostileValue_failsWithTheSchemaMessage(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("hostile.yaml");
        Files.writeString(file, "workers: {priorityClassName: \"x\\n      hostNetwork: true\"}\n");
        LintResult result = Chart.lint(file, dir);
        assertThat(result.isFailed()).isTrue();
        assertThat(String.join("\n", result.getMessages())).contains("/workers/priorityClassName");
    }

    @Test
    void template_plausibleValuesOfTheTightenedKeys_stillRender(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ok.yaml");
        Files.writeString(file, String.join("\n",
                "clusterDomain: corp.example",
                "image: {repository: \"registry.example:5000/team/slipstream\", tag: \"1.2.3-rc.1_b7\","
                        + " pullSecrets: [{name: regcred}]}",
                "workers: {priorityClassName: system-node-critical, javaOpts: \"-Xmx1g -Dx=a=b\","
                        + " extraArgs: [\"--http-head-timeout-ms=5000\"],"
                        + " cache: {networks: \"sdn-net@eth1\", adminToken: {secretName: cache-admin, key: token.v1}}}",
                "tls: {certManager: {issuerName: fleet-ca, issuerKind: ClusterIssuer, issuerGroup: cert-manager.io}}",
                "controller: {priorityClassName: high}",
                "zookeeper: {persistence: {enabled: true, storageClass: fast-ssd}}",
                "nameOverride: ss",
                "commonLabels: {team: net-ops, \"example.com/tier\": edge}",
                ""));
        List<ObjectNode> objects = Chart.objects(file);
        assertThat(objects).isNotEmpty();
    }
}
