package io.slipstream.controller.standalone;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The bearer tokens the admin API accepts, each with a name and a role. Only SHA-256 hashes are kept;
 * a presented token is hashed and compared with every entry in constant time.
 *
 * <p>File format, one token a line ({@code #} comments and blank lines ignored): either
 * {@code name role sha256-hex-of-token} (preferred: the file holds no secret) or
 * {@code name:role:token}. Roles: {@code viewer} (reads) and {@code operator} (everything).
 */
public final class AdminTokens {

    /** What a token may do. */
    public enum Role {
        VIEWER, OPERATOR;

        static Role parse(String text) {
            switch (text.toLowerCase(Locale.ROOT)) {
                case "viewer":
                    return VIEWER;
                case "operator":
                    return OPERATOR;
                default:
                    throw new IllegalArgumentException("role: '" + text + "' (expected: viewer or operator)");
            }
        }
    }

    /** Who presented a valid token. */
    public static final class Principal {
        private final String name;
        private final Role role;

        Principal(String name, Role role) {
            this.name = name;
            this.role = role;
        }

        public String name() {
            return name;
        }

        public Role role() {
            return role;
        }
    }

    private static final class Entry {
        final Principal principal;
        final byte[] hash;

        Entry(Principal principal, byte[] hash) {
            this.principal = principal;
            this.hash = hash;
        }
    }

    private static final AdminTokens NONE = new AdminTokens(List.of());

    private final List<Entry> entries;

    private AdminTokens(List<Entry> entries) {
        this.entries = entries;
    }

    /** No tokens. */
    public static AdminTokens none() {
        return NONE;
    }

    /** Tokens from a file in the format of the class comment. */
    public static AdminTokens load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("admin tokens file: '" + file + "' (expected: a readable file; " + e + ")");
        }
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("admin tokens file '" + file + "': " + e.getMessage());
        }
    }

    /** Parses the text of a tokens file; messages name the line, never the token. */
    public static AdminTokens parse(String text) {
        List<Entry> entries = new ArrayList<>();
        Set<String> names = new HashSet<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "line " + (i + 1) + ": ";
            String name;
            String role;
            byte[] hash;
            String[] words = line.split("\\s+");
            if (words.length == 3) {
                name = words[0];
                role = words[1];
                if (!words[2].matches("[0-9a-fA-F]{64}")) {
                    throw new IllegalArgumentException(where + "third field is not a SHA-256 hex digest "
                            + "(expected: name role sha256-hex, or name:role:token)");
                }
                hash = hex(words[2]);
            } else if (words.length == 1 && line.split(":", 3).length == 3) {
                String[] parts = line.split(":", 3);
                name = parts[0];
                role = parts[1];
                if (parts[2].length() < 16) {
                    throw new IllegalArgumentException(where + "token of '" + name + "' has " + parts[2].length()
                            + " characters (expected: at least 16)");
                }
                hash = sha256(parts[2]);
            } else {
                throw new IllegalArgumentException(where + "expected 'name role sha256-hex' or 'name:role:token'");
            }
            if (!name.matches("[A-Za-z0-9._@-]{1,64}")) {
                throw new IllegalArgumentException(where + "name '" + name
                        + "' (expected: 1-64 letters, digits, '.', '_', '@' or '-')");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException(where + "name '" + name + "' appears twice (expected: unique names)");
            }
            try {
                entries.add(new Entry(new Principal(name, Role.parse(role)), hash));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + e.getMessage());
            }
        }
        return new AdminTokens(Collections.unmodifiableList(entries));
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The principal whose token this is; compares against every entry in constant time. */
    public Optional<Principal> authenticate(String token) {
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        byte[] presented = sha256(token);
        Principal found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.hash, presented) && found == null) {
                found = e.principal;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The lower-case hex SHA-256 of a token, as the file's hashed form wants it. */
    public static String hashHex(String token) {
        return hex(sha256(token));
    }

    /** Lower-case hex of the SHA-256 of raw bytes. */
    static String sha256Hex(byte[] bytes) {
        try {
            return hex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    private static byte[] hex(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
