package io.slipstream.controller.onos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.config.PolicyException;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.Site;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.onosproject.core.ApplicationId;
import org.onosproject.net.DeviceId;
import org.onosproject.net.config.Config;

/**
 * The app's network configuration ({@code apps.io.slipstream.steering.slipstream}):
 * <pre>
 * {
 *   "zookeeper": "zk-1:2181,zk-2:2181",
 *   "edgeDevices": [ { "device": "of:0000000000000001", "site": "a" } ],
 *   "policy": { ...the fleet policy, as for bin/slipstream policy validate... }
 * }
 * </pre>
 * Every field is optional. {@link #errors()} names each problem by its JSON path.
 */
public final class SlipstreamConfig extends Config<ApplicationId> {

    /** The configuration key under the app. */
    public static final String KEY = "slipstream";
    public static final String ZOOKEEPER = "zookeeper";
    public static final String EDGE_DEVICES = "edgeDevices";
    public static final String DEVICE = "device";
    public static final String SITE = "site";
    public static final String POLICY = "policy";
    /** Directory with tls.crt (urn:slipstream:controller:<name>), tls.key and ca.crt: mutual TLS to workers. */
    public static final String TLS_DIR = "tlsDir";
    /** {@code true}: plaintext control channels, development only. */
    public static final String INSECURE_PLAINTEXT = "insecurePlaintext";

    /**
     * The configuration {@code current} (none: an empty one) with {@code policy} as its {@value #POLICY}, every
     * other field kept: what the component stores when a policy is applied through its service.
     */
    public static ObjectNode withPolicy(SlipstreamConfig current, FleetPolicy policy) {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode policyJson;
        try {
            policyJson = mapper.readTree(FleetPolicies.toJson(policy));
        } catch (IOException e) {
            throw new IllegalStateException("re-reading a printed policy", e);
        }
        ObjectNode tree = current != null && current.node() instanceof ObjectNode
                ? ((ObjectNode) current.node()).deepCopy() : mapper.createObjectNode();
        tree.set(POLICY, policyJson);
        return tree;
    }

    @Override
    public boolean isValid() {
        return errors().isEmpty();
    }

