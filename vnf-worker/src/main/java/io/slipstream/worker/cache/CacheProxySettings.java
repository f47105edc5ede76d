package io.slipstream.worker.cache;

import io.slipstream.common.HostPort;
import java.net.URI;
import java.time.Clock;
import java.util.Objects;

/**
 * How the cache role's proxy starts. Built with {@link #builder()}; every limit has a default fit for a
 * worker and is checked with a message that names what was expected.
 */
public final class CacheProxySettings {

    public static final long DEFAULT_MAX_BYTES = 256L << 20;
    public static final long DEFAULT_MAX_OBJECT_BYTES = 16L << 20;
    /** The disk tier's default bound when a directory is given. */
    public static final long DEFAULT_DISK_BYTES = 10L << 30;
    public static final int DEFAULT_MAX_REQUEST_BODY_BYTES = 1 << 20;
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
    public static final int DEFAULT_MAX_INITIAL_LINE_BYTES = 8 * 1024;
    public static final long DEFAULT_ORIGIN_TIMEOUT_MILLIS = 30_000;
    public static final int DEFAULT_MAX_HEADER_COUNT = 100;
    public static final long DEFAULT_HEAD_TIMEOUT_MILLIS = 10_000;
    public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 60_000;
    public static final int DEFAULT_PREOPEN = 2;
    public static final int DEFAULT_MAX_IDLE_PER_ORIGIN = 64;
    public static final String ADMIN_TOKEN_HEADER = "X-Slipstream-Admin-Token";
    /** Marks a request one shard member sends another for a key that one owns; answered locally, never re-sharded. */
    public static final String PEER_HEADER = "X-Slipstream-Peer";

    final String workerId;
    final String bindHost;
    final int port;
    final URI origin;
    final HostPort originAddress;
    final String adminToken;
    final long maxBytes;
    final long maxObjectBytes;
    final int maxRequestBodyBytes;
    final int maxHeaderBytes;
    final int maxInitialLineBytes;
    final long originTimeoutMillis;
    final int maxHeaderCount;
    final long headTimeoutMillis;
    final long idleTimeoutMillis;
    final int preopen;
    final int maxIdlePerOrigin;
    final int threads;
    final boolean forwardProxy;
    final Clock clock;
    /** Objects larger than this have their Range requests passed to the origin; 0: max_object_bytes. */
    final long rangePassthroughBytes;
    /** Own targeted cache-control fields (RFC 9213), before CDN-Cache-Control. */
    final java.util.List<String> cacheTargets;
    /** The disk tier's directory, or null for none. */
    final java.nio.file.Path diskDir;
    final long diskBytes;
    final DiskTier.Opener diskOpener;

