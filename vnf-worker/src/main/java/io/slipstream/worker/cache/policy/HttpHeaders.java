package io.slipstream.worker.cache.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable, ordered, multi-valued header block whose names compare case-insensitively
 * (RFC 9110 §5.1). Each value is one field line as received; {@link #combined(String)} joins field lines
 * the way RFC 9110 §5.3 allows for list-based fields.
 */
public final class HttpHeaders {

    private static final HttpHeaders EMPTY = new HttpHeaders(List.of());

    private final List<Field> fields;

    private HttpHeaders(List<Field> fields) {
        this.fields = fields;
    }

    /** No headers. */
    public static HttpHeaders empty() {
        return EMPTY;
    }

    /** Headers from alternating names and values: {@code of("Cache-Control", "max-age=60", "ETag", "\"a\"")}. */
    public static HttpHeaders of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException(
                    "namesAndValues: " + namesAndValues.length + " strings (expected: name/value pairs)");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder(new ArrayList<>());
    }

    /** A builder holding these headers, to derive a modified copy. */
    public Builder toBuilder() {
        return new Builder(new ArrayList<>(fields));
    }

    /** The first field line of {@code name}, or {@code null}. */
    public String get(String name) {
        String key = key(name);
        for (Field f : fields) {
            if (f.key.equals(key)) {
                return f.value;
            }
        }
        return null;
    }

    /** Every field line of {@code name}, in order; empty when absent. */
    public List<String> all(String name) {
        String key = key(name);
        List<String> out = new ArrayList<>(2);
        for (Field f : fields) {
            if (f.key.equals(key)) {
                out.add(f.value);
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** All field lines of {@code name} joined with {@code ", "} (RFC 9110 §5.3), or {@code null} when absent. */
    public String combined(String name) {
        List<String> values = all(name);
        return values.isEmpty() ? null : String.join(", ", values);
    }

    public boolean contains(String name) {
        return get(name) != null;
    }

    /** The distinct names present, lower-cased, in first-seen order. */
    public Set<String> names() {
        Set<String> out = new LinkedHashSet<>();
        for (Field f : fields) {
            out.add(f.key);
        }
        return Collections.unmodifiableSet(out);
    }

    /** Every field line as {@code [name, value]} pairs with the names as given, in order. */
    public List<String[]> lines() {
        List<String[]> out = new ArrayList<>(fields.size());
        for (Field f : fields) {
            out.add(new String[] {f.name, f.value});
        }
        return out;
    }

    public int size() {
        return fields.size();
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }

    /** A copy with every line of {@code name} replaced by one line holding {@code value}. */
    public HttpHeaders with(String name, String value) {
        return toBuilder().set(name, value).build();
    }

    /** A copy without any line of {@code name}. */
    public HttpHeaders without(String name) {
        return toBuilder().remove(name).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HttpHeaders && ((HttpHeaders) o).fields.equals(fields);
    }

    @Override
    public int hashCode() {
        return fields.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (Field f : fields) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(f.name).append(": ").append(f.value);
        }
        return sb.append('}').toString();
    }

    static String key(String name) {
        Objects.requireNonNull(name, "name");
        return name.toLowerCase(Locale.ROOT);
    }

    /** Builds {@link HttpHeaders}; not thread-safe. */
    public static final class Builder {
        private final List<Field> fields;

        private Builder(List<Field> fields) {
            this.fields = fields;
        }

        /** Appends one field line. */
        public Builder add(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c == ':' || c >= 127)) {
                throw new IllegalArgumentException("name: '" + name + "' (expected: a non-empty HTTP token)");
            }
            fields.add(new Field(name, key(name), value));
            return this;
        }

        /** Replaces every line of {@code name} with one line; the new line goes where the first one was. */
        public Builder set(String name, String value) {
            String key = key(name);
            int at = -1;
            for (int i = 0; i < fields.size(); i++) {
                if (fields.get(i).key.equals(key)) {
                    at = i;
                    break;
                }
            }
            remove(name);
            add(name, value);
            if (at >= 0 && at < fields.size() - 1) {
                fields.add(at, fields.remove(fields.size() - 1));
            }
            return this;
        }

        public Builder remove(String name) {
            String key = key(name);
            fields.removeIf(f -> f.key.equals(key));
            return this;
        }

        public HttpHeaders build() {
            return fields.isEmpty() ? EMPTY : new HttpHeaders(List.copyOf(fields));
        }
    }

    private static final class Field {
        final String name;
        final String key;
        final String value;

        Field(String name, String key, String value) {
            this.name = name;
            this.key = key;
            this.value = value;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Field && ((Field) o).key.equals(key) && ((Field) o).value.equals(value);
        }

        @Override
        public int hashCode() {
            return key.hashCode() * 31 + value.hashCode();
        }
    }
}
