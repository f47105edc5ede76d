package io.slipstream.controller.scale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The {@code scaling} section of the controller's configuration: whether the autoscaler runs, how
 * often it evaluates, which scale target it uses and one {@link ScalingRule} per role and site.
 *
 * <pre>{@code
 * {"scaling": {
 *   "enabled": true, "intervalMillis": 500, "target": "local",
 *   "rules": [{"role": "wanopt", "site": "a", "minReplicas": 1, "maxReplicas": 3,
 *              "targetUtilisation": 0.7, "tolerance": 0.1, "scaleOutWindowSeconds": 2,
 *              "scaleInWindowSeconds": 60, "maxStep": 2, "cpuPerWorker": 1.0, "flowsPerWorker": 1000,
 *              "queueLimit": 64, "drainTimeoutSeconds": 30}]}}
 * }</pre>
 * Parsing collects every problem, each naming its JSON path ({@code scaling.rules[0].maxReplicas}).
 */
public final class ScalingConfig {

    /** Scale targets the standalone controller knows by name. */
    public static final List<String> TARGETS = List.of("local", "kubernetes");

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> SECTION_FIELDS = Set.of("enabled", "intervalMillis", "target", "rules");
    private static final Set<String> RULE_FIELDS = Set.of("role", "site", "minReplicas", "maxReplicas",
            "targetUtilisation", "tolerance", "scaleOutWindowSeconds", "scaleInWindowSeconds", "maxStep",
            "cpuPerWorker", "flowsPerWorker", "queueLimit", "drainTimeoutSeconds");

    private final boolean enabled;
    private final Duration interval;
    private final String target;
    private final List<ScalingRule> rules;

    public ScalingConfig(boolean enabled, Duration interval, String target, List<ScalingRule> rules) {
        if (interval.toMillis() < 50 || interval.toMillis() > 60_000) {
            throw new IllegalArgumentException("intervalMillis: " + interval.toMillis() + " (expected: 50..60000)");
        }
        if (!TARGETS.contains(target)) {
            throw new IllegalArgumentException("target: '" + target + "' (expected: one of " + TARGETS + ")");
        }
        Set<String> keys = new HashSet<>();
        for (ScalingRule r : rules) {
            if (!keys.add(r.role() + "@" + r.site())) {
                throw new IllegalArgumentException("rules: two rules for " + r.role() + " at site " + r.site()
                        + " (expected: one per role and site)");
            }
        }
        this.enabled = enabled;
        this.interval = interval;
        this.target = target;
        this.rules = List.copyOf(rules);
    }

    /** No autoscaling. */
    public static ScalingConfig disabled() {
        return new ScalingConfig(false, Duration.ofMillis(500), "local", List.of());
    }

    public boolean enabled() {
        return enabled && !rules.isEmpty();
    }

    /** How often every rule is evaluated. */
    public Duration interval() {
        return interval;
    }

    /** {@code local} or {@code kubernetes}. */
    public String target() {
        return target;
    }

    public List<ScalingRule> rules() {
        return rules;
    }

