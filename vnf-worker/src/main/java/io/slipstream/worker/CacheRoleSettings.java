package io.slipstream.worker;

import io.slipstream.proto.v1.Role;
import io.slipstream.worker.cache.CacheProxySettings;
import io.slipstream.worker.cache.policy.TargetedCacheControl;
import java.nio.file.Path;
import java.util.List;

/**
 * The cache role: what it proxies, who may purge, and where it keeps objects. Built by name:
 * {@link #defaults()} then the {@code with...} methods.
 *
 * @param origin the origin it reverse-proxies ({@code http://host:port}), or {@code null}: an explicit forward proxy
 * @param adminToken the token PURGE requests must carry, or {@code null} (purge disabled)
 * @param targets own targeted cache-control fields (RFC 9213), before CDN-Cache-Control
 * @param disk the disk tier's directory and bound, or {@link Disk#OFF}
 * @param clientTimeouts HTTP client head and idle timeouts
 */
public record CacheRoleSettings(
        String origin,
        String adminToken,
        List<String> targets,
        Disk disk,
        ClientTimeouts clientTimeouts) implements RoleSettings {

    /** The disk tier: its directory and bound, or {@link #OFF}. */
    public record Disk(Path dir, long bytes) {
        public static final Disk OFF = new Disk(null, 0);

        public Disk {
            if (dir != null && bytes < (1 << 20)) {
                throw new IllegalArgumentException("cache disk: " + bytes + " bytes (expected: >= 1 MiB)");
            }
        }
    }

    public CacheRoleSettings {
        targets = TargetedCacheControl.checkTargets(targets == null ? List.of() : targets);
        disk = disk == null ? Disk.OFF : disk;
        clientTimeouts = clientTimeouts == null ? ClientTimeouts.DEFAULT : clientTimeouts;
        if (origin != null) {
            CacheProxySettings.parseOrigin(origin);
        }
    }

    /** A forward proxy in memory only, purge disabled, the default client timeouts. */
    public static CacheRoleSettings defaults() {
        return new CacheRoleSettings(null, null, List.of(), Disk.OFF, ClientTimeouts.DEFAULT);
    }

    @Override
    public Role role() {
        return Role.ROLE_CACHE;
    }

    @Override
    public DataPlane dataPlane(WorkerSettings worker) {
        return new CacheDataPlane(worker, this);
    }

    public CacheRoleSettings withOrigin(String origin) {
        return new CacheRoleSettings(origin, adminToken, targets, disk, clientTimeouts);
    }

    public CacheRoleSettings withAdminToken(String adminToken) {
        return new CacheRoleSettings(origin, adminToken, targets, disk, clientTimeouts);
    }

    public CacheRoleSettings withTargets(List<String> targets) {
        return new CacheRoleSettings(origin, adminToken, targets, disk, clientTimeouts);
    }

    public CacheRoleSettings withDisk(Disk disk) {
        return new CacheRoleSettings(origin, adminToken, targets, disk, clientTimeouts);
    }

    public CacheRoleSettings withClientTimeouts(ClientTimeouts clientTimeouts) {
        return new CacheRoleSettings(origin, adminToken, targets, disk, clientTimeouts);
    }
}
