package io.slipstream.contract;

import io.slipstream.proto.v1.Role;
import java.util.Locale;

/** Converts between the {@link Role} enum and the short names used on command lines, JSON and metrics. */
public final class Roles {

    private Roles() {}

    /** {@code ROLE_WANOPT} -> {@code wanopt}. */
    public static String name(Role role) {
        if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
            throw new IllegalArgumentException("role: " + role + " (expected: wanopt, cache or gateway)");
        }
        return role.name().substring("ROLE_".length()).toLowerCase(Locale.ROOT);
    }

    /** {@code wanopt} -> {@code ROLE_WANOPT}; case-insensitive. */
    public static Role parse(String name) {
        if (name != null) {
            switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "wanopt":
                    return Role.ROLE_WANOPT;
                case "cache":
                    return Role.ROLE_CACHE;
                case "gateway":
                    return Role.ROLE_GATEWAY;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("role: '" + name + "' (expected: wanopt, cache or gateway)");
    }
}