    /**
     * Parses a controller configuration document and returns its {@code scaling} section (disabled
     * when absent).
     *
     * @throws IllegalArgumentException naming every bad field by its JSON path and what was expected
     */
    public static ScalingConfig parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json == null ? "" : json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("controller configuration: not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("controller configuration: (expected: a JSON object)");
        }
        JsonNode section = root.get("scaling");
        if (section == null) {
            return disabled();
        }
        return parseSection(section, "scaling");
    }

    /** Parses the section itself; {@code path} prefixes every error. */
    public static ScalingConfig parseSection(JsonNode section, String path) {
        List<String> errors = new ArrayList<>();
        if (!section.isObject()) {
            throw new IllegalArgumentException(path + ": " + section + " (expected: an object)");
        }
        unknown(section, SECTION_FIELDS, path, errors);
        boolean enabled = bool(section, "enabled", path, true, errors);
        long interval = integer(section, "intervalMillis", path, 500, 50, 60_000, errors);
        String target = text(section, "target", path, "local", errors);
        if (!TARGETS.contains(target)) {
            errors.add(path + ".target: '" + target + "' (expected: one of " + TARGETS + ")");
        }
        List<ScalingRule> rules = new ArrayList<>();
        JsonNode list = section.get("rules");
        if (list == null || !list.isArray()) {
            errors.add(path + ".rules: " + list + " (expected: an array of rules, one per role and site)");
        } else {
            Set<String> keys = new HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String at = path + ".rules[" + i + "]";
                ScalingRule rule = rule(list.get(i), at, errors);
                if (rule != null && !keys.add(rule.role() + "@" + rule.site())) {
                    errors.add(at + ": a second rule for " + rule.role() + " at site " + rule.site()
                            + " (expected: one per role and site)");
                }
                if (rule != null) {
                    rules.add(rule);
                }
            }
        }
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("scaling configuration: " + String.join("; ", errors));
        }
        return new ScalingConfig(enabled, Duration.ofMillis(interval), target, rules);
    }

    private static ScalingRule rule(JsonNode node, String path, List<String> errors) {
        if (node == null || !node.isObject()) {
            errors.add(path + ": " + node + " (expected: an object)");
            return null;
        }
        int before = errors.size();
        unknown(node, RULE_FIELDS, path, errors);
        String role = text(node, "role", path, null, errors);
        String site = text(node, "site", path, null, errors);
        if (role == null || site == null) {
            return null;
        }
        ScalingRule.Builder b;
        try {
            b = ScalingRule.builder(role, site);
        } catch (IllegalArgumentException e) {
            errors.add(path + "." + e.getMessage());
            return null;
        }
        int min = (int) integer(node, "minReplicas", path, 1, 0, 10_000, errors);
        int max = (int) integer(node, "maxReplicas", path, 10, 1, 10_000, errors);
        set(path, errors, () -> b.replicas(min, max));
        number(node, "targetUtilisation", path, errors, v -> b.targetUtilisation(v));
        number(node, "tolerance", path, errors, v -> b.tolerance(v));
        number(node, "scaleOutWindowSeconds", path, errors, v -> b.scaleOutWindow(seconds(v)));
        number(node, "scaleInWindowSeconds", path, errors, v -> b.scaleInWindow(seconds(v)));
        number(node, "maxStep", path, errors, v -> b.maxStep(whole(v)));
        number(node, "cpuPerWorker", path, errors, v -> b.cpuPerWorker(v));
        number(node, "flowsPerWorker", path, errors, v -> b.flowsPerWorker(whole(v)));
        number(node, "queueLimit", path, errors, v -> b.queueLimit(whole(v)));
        number(node, "drainTimeoutSeconds", path, errors, v -> b.drainTimeout(seconds(v)));
        return errors.size() == before ? b.build() : null;
    }

    private static Duration seconds(double v) {
        if (!(v >= 0) || v > 86_400) {
            throw new IllegalArgumentException(v + " (expected: seconds, 0..86400)");
        }
        return Duration.ofMillis(Math.round(v * 1000));
    }

    private static int whole(double v) {
        if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(v + " (expected: a whole number)");
        }
        return (int) v;
    }

    private static void set(String path, List<String> errors, Runnable setter) {
        try {
            setter.run();
        } catch (IllegalArgumentException e) {
            errors.add(path + "." + e.getMessage());
        }
    }

    private static void number(JsonNode node, String field, String path, List<String> errors, Consumer<Double> setter) {
        JsonNode v = node.get(field);
        if (v == null) {
            return;
        }
        if (!v.isNumber()) {
            errors.add(path + "." + field + ": " + v + " (expected: a number)");
            return;
        }
        try {
            setter.accept(v.asDouble());
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            // Builder messages start with the field name; values checked here do not.
            errors.add(path + "." + (message.startsWith(field) ? message : field + ": " + message));
        }
    }

    private static void unknown(JsonNode node, Set<String> known, String path, List<String> errors) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            String name = it.next().getKey();
            if (!known.contains(name)) {
                errors.add(path + "." + name + ": unknown field (expected one of " + new java.util.TreeSet<>(known) + ")");
            }
        }
    }

    private static boolean bool(JsonNode node, String field, String path, boolean dflt, List<String> errors) {
        JsonNode v = node.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isBoolean()) {
            errors.add(path + "." + field + ": " + v + " (expected: true or false)");
            return dflt;
        }
        return v.asBoolean();
    }

    private static long integer(JsonNode node, String field, String path, long dflt, long min, long max,
                                List<String> errors) {
        JsonNode v = node.get(field);
        if (v == null) {
            return dflt;
        }
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
            errors.add(path + "." + field + ": " + v + " (expected: a whole number " + min + ".." + max + ")");
            return dflt;
        }
        return v.asLong();
    }

    private static String text(JsonNode node, String field, String path, String dflt, List<String> errors) {
        JsonNode v = node.get(field);
        if (v == null) {
            if (dflt == null) {
                errors.add(path + "." + field + ": missing (expected: a string)");
            }
            return dflt;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            errors.add(path + "." + field + ": " + v + " (expected: a non-empty string)");
            return dflt;
        }
        return v.asText();
    }
}