    private CacheProxySettings(Builder b) {
        this.workerId = b.workerId;
        this.bindHost = b.bindHost;
        this.port = b.port;
        this.origin = b.origin;
        this.originAddress = b.origin == null ? null
                : HostPort.of(b.origin.getHost(), b.origin.getPort() > 0 ? b.origin.getPort() : 80);
        this.adminToken = b.adminToken;
        this.maxBytes = b.maxBytes;
        this.maxObjectBytes = b.maxObjectBytes;
        this.maxRequestBodyBytes = b.maxRequestBodyBytes;
        this.maxHeaderBytes = b.maxHeaderBytes;
        this.maxInitialLineBytes = b.maxInitialLineBytes;
        this.originTimeoutMillis = b.originTimeoutMillis;
        this.maxHeaderCount = b.maxHeaderCount;
        this.headTimeoutMillis = b.headTimeoutMillis;
        this.idleTimeoutMillis = b.idleTimeoutMillis;
        this.preopen = b.preopen;
        this.maxIdlePerOrigin = b.maxIdlePerOrigin;
        this.threads = b.threads;
        this.forwardProxy = b.forwardProxy;
        this.clock = b.clock;
        this.cacheTargets = b.cacheTargets;
        this.rangePassthroughBytes = b.rangePassthroughBytes;
        this.diskDir = b.diskDir;
        this.diskBytes = b.diskBytes;
        this.diskOpener = b.diskOpener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Parses an {@code --origin} value: {@code http://host:port} (no path, query or user info).
     *
     * @throws IllegalArgumentException naming what is expected
     */
    public static URI parseOrigin(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (Exception e) {
            throw new IllegalArgumentException("origin: '" + text + "' (expected: http://host:port)");
        }
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getRawUserInfo() != null
                || (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("origin: '" + text + "' (expected: http://host:port, no path)");
        }
        return uri;
    }

    public static final class Builder {
        private String workerId = "cache";
        private String bindHost = "127.0.0.1";
        private int port;
        private URI origin;
        private String adminToken;
        private long maxBytes = DEFAULT_MAX_BYTES;
        private long maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES;
        private int maxRequestBodyBytes = DEFAULT_MAX_REQUEST_BODY_BYTES;
        private int maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
        private int maxInitialLineBytes = DEFAULT_MAX_INITIAL_LINE_BYTES;
        private long originTimeoutMillis = DEFAULT_ORIGIN_TIMEOUT_MILLIS;
        private int maxHeaderCount = DEFAULT_MAX_HEADER_COUNT;
        private long headTimeoutMillis = DEFAULT_HEAD_TIMEOUT_MILLIS;
        private long idleTimeoutMillis = DEFAULT_IDLE_TIMEOUT_MILLIS;
        private int preopen = DEFAULT_PREOPEN;
        private int maxIdlePerOrigin = DEFAULT_MAX_IDLE_PER_ORIGIN;
        private int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        private boolean forwardProxy = true;
        private Clock clock = Clock.systemUTC();
        private java.util.List<String> cacheTargets = java.util.List.of();
        private long rangePassthroughBytes;
        private java.nio.file.Path diskDir;
        private long diskBytes = DEFAULT_DISK_BYTES;
        private DiskTier.Opener diskOpener = DiskTier.FILES;

        private Builder() {
        }

        public Builder workerId(String id) {
            this.workerId = Objects.requireNonNull(id, "workerId");
            return this;
        }

        public Builder bind(String host, int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " (expected: 0..65535, 0 for any free port)");
            }
            this.bindHost = Objects.requireNonNull(host, "host");
            this.port = port;
            return this;
        }

        /** Reverse proxy for this origin ({@code null}: forward proxy only). */
        public Builder origin(URI origin) {
            this.origin = origin == null ? null : parseOrigin(origin.toString());
            return this;
        }

        /** Token that PURGE requests must carry in {@value #ADMIN_TOKEN_HEADER}; {@code null} disables purge. */
        public Builder adminToken(String token) {
            if (token != null && token.isBlank()) {
                throw new IllegalArgumentException("admin token: blank (expected: a secret, or none)");
            }
            this.adminToken = token;
            return this;
        }

        /** Memory budget and largest stored object (0 keeps the default). */
        public Builder storeBytes(long maxBytes, long maxObjectBytes) {
            this.maxBytes = maxBytes == 0 ? DEFAULT_MAX_BYTES : maxBytes;
            this.maxObjectBytes = maxObjectBytes == 0 ? Math.min(DEFAULT_MAX_OBJECT_BYTES, this.maxBytes) : maxObjectBytes;
            if (this.maxBytes < 1 || this.maxObjectBytes < 1 || this.maxObjectBytes > this.maxBytes) {
                throw new IllegalArgumentException("store: " + this.maxBytes + " bytes, objects up to "
                        + this.maxObjectBytes + " (expected: both > 0, max object <= max bytes)");
            }
            return this;
        }

        public Builder maxRequestBodyBytes(int n) {
            this.maxRequestBodyBytes = positive("max request body bytes", n);
            return this;
        }

        public Builder maxHeaderBytes(int n) {
            this.maxHeaderBytes = positive("max header bytes", n);
            return this;
        }

        public Builder maxInitialLineBytes(int n) {
            this.maxInitialLineBytes = positive("max initial line bytes", n);
            return this;
        }

        public Builder originTimeoutMillis(long millis) {
            if (millis < 1) {
                throw new IllegalArgumentException("origin timeout: " + millis + " ms (expected: > 0)");
            }
            this.originTimeoutMillis = millis;
            return this;
        }

        /** Most header fields a request may have (more: 431). */
        public Builder maxHeaderCount(int n) {
            this.maxHeaderCount = positive("max header count", n);
            return this;
        }

        /**
         * How long a client may take to send a complete request head, from the connection's open or the
         * first byte of a later request (then 408 and close), and how long its body may take after the head
         * (then 408 and close) and a keep-alive connection with nothing owed may stay silent (then close);
         * 0 keeps the default.
         */
        public Builder clientTimeouts(long headMillis, long idleMillis) {
            long head = headMillis == 0 ? DEFAULT_HEAD_TIMEOUT_MILLIS : headMillis;
            long idle = idleMillis == 0 ? DEFAULT_IDLE_TIMEOUT_MILLIS : idleMillis;
            if (head < 1 || head > 3_600_000 || idle < 1 || idle > 3_600_000) {
                throw new IllegalArgumentException("client timeouts: head " + headMillis + " ms, idle " + idleMillis
                        + " ms (expected: 1..3600000 ms each, 0 for the default)");
            }
            this.headTimeoutMillis = head;
            this.idleTimeoutMillis = idle;
            return this;
        }

        /** Connections opened to the origin per event loop at start. */
        public Builder preopen(int n) {
            if (n < 0 || n > 64) {
                throw new IllegalArgumentException("preopen: " + n + " (expected: 0..64)");
            }
            this.preopen = n;
            return this;
        }

        public Builder threads(int n) {
            if (n < 1 || n > 64) {
                throw new IllegalArgumentException("threads: " + n + " (expected: 1..64)");
            }
            this.threads = n;
            return this;
        }

        /** Whether absolute-form requests ({@code GET http://host/...}) are proxied to their host. */
        public Builder forwardProxy(boolean on) {
            this.forwardProxy = on;
            return this;
        }

        /**
         * This cache's own targeted cache-control fields (RFC 9213), most specific first, e.g.
         * {@code Slipstream-Cache-Control}; they take precedence over {@code CDN-Cache-Control}.
         */
        public Builder cacheTargets(java.util.List<String> targets) {
            this.cacheTargets = io.slipstream.worker.cache.policy.TargetedCacheControl.checkTargets(targets);
            return this;
        }

        /**
         * Range requests for objects larger than this (learnt from a response's Content-Length) go to the
         * origin with their Range instead of fetching the whole object; 0 (default): the largest storable
         * object ({@code max_object_bytes}), so only objects the store cannot hold pass ranges through.
         */
        public Builder rangePassthroughBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("rangePassthroughBytes: " + bytes
                        + " (expected: >= 0, 0 for max_object_bytes)");
            }
            this.rangePassthroughBytes = bytes;
            return this;
        }

        /**
         * A disk tier in {@code dir} holding at most {@code maxBytes} of objects (docs/cache.md, "Disk tier");
         * {@code dir} null: none.
         */
        public Builder diskTier(java.nio.file.Path dir, long maxBytes) {
            if (dir != null && maxBytes < 1) {
                throw new IllegalArgumentException("cache disk bytes: " + maxBytes + " (expected: > 0)");
            }
            this.diskDir = dir;
            this.diskBytes = maxBytes;
            return this;
        }

        /** How the disk tier opens files for writing (tests inject a failing disk). */
        Builder diskOpener(DiskTier.Opener opener) {
            this.diskOpener = opener;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        public CacheProxySettings build() {
            return new CacheProxySettings(this);
        }

        private static int positive(String what, int n) {
            if (n < 1) {
                throw new IllegalArgumentException(what + ": " + n + " (expected: > 0)");
            }
            return n;
        }
    }
}
