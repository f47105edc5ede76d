package io.slipstream.contract.steering;

import java.nio.charset.StandardCharsets;

/**
 * The bucket of a flow or of a key: a stable 64-bit hash (spelled out, the same in every process and
 * version) reduced to {@code bucketCount} buckets, a power of two.
 */
public final class FlowHash {

    /** Buckets per policy and site unless the fleet policy says otherwise. */
    public static final int DEFAULT_BUCKETS = 256;
    /** The largest bucket count. */
    public static final int MAX_BUCKETS = 65536;

    private FlowHash() {
    }

    /** The bucket of a flow's 5-tuple (the ingress site does not count). */
    public static int bucket(FlowKey flow, int bucketCount) {
        checkBucketCount(bucketCount);
        long h = OFFSET;
        h = mix(h, flow.src().getAddress());
        h = mixInt(h, flow.srcPort());
        h = mix(h, flow.dst().getAddress());
        h = mixInt(h, flow.dstPort());
        h = mixInt(h, flow.protocol());
        return (int) (fmix(h) & (bucketCount - 1));
    }

    /** The bucket of a string key (e.g. a cache key). */
    public static int bucket(String key, int bucketCount) {
        checkBucketCount(bucketCount);
        return (int) (fmix(mix(OFFSET, key.getBytes(StandardCharsets.UTF_8))) & (bucketCount - 1));
    }

    /**
     * Checks that {@code bucketCount} is a power of two in 1..{@value #MAX_BUCKETS}.
     *
     * @throws IllegalArgumentException otherwise
     */
    public static int checkBucketCount(int bucketCount) {
        if (bucketCount < 1 || bucketCount > MAX_BUCKETS || Integer.bitCount(bucketCount) != 1) {
            throw new IllegalArgumentException("bucket_count: " + bucketCount
                    + " (expected: a power of two, 1.." + MAX_BUCKETS + ")");
        }
        return bucketCount;
    }

    private static final long OFFSET = 0xcbf29ce484222325L;
    private static final long PRIME = 0x100000001b3L;

    private static long mix(long h, byte[] bytes) {
        for (byte b : bytes) {
            h = (h ^ (b & 0xff)) * PRIME;
        }
        return (h ^ 0xff) * PRIME;
    }

    private static long mixInt(long h, int v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            h = (h ^ ((v >>> shift) & 0xff)) * PRIME;
        }
        return h;
    }

    private static long fmix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
