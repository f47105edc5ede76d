package io.slipstream.common;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;

/**
 * The digest identity a Slipstream process shows ZooKeeper, and the ACLs it puts on what it creates.
 *
 * <p>Credentials come from a file, never from the command line: either a properties file
 * ({@code user=...}, {@code password=...}, optionally {@code fleet.digests=user:BASE64,...}) or a
 * single {@code user:password} line. With credentials, every node the process creates (registration
 * nodes and their parent containers) carries: ALL for the creator's identity (the {@code auth}
 * scheme), ALL for each extra fleet digest (other identities allowed to register beside it), and
 * READ for everyone -- the registrations hold only endpoints, and operators' tools and probes read
 * them without credentials. Nobody without the fleet's credentials can create, change or delete a
 * registration. Without credentials the process behaves as before (open ACLs) and says so.
 *
 * <p>The password is kept only in memory and never appears in {@link #toString()}.
 */
public final class ZooKeeperAuth {

    /** Environment variable naming the credentials file when no option gives one. */
    public static final String ENV = "SLIPSTREAM_ZK_AUTH";

    private static final ZooKeeperAuth NONE = new ZooKeeperAuth(null, null, List.of());

    private Path file;
    private final String user;
    private final byte[] secret;
    private final List<String> fleetDigests;

    private ZooKeeperAuth(String user, byte[] secret, List<String> fleetDigests) {
        this.user = user;
        this.secret = secret;
        this.fleetDigests = fleetDigests;
    }

    /** No credentials: open ACLs, for development. */
    public static ZooKeeperAuth none() {
        return NONE;
    }

    /** Credentials from {@code file}, or {@link #none()} when {@code file} is null. */
    public static ZooKeeperAuth load(Path file) {
        if (file == null) {
            return NONE;
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("zookeeper auth file: '" + file
                    + "' (expected: a readable file with user=/password= lines or one user:password line; " + e + ")");
        }
        ZooKeeperAuth auth;
        try {
            auth = parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("zookeeper auth file '" + file + "': " + e.getMessage());
        }
        auth.file = file.toAbsolutePath();
        return auth;
    }

    /** Credentials from the file {@value #ENV} names, or {@link #none()} when it is unset or empty. */
    public static ZooKeeperAuth fromEnvironment() {
        String file = System.getenv(ENV);
        return file == null || file.isBlank() ? NONE : load(Path.of(file.strip()));
    }

    /** Parses the text of a credentials file; messages never contain the password. */
    public static ZooKeeperAuth parse(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\\R")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("#")) {
                lines.add(l);
            }
        }
        String user;
        String password;
        String digests = "";
        if (lines.size() == 1 && !lines.get(0).contains("=")) {
            int colon = lines.get(0).indexOf(':');
            if (colon <= 0 || colon == lines.get(0).length() - 1) {
                throw new IllegalArgumentException("expected one user:password line or user=/password= properties");
            }
            user = lines.get(0).substring(0, colon);
            password = lines.get(0).substring(colon + 1);
        } else {
            Properties p = new Properties();
            try {
                p.load(new StringReader(text));
            } catch (IOException e) {
                throw new IllegalArgumentException("unreadable properties: " + e.getMessage());
            }
            for (String key : p.stringPropertyNames()) {
                if (!key.equals("user") && !key.equals("password") && !key.equals("fleet.digests")) {
                    throw new IllegalArgumentException("unknown key '" + key + "' (expected: user, password, fleet.digests)");
                }
            }
            user = p.getProperty("user", "").strip();
            password = p.getProperty("password", "").strip();
            digests = p.getProperty("fleet.digests", "").strip();
        }
        if (!user.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("user: '" + user + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        }
        if (password.length() < 8) {
            throw new IllegalArgumentException("password of '" + user + "' has " + password.length()
                    + " characters (expected: at least 8)");
        }
        List<String> fleet = new ArrayList<>();
        for (String d : digests.split(",")) {
            String digest = d.strip();
            if (digest.isEmpty()) {
                continue;
            }
            if (!digest.matches("[A-Za-z0-9._-]{1,64}:[A-Za-z0-9+/]{27}=")) {
                throw new IllegalArgumentException("fleet.digests entry '" + digest
                        + "' (expected: user:BASE64 as printed by DigestAuthenticationProvider.generateDigest)");
            }
            fleet.add(digest);
        }
        return new ZooKeeperAuth(user, (user + ":" + password).getBytes(StandardCharsets.UTF_8),
                Collections.unmodifiableList(fleet));
    }

    /** Whether credentials are configured. */
    public boolean enabled() {
        return user != null;
    }

    /** The file the credentials came from (for processes started with the same), or {@code null}. */
    public Path file() {
        return file;
    }

    /** The digest user, or {@code null}. */
    public String user() {
        return user;
    }

    /** {@code user:password} bytes for Curator's {@code authorization("digest", ...)}; a copy. */
    byte[] secret() {
        return secret.clone();
    }

    /** The ACL id ZooKeeper derives from a {@code user:password} pair ({@code user:BASE64(SHA1)}). */
    public static String digestOf(String userColonPassword) {
        // Same as ZooKeeper's DigestAuthenticationProvider.generateDigest, without importing its server package.
        try {
            byte[] sha1 = java.security.MessageDigest.getInstance("SHA1")
                    .digest(userColonPassword.getBytes(StandardCharsets.UTF_8));
            return userColonPassword.substring(0, userColonPassword.indexOf(':')) + ":"
                    + java.util.Base64.getEncoder().encodeToString(sha1);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA1 missing from this JVM", e);
        }
    }

    /** The ACLs of every node this process creates, as described in the class comment. */
    public List<ACL> acl() {
        if (!enabled()) {
            return ZooDefs.Ids.OPEN_ACL_UNSAFE;
        }
        List<ACL> acl = new ArrayList<>();
        acl.add(new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS));
        for (String digest : fleetDigests) {
            acl.add(new ACL(ZooDefs.Perms.ALL, new Id("digest", digest)));
        }
        acl.add(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE));
        return Collections.unmodifiableList(acl);
    }

    /** The same ACLs for every path, parents included. */
    public ACLProvider aclProvider() {
        List<ACL> acl = acl();
        return new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return acl;
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return acl;
            }
        };
    }

    @Override
    public String toString() {
        return enabled() ? "digest user '" + user + "' (+" + fleetDigests.size() + " fleet digests)" : "none";
    }
}
