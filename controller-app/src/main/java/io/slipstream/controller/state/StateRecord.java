package io.slipstream.controller.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * One version of one kind of controller state with its audit fields: who changed it ({@code principal}, the
 * admin API's), when ({@code at}), from where ({@code from}, the client's address, or the controller for
 * {@code values}), and its {@code source}: {@value #VALUES} (the controller's start-up values, e.g. the chart's
 * {@code --policy} file) or {@value #RUNTIME} (a change through the API). {@code valuesDigest} is the digest of
 * the values in force when it was written: a runtime change wins until the values change.
 */
public final class StateRecord {

    /** Source of a record written from the controller's start-up values. */
    public static final String VALUES = "values";
    /** Source of a record written through the admin API. */
    public static final String RUNTIME = "runtime";

    static final ObjectMapper JSON = new ObjectMapper();

    private final long version;
    private final String source;
    private final String principal;
    private final Instant at;
    private final String from;
    private final String valuesDigest;
    private final String digest;
    private final String content;

    StateRecord(long version, String source, String principal, Instant at, String from, String valuesDigest,
                String content) {
        this.version = version;
        this.source = Objects.requireNonNull(source, "source");
        this.principal = Objects.requireNonNull(principal, "principal");
        this.at = Objects.requireNonNull(at, "at");
        this.from = Objects.requireNonNull(from, "from");
        this.valuesDigest = Objects.requireNonNull(valuesDigest, "valuesDigest");
        this.content = Objects.requireNonNull(content, "content");
        this.digest = digestOf(content);
    }

    /** Lower-case hex SHA-256 of the UTF-8 text. */
    public static String digestOf(String text) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(sha.length * 2);
            for (byte b : sha) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    public long version() {
        return version;
    }

    public String source() {
        return source;
    }

    public String principal() {
        return principal;
    }

    public Instant at() {
        return at;
    }

    public String from() {
        return from;
    }

    public String valuesDigest() {
        return valuesDigest;
    }

    /** SHA-256 of {@link #content()}. */
    public String digest() {
        return digest;
    }

    /** The state itself as JSON text (for the policy: the policy JSON the API serves). */
    public String content() {
        return content;
    }

    /** The HTTP entity tag of this version: {@code "<version>"}. */
    public String etag() {
        return "\"" + version + "\"";
    }

    /** The audit fields without the content (for history listings). */
    public ObjectNode summary() {
        ObjectNode node = JSON.createObjectNode();
        node.put("version", version).put("source", source).put("principal", principal).put("at", at.toString())
                .put("from", from).put("digest", digest).put("values_digest", valuesDigest);
        return node;
    }

    byte[] toBytes() {
        ObjectNode node = summary();
        node.remove("digest");
        node.put("content", content);
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("serializing a state record", e);
        }
    }

    /**
     * Parses a stored record.
     *
     * @throws CorruptStateException naming the path and what is wrong
     */
    static StateRecord parse(String path, byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CorruptStateException(path + ": not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (node == null || !node.isObject()) {
            throw new CorruptStateException(path + ": expected a JSON object with version, source, principal, at, "
                    + "from, values_digest and content");
        }
        for (String field : new String[] {"source", "principal", "at", "from", "values_digest", "content"}) {
            if (!node.path(field).isTextual()) {
                throw new CorruptStateException(path + ": $." + field + " missing or not a string");
            }
        }
        if (!node.path("version").canConvertToLong() || node.get("version").asLong() < 1) {
            throw new CorruptStateException(path + ": $.version missing or not a positive integer");
        }
        String source = node.get("source").asText();
        if (!VALUES.equals(source) && !RUNTIME.equals(source)) {
            throw new CorruptStateException(path + ": $.source '" + source + "' (expected: values or runtime)");
        }
        Instant at;
        try {
            at = Instant.parse(node.get("at").asText());
        } catch (DateTimeParseException e) {
            throw new CorruptStateException(path + ": $.at '" + node.get("at").asText() + "' (expected: an ISO-8601 instant)");
        }
        return new StateRecord(node.get("version").asLong(), source, node.get("principal").asText(), at,
                node.get("from").asText(), node.get("values_digest").asText(), node.get("content").asText());
    }

    @Override
    public String toString() {
        return "v" + version + " (" + source + " by " + principal + " from " + from + " at " + at + ")";
    }
}
