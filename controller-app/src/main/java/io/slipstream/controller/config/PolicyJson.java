package io.slipstream.controller.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks policy JSON against the protobuf schema before the protobuf parser sees it, so that every problem
 * is reported with its JSON path ({@code $.policies[1].dstPorts[0]}) and what was expected, and accepts the
 * short forms operators write:
 * <ul>
 *   <li>enum values by their short name, any case: {@code "chain": "cache+wanopt"} for
 *       {@code SERVICE_CHAIN_CACHE_WANOPT}, {@code "protocol": "tcp"}, {@code "codec": "zstd"},
 *       {@code "peerUnavailable": "fail-fast"} for {@code PEER_UNAVAILABLE_FAIL_FAST} (words joined by '-' or '+');</li>
 *   <li>port ranges as a number or a string: {@code "dstPorts": [445, "8000-8090"]};</li>
 *   <li>field names in either lowerCamelCase or snake_case.</li>
 * </ul>
 * The result is the canonical proto3 JSON for {@code JsonFormat}.
 */
final class PolicyJson {

    /**
     * Duplicate keys are an error (not last-wins, which would let two readers of one document disagree);
     * Jackson's stream constraints bound nesting (1000 levels), number and string lengths.
     */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Pattern RANGE = Pattern.compile("\\s*(\\d{1,5})\\s*(?:-\\s*(\\d{1,5})\\s*)?");

    private final List<String> errors = new ArrayList<>();

    private PolicyJson() {
    }

