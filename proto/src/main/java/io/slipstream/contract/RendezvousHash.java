package io.slipstream.contract;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Weighted rendezvous (highest random weight) hashing: which member owns a key. Pure and deterministic
 * across processes and versions (the hash is spelled out here, not {@code String.hashCode()}), so the
 * controller, the gateway and every cache worker agree on owners. Removing a member moves only the keys it
 * owned; adding one moves to it only the keys it now wins. Each member's share is proportional to its
 * weight (0 counts as 1), using the logarithmic method: score = -weight / ln(u), u in (0, 1) from the hash.
 */
public final class RendezvousHash {

    private RendezvousHash() {
    }

    /**
     * The member that owns {@code key}; ties (practically impossible) go to the smaller id.
     *
     * @throws IllegalArgumentException if {@code members} is empty
     */
    public static <T> T owner(String key, List<T> members, Function<T, String> id, ToIntFunction<T> weight) {
        Objects.requireNonNull(key, "key");
        if (members.isEmpty()) {
            throw new IllegalArgumentException("members: none (expected: at least one member to own the key)");
        }
        T best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        String bestId = null;
        for (T m : members) {
            String mid = id.apply(m);
            double score = score(mid, key, weight.applyAsInt(m));
            if (score > bestScore || (score == bestScore && mid.compareTo(bestId) < 0)) {
                best = m;
                bestScore = score;
                bestId = mid;
            }
        }
        return best;
    }

    /** The weighted score of {@code memberId} for {@code key}. */
    public static double score(String memberId, String key, int weight) {
        long h = hash(memberId, key);
        // 53 high bits -> u in (0, 1), never 0 or 1.
        double u = ((h >>> 11) + 0.5) / (double) (1L << 53);
        return -Math.max(1, weight) / Math.log(u);
    }

    /** 64-bit FNV-1a over UTF-8 {@code memberId}, a 0 byte and {@code key}, finished with murmur3's fmix64. */
    public static long hash(String memberId, String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : memberId.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = (h ^ 0) * 0x100000001b3L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