    /** Every problem, each starting with its JSON path (e.g. {@code slipstream.edgeDevices[1].site}). */
    public List<String> errors() {
        List<String> errors = new ArrayList<>();
        if (object == null) {
            errors.add(KEY + ": " + (node == null ? "missing" : node.getNodeType().toString().toLowerCase())
                    + " (expected: a JSON object)");
            return errors;
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(ZOOKEEPER) && !name.equals(EDGE_DEVICES) && !name.equals(POLICY)
                    && !name.equals(TLS_DIR) && !name.equals(INSECURE_PLAINTEXT)) {
                errors.add(KEY + "." + name + ": unknown field (expected: " + ZOOKEEPER + ", " + EDGE_DEVICES
                        + ", " + POLICY + ", " + TLS_DIR + " or " + INSECURE_PLAINTEXT + ")");
            }
        }
        JsonNode tlsDir = object.get(TLS_DIR);
        if (tlsDir != null && (!tlsDir.isTextual() || tlsDir.asText().isBlank())) {
            errors.add(KEY + "." + TLS_DIR + ": " + tlsDir + " (expected: a directory path such as "
                    + "\"/etc/slipstream/tls\" with tls.crt, tls.key and ca.crt)");
        }
        JsonNode plaintext = object.get(INSECURE_PLAINTEXT);
        if (plaintext != null && !plaintext.isBoolean()) {
            errors.add(KEY + "." + INSECURE_PLAINTEXT + ": " + plaintext + " (expected: true or false)");
        }
        if (tlsDir != null && plaintext != null && plaintext.asBoolean()) {
            errors.add(KEY + "." + INSECURE_PLAINTEXT + ": true with " + TLS_DIR + " (expected: one or the other)");
        }
        JsonNode zk = object.get(ZOOKEEPER);
        if (zk != null && (!zk.isTextual() || zk.asText().isBlank())) {
            errors.add(KEY + "." + ZOOKEEPER + ": " + zk + " (expected: a connect string such as \"zk:2181\")");
        }
        FleetPolicy policy = null;
        JsonNode policyNode = object.get(POLICY);
        if (policyNode != null) {
            if (!policyNode.isObject()) {
                errors.add(KEY + "." + POLICY + ": " + policyNode.getNodeType().toString().toLowerCase()
                        + " (expected: a fleet policy object)");
            } else {
                try {
                    policy = FleetPolicies.parse(policyNode.toString());
                } catch (PolicyException e) {
                    for (String problem : e.problems()) {
                        // "$.policies[0].x: ..." -> "slipstream.policy.policies[0].x: ..."; "$: ..." stays at the policy.
                        String relative = problem.startsWith("$.") ? "." + problem.substring(2)
                                : problem.startsWith("$") ? problem.substring(1) : ": " + problem;
                        errors.add(KEY + "." + POLICY + relative);
                    }
                }
            }
        }
        JsonNode edges = object.get(EDGE_DEVICES);
        if (edges != null) {
            if (!edges.isArray()) {
                errors.add(KEY + "." + EDGE_DEVICES + ": " + edges.getNodeType().toString().toLowerCase()
                        + " (expected: an array of {\"device\", \"site\"})");
            } else {
                List<String> knownSites = new ArrayList<>();
                if (policy != null) {
                    for (Site s : policy.getSitesList()) {
                        knownSites.add(s.getName());
                    }
                }
                List<String> seen = new ArrayList<>();
                for (int i = 0; i < edges.size(); i++) {
                    checkEdge(errors, KEY + "." + EDGE_DEVICES + "[" + i + "]", edges.get(i), knownSites, seen);
                }
            }
        }
        return errors;
    }

    private static void checkEdge(List<String> errors, String path, JsonNode edge, List<String> knownSites,
            List<String> seen) {
        if (!edge.isObject()) {
            errors.add(path + ": " + edge + " (expected: {\"device\": \"of:...\", \"site\": \"a\"})");
            return;
        }
        for (Iterator<String> names = edge.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(DEVICE) && !name.equals(SITE)) {
                errors.add(path + "." + name + ": unknown field (expected: " + DEVICE + " or " + SITE + ")");
            }
        }
        JsonNode device = edge.get(DEVICE);
        if (device == null || !device.isTextual() || !device.asText().matches("[A-Za-z][A-Za-z0-9+.-]*:\\S+")) {
            errors.add(path + "." + DEVICE + ": " + device + " (expected: an ONOS device id such as \"of:0000000000000001\")");
        } else if (seen.contains(device.asText())) {
            errors.add(path + "." + DEVICE + ": \"" + device.asText() + "\" listed twice (expected: each device once)");
        } else {
            seen.add(device.asText());
        }
        JsonNode site = edge.get(SITE);
        if (site == null || !site.isTextual() || site.asText().isBlank()) {
            errors.add(path + "." + SITE + ": " + site + " (expected: the site name its workers register with)");
        } else if (!knownSites.isEmpty() && !knownSites.contains(site.asText())) {
            errors.add(path + "." + SITE + ": \"" + site.asText() + "\" (expected: one of the policy's sites "
                    + knownSites + ")");
        }
    }

    /** The TLS directory, or {@code null} when not set. */
    public String tlsDir() {
        String dir = get(TLS_DIR, null);
        return dir == null || dir.isBlank() ? null : dir;
    }

    /** Whether plaintext control channels were asked for explicitly. */
    public boolean insecurePlaintext() {
        return get(INSECURE_PLAINTEXT, false);
    }

    /** The ZooKeeper connect string, or {@code null} when not set. */
    public String zookeeper() {
        String zk = get(ZOOKEEPER, null);
        return zk == null || zk.isBlank() ? null : zk;
    }

    /** The fleet policy, or {@code null} when not set. Call only when {@link #isValid()}. */
    public FleetPolicy policy() {
        JsonNode policyNode = object.get(POLICY);
        return policyNode == null ? null : FleetPolicies.parse(policyNode.toString());
    }

    /** Edge devices and their sites, in configuration order. Call only when {@link #isValid()}. */
    public Map<DeviceId, String> edgeDevices() {
        Map<DeviceId, String> out = new LinkedHashMap<>();
        JsonNode edges = object.get(EDGE_DEVICES);
        if (edges != null) {
            for (JsonNode edge : edges) {
                out.put(DeviceId.deviceId(edge.get(DEVICE).asText()), edge.get(SITE).asText());
            }
        }
        return out;
    }

    /** Replaces the policy (as JSON) in this configuration's tree; {@link #apply()} stores it. */
    public SlipstreamConfig policy(JsonNode policyJson) {
        object.set(POLICY, policyJson);
        return this;
    }
}