    /**
     * The canonical JSON for {@code descriptor}'s message.
     *
     * @throws PolicyException listing every problem with its JSON path
     */
    static String normalize(String json, Descriptor descriptor) {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new PolicyException(List.of("not valid JSON" + where + ": " + e.getOriginalMessage()), e);
        }
        if (tree == null || tree.isMissingNode()) {
            throw new PolicyException(List.of("$: empty (expected: a JSON object)"), null);
        }
        PolicyJson walker = new PolicyJson();
        JsonNode out = walker.message("$", tree, descriptor);
        if (!walker.errors.isEmpty()) {
            throw new PolicyException(walker.errors, null);
        }
        return out.toString();
    }

    /** Turns a validator path such as {@code policies[1].dst_ports[0].first} into {@code $.policies[1].dstPorts[0].first}. */
    static String jsonPath(String protoPath) {
        StringBuilder out = new StringBuilder("$.");
        boolean upper = false;
        for (int i = 0; i < protoPath.length(); i++) {
            char c = protoPath.charAt(i);
            if (c == '_') {
                upper = true;
            } else {
                out.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return out.toString();
    }

    private JsonNode message(String path, JsonNode node, Descriptor descriptor) {
        if (!node.isObject()) {
            errors.add(path + ": " + kind(node) + " (expected: an object with fields " + fieldNames(descriptor) + ")");
            return JsonNodeFactory.instance.objectNode();
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            FieldDescriptor field = find(descriptor, e.getKey());
            String fieldPath = path + "." + e.getKey();
            if (field == null) {
                errors.add(fieldPath + ": unknown field (expected one of: " + fieldNames(descriptor) + ")");
                continue;
            }
            if (e.getValue().isNull()) {
                continue;
            }
            if (field.isRepeated()) {
                if (!e.getValue().isArray()) {
                    errors.add(fieldPath + ": " + kind(e.getValue()) + " (expected: an array)");
                    continue;
                }
                ArrayNode array = out.putArray(field.getJsonName());
                for (int i = 0; i < e.getValue().size(); i++) {
                    array.add(value(fieldPath + "[" + i + "]", e.getValue().get(i), field));
                }
            } else {
                out.set(field.getJsonName(), value(fieldPath, e.getValue(), field));
            }
        }
        return out;
    }

    private JsonNode value(String path, JsonNode node, FieldDescriptor field) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (field.getJavaType()) {
            case MESSAGE:
                if (field.getMessageType().getName().equals("PortRange") && (node.isIntegralNumber() || node.isTextual())) {
                    return portRange(path, node);
                }
                return message(path, node, field.getMessageType());
            case ENUM:
                return f.textNode(enumValue(path, node, field.getEnumType()));
            case STRING:
                if (!node.isTextual()) {
                    errors.add(path + ": " + kind(node) + " (expected: a string)");
                }
                return f.textNode(node.asText());
            case BOOLEAN:
                if (!node.isBoolean()) {
                    errors.add(path + ": " + kind(node) + " (expected: true or false)");
                }
                return f.booleanNode(node.asBoolean());
            case INT:
            case LONG:
                return integer(path, node, field);
            default:
                if (!node.isNumber()) {
                    errors.add(path + ": " + kind(node) + " (expected: a number)");
                }
                return node;
        }
    }

    private JsonNode integer(String path, JsonNode node, FieldDescriptor field) {
        boolean unsigned = field.getType() == FieldDescriptor.Type.UINT32 || field.getType() == FieldDescriptor.Type.UINT64
                || field.getType() == FieldDescriptor.Type.FIXED32 || field.getType() == FieldDescriptor.Type.FIXED64;
        boolean wide = field.getJavaType() == FieldDescriptor.JavaType.LONG;
        java.math.BigInteger value = null;
        if (node.isIntegralNumber()) {
            value = node.bigIntegerValue();
        } else if (node.isTextual() && node.asText().matches("-?\\d{1,20}")) {
            // proto3 JSON writes 64-bit integers as strings; accept them for every integer field.
            value = new java.math.BigInteger(node.asText());
        }
        java.math.BigInteger min = unsigned ? java.math.BigInteger.ZERO
                : java.math.BigInteger.valueOf(wide ? Long.MIN_VALUE : Integer.MIN_VALUE);
        java.math.BigInteger max = wide
                ? (unsigned ? java.math.BigInteger.ONE.shiftLeft(64).subtract(java.math.BigInteger.ONE) : java.math.BigInteger.valueOf(Long.MAX_VALUE))
                : java.math.BigInteger.valueOf(unsigned ? 0xffffffffL : Integer.MAX_VALUE);
        if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            errors.add(path + ": " + (node.isValueNode() ? node.toString() : kind(node)) + " (expected: "
                    + (unsigned ? "a whole number >= 0" : "a whole number") + " up to " + max + ")");
            return JsonNodeFactory.instance.numberNode(0);
        }
        return JsonNodeFactory.instance.textNode(value.toString());
    }

    private JsonNode portRange(String path, JsonNode node) {
        int first;
        int last;
        if (node.isIntegralNumber()) {
            first = node.canConvertToInt() ? node.asInt() : -1;
            last = first;
        } else {
            Matcher m = RANGE.matcher(node.asText());
            if (!m.matches()) {
                errors.add(path + ": " + node + " (expected: a port 1..65535, a range such as \"8000-8090\","
                        + " or {\"first\": .., \"last\": ..})");
                return JsonNodeFactory.instance.objectNode();
            }
            first = Integer.parseInt(m.group(1));
            last = m.group(2) == null ? first : Integer.parseInt(m.group(2));
        }
        if (first < 1 || first > 65535 || last < 1 || last > 65535 || last < first) {
            errors.add(path + ": " + node + " (expected: ports 1..65535, first <= last)");
        }
        ObjectNode range = JsonNodeFactory.instance.objectNode();
        range.put("first", Math.max(0, first));
        range.put("last", Math.max(0, last));
        return range;
    }

    private String enumValue(String path, JsonNode node, EnumDescriptor type) {
        String prefix = enumPrefix(type);
        StringJoiner expected = new StringJoiner(", ");
        for (EnumValueDescriptor v : type.getValues()) {
            if (!v.getName().endsWith("_UNSPECIFIED")) {
                String shortName = shortName(v.getName(), prefix);
                // '+' joins the parts of a chain (cache+wanopt); other multi-word values read with '-' (fail-fast).
                expected.add(type.getName().equals("ServiceChain") ? shortName : shortName.replace('+', '-'));
            }
        }
        if (node.isTextual()) {
            String text = node.asText().trim();
            for (EnumValueDescriptor v : type.getValues()) {
                String shortName = shortName(v.getName(), prefix);
                if (v.getName().equals(text) || shortName.equalsIgnoreCase(text)
                        || shortName.replace('+', '-').equalsIgnoreCase(text)) {
                    if (!v.getName().endsWith("_UNSPECIFIED")) {
                        return v.getName();
                    }
                }
            }
        }
        errors.add(path + ": " + node + " (expected: one of " + expected + ")");
        return type.getValues().get(0).getName();
    }

    /** {@code SERVICE_CHAIN_CACHE_WANOPT} -> {@code cache+wanopt}; {@code PROTOCOL_TCP} -> {@code tcp}. */
    private static String shortName(String name, String prefix) {
        String s = name.startsWith(prefix) ? name.substring(prefix.length()) : name;
        return s.toLowerCase(Locale.ROOT).replace('_', '+');
    }

    /** The common prefix of an enum's value names, e.g. {@code SERVICE_CHAIN_}. */
    private static String enumPrefix(EnumDescriptor type) {
        String first = type.getValues().get(0).getName();
        int end = first.lastIndexOf('_');
        String prefix = end < 0 ? "" : first.substring(0, end + 1);
        if (prefix.endsWith("UNSPECIFIED_")) {
            prefix = "";
        }
        while (!prefix.isEmpty()) {
            boolean all = true;
            for (EnumValueDescriptor v : type.getValues()) {
                all &= v.getName().startsWith(prefix);
            }
            if (all) {
                return prefix;
            }
            int cut = prefix.lastIndexOf('_', prefix.length() - 2);
            prefix = cut < 0 ? "" : prefix.substring(0, cut + 1);
        }
        return "";
    }

    private static FieldDescriptor find(Descriptor descriptor, String name) {
        for (FieldDescriptor f : descriptor.getFields()) {
            if (f.getJsonName().equals(name) || f.getName().equals(name)) {
                return f;
            }
        }
        return null;
    }

    private static String fieldNames(Descriptor descriptor) {
        StringJoiner names = new StringJoiner(", ");
        for (FieldDescriptor f : descriptor.getFields()) {
            names.add(f.getJsonName());
        }
        return names.toString();
    }

    private static String kind(JsonNode node) {
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return "an array";
        }
        return node.toString();
    }
}
